"""The VS Code extension's snippets, expanded with their defaults as a person accepting
them gets them, checked by the real `snowauth check`: one per grant and the SDK client,
and the export table; no problem at all once their ${env:} references are set."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from tests.kit.cli import run_snowauth
from tests.kit.snippets import body_text, expand, load_snippets

SNIPPETS = load_snippets()
CONNECTIONS = {name: s for name, s in SNIPPETS.items() if not str(s["prefix"]).endswith("-export")}
ENV = {
    "SNOW_CLIENT_SECRET": "snippet-client-secret",
    "SNOW_PASSWORD": "snippet-password",
    "SNOW_REFRESH_TOKEN": "snippet-refresh",
}
SECRET_KEYS = ("client_secret", "password", "refresh_token")


def check_json(folder: Path) -> list[dict[str, object]]:
    r = run_snowauth("check", "--format", "json", str(folder), env={**os.environ, **ENV})
    rows: list[dict[str, object]] = json.loads(r.stdout)
    assert r.returncode == (1 if any(row["severity"] == "error" for row in rows) else 0), r.stderr
    for secret in ENV.values():
        assert secret not in r.stdout + r.stderr
    return rows


def only_connection(text: str) -> tuple[str, dict[str, object]]:
    connections = tomllib.loads(text)["connections"]
    assert len(connections) == 1, text
    ((name, keys),) = connections.items()
    return name, keys


def test_one_snippet_per_grant_and_for_the_sdk_client() -> None:
    grants = set()
    for s in CONNECTIONS.values():
        _, keys = only_connection(expand(body_text(s)))
        grants.add(keys.get("grant_type", f"client={keys.get('client')}"))
    assert grants == {
        "password",
        "client_credentials",
        "authorization_code",
        "jwt_bearer",
        "refresh_token",
        "client=servicenow-sdk",
    }
    assert [s["prefix"] for s in SNIPPETS.values()].count("snowauth-export") == 1
    assert len({s["prefix"] for s in SNIPPETS.values()}) == len(SNIPPETS)


@pytest.mark.parametrize("name", sorted(CONNECTIONS))
def test_a_snippet_expanded_with_its_defaults_checks_clean(name: str, tmp_path: Path) -> None:
    text = expand(body_text(CONNECTIONS[name]))
    _, keys = only_connection(text)
    for key in SECRET_KEYS:
        if key in keys:
            assert str(keys[key]).startswith(("${env:", "${prompt}")), f"{name}: {key} is not a reference"
    if "jwt_key_file" in keys:
        (tmp_path / str(keys["jwt_key_file"])).write_text("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
    (tmp_path / "snippet.snowauth.toml").write_text(text, encoding="utf-8")
    assert check_json(tmp_path) == []


def test_the_export_snippet_after_a_connection_snippet_checks_clean(tmp_path: Path) -> None:
    (export,) = (s for s in SNIPPETS.values() if s["prefix"] == "snowauth-export")
    (password,) = (s for s in SNIPPETS.values() if s["prefix"] == "snowauth-password")
    text = expand(body_text(password)) + expand(body_text(export))
    assert tomllib.loads(text)["connections"]["dev"]["export"] == {"dotenv": ".env"}
    (tmp_path / "snippet.snowauth.toml").write_text(text, encoding="utf-8")
    assert check_json(tmp_path) == []


def test_a_snippet_with_an_unset_reference_is_reported(tmp_path: Path) -> None:
    """The check above can fail: the same snippet without its variable is a finding."""
    (password,) = (s for s in SNIPPETS.values() if s["prefix"] == "snowauth-password")
    text = expand(body_text(password)).replace("SNOW_PASSWORD", "SNOW_SNIPPET_UNSET")
    (tmp_path / "snippet.snowauth.toml").write_text(text, encoding="utf-8")
    assert [row["code"] for row in check_json(tmp_path)] == ["unresolved-reference"]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("a ${1:x${2:y}} $0b", "a xy b"),
        ("\\${env:${1:N}\\}", "${env:N}"),
        ("${1|one,two|}", "one"),
    ],
)
def test_expand_keeps_defaults(body: str, text: str) -> None:
    assert expand(body) == text


@pytest.mark.parametrize("body", ["$TM_FILENAME", "${TM_FILENAME}", "${1/a/b/}", "${1:x"])
def test_expand_refuses_what_it_does_not_read(body: str) -> None:
    with pytest.raises(ValueError):
        expand(body)
