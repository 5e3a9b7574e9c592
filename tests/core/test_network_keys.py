"""The corporate-network keys through the model: `proxy` (a URL; a password written in
it is a literal secret), `client_cert`/`client_key` (files beside the connection file:
missing, not PEM, outside the allowed folders), `client_key_password` (a secret), and
their hover, completion and schema entries, all from the one model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snowauth import model
from snowauth.findings import ERROR, WARNING
from snowauth.hover import hover
from snowauth.schema import json_schema
from tests.kit.analysis import codes, environment, one, password_keys, render, run
from tests.kit.clock import NOW

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"ftp://proxy.corp:21"', "http:// or https://"),
        ('"http://"', "names no host"),
        ('"http://proxy.corp:3128/path"', "only a scheme"),
        ('"http://proxy.corp:99999"', "not a URL"),
    ],
)
def test_a_proxy_that_is_not_a_proxy_url(value: str, problem: str) -> None:
    a = run(render("table", [*password_keys(), ("proxy", value)]))
    f = one(a, "invalid-value")
    assert f.severity == ERROR and problem in f.message


@pytest.mark.parametrize("value", ['"http://proxy.corp:3128"', '"https://proxy.corp"', '"${env:CORP_PROXY}"'])
def test_good_proxies_are_quiet(value: str) -> None:
    assert (
        run(render("table", [*password_keys(), ("proxy", value)]), environment(CORP_PROXY="http://p:1")).findings == []
    )


def test_a_password_in_the_proxy_url_is_a_literal_secret() -> None:
    a = run(render("table", [*password_keys(), ("proxy", '"http://alice:hunter2@proxy.corp:3128"')]))
    f = one(a, "literal-secret")
    assert f.severity == WARNING and "${env:NAME}" in f.message
    assert "hunter2" not in f.message


@pytest.mark.parametrize("key", ["client_cert", "client_key"])
def test_client_certificate_files(tmp_path: Path, key: str) -> None:
    text = render("table", [*password_keys(), (key, '"certs/me.pem"')])
    assert "missing-file" in codes(run(text, environment(tmp_path)))
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "me.pem").write_bytes(b"\x30\x82\x01\x0a binary DER")
    f = one(run(text, environment(tmp_path)), "not-pem")
    assert f.severity == WARNING and f"`{key}`" in f.message
    (tmp_path / "certs" / "me.pem").write_text(PEM)
    assert run(text, environment(tmp_path)).findings == []


def test_a_client_key_outside_the_allowed_folders(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "stolen.pem").write_text(PEM)
    a = run(render("table", [*password_keys(), ("client_key", '"../stolen.pem"')]), environment(work))
    assert "file-outside-roots" in codes(a)


def test_a_literal_client_key_password_is_a_literal_secret() -> None:
    a = run(render("table", [*password_keys(), ("client_key_password", '"open-sesame"')]))
    assert "literal-secret" in codes(a)
    quiet = run(
        render("table", [*password_keys(), ("client_key_password", '"${env:KEY_PW}"')]), environment(KEY_PW="x")
    )
    assert quiet.findings == []


@pytest.mark.parametrize("key", ["proxy", "client_cert", "client_key", "client_key_password"])
def test_hover_and_schema_come_from_the_model(key: str) -> None:
    text = render("table", [*password_keys(), (key, '"x.pem"')])
    shown = hover(run(text), text.index(key), NOW)
    assert shown is not None and f"**{key}**" in shown.markdown
    properties = json.dumps(json_schema())
    assert f'"{key}"' in properties
    assert model.CONNECTION_KEYS[key].summary
