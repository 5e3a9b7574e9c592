"""Inlay hints (core): the time left after every form of a stored token's expiry, the URL
after a bare instance name, where each `${env:}` value resolves from (never the value),
only in the range asked for, and when the time hints' wording changes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from snowauth.analysis import analyze
from snowauth.incremental import Incremental
from snowauth.inlay_hints import Hint, hints, next_change
from snowauth.secrets import Environment
from tests.kit.clock import NOW

TEXT = """# café ✓ 😀
[connections.dev]
instance = "dev12345"
password = "${env:SNOW_PW}"
client_secret = "${env:SNOW_SECRET}"
username = "${env:MISSING}"
[connections.dev.token]
access_token = "x"
expires_at = 2026-11-28T10:12:00Z
[connections.b]
instance = "https://b.example"
token = { access_token = "y", expires_at = 2026-11-28T07:00:00Z, refresh_expires_at = 2026-12-28T07:00:00Z }
[connections.c]
instance = "${env:SNOW_PW}"
token.access_token = "z"
token.expires_at = 2026-11-28T10:00:30+01:00
"""
PROCESS = {"SNOW_PW": "process-secret-value-1"}
DOTENV = "SNOW_SECRET=dotenv-secret-value-2\n"


def _after(text: str, needle: str) -> int:
    return text.index(needle) + len(needle)


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    (tmp_path / ".env").write_text(DOTENV, encoding="utf-8")
    return Environment(PROCESS, tmp_path)


def test_every_hint_of_the_file(env: Environment) -> None:
    found = hints(analyze(TEXT, env, NOW), 0, len(TEXT), env, NOW)
    assert [(h.offset, h.label) for h in found] == [
        (_after(TEXT, '"dev12345"'), "→ https://dev12345.service-now.com"),
        (_after(TEXT, '"${env:SNOW_PW}"'), "✓ environment"),
        (_after(TEXT, '"${env:SNOW_SECRET}"'), "✓ .env"),
        (_after(TEXT, '"${env:MISSING}"'), "✗ not set"),
        (_after(TEXT, "expires_at = 2026-11-28T10:12:00Z"), "in 12 min"),
        (_after(TEXT, "expires_at = 2026-11-28T07:00:00Z"), "expired 3 h ago"),
        (_after(TEXT, "refresh_expires_at = 2026-12-28T07:00:00Z"), "in 29 days"),
        (TEXT.rindex('"${env:SNOW_PW}"') + len('"${env:SNOW_PW}"'), "✓ environment"),
        (_after(TEXT, "token.expires_at = 2026-11-28T10:00:30+01:00"), "expired 59 min ago"),
    ]
    tooltips = {h.label: h.tooltip for h in found}
    assert tooltips["in 12 min"] == "The access token expires at 2026-11-28 10:12:00 UTC"
    assert tooltips["in 29 days"] == "The refresh token expires at 2026-12-28 07:00:00 UTC"
    assert "MISSING" in tooltips["✗ not set"] and ".env" in tooltips["✗ not set"]


def test_no_value_nor_length_of_a_variable_in_any_hint(env: Environment) -> None:
    found = hints(analyze(TEXT, env, NOW), 0, len(TEXT), env, NOW)
    shown = " ".join(f"{h.label} {h.tooltip}" for h in found)
    for secret in ("process-secret-value-1", "dotenv-secret-value-2"):
        assert secret not in shown
        assert str(len(secret)) not in shown
    # the instance of `c` comes from a variable: its URL is not shown
    assert "process-secret" not in shown and shown.count("→") == 1


def test_only_the_hints_in_the_range(env: Environment) -> None:
    a = analyze(TEXT, env, NOW)
    start, end = TEXT.index("[connections.b]"), TEXT.index("[connections.c]")
    found = hints(a, start, end, env, NOW)
    assert [h.label for h in found] == ["expired 3 h ago", "in 29 days"]
    assert hints(a, 0, TEXT.index("instance"), env, NOW) == []
    # a range that ends on a hint's place holds it
    at = _after(TEXT, '"dev12345"')
    assert [h.label for h in hints(a, at, at, env, NOW)] == ["→ https://dev12345.service-now.com"]


def test_the_live_analysis_gives_the_same_hints_after_edits(env: Environment) -> None:
    engine = Incremental(TEXT)
    engine.analysis(env, NOW)
    text = TEXT
    for needle, new in (("dev12345", "dev99"), ("10:12:00Z", "10:42:00Z"), ("# café", "# cafés")):
        at = text.index(needle)
        text = text[:at] + new + text[at + len(needle) :]
        engine.edit(text, at, at + len(needle), len(new))
        live = engine.analysis(env, NOW)
        for start, end in ((0, len(text)), (text.index("[connections.b]"), len(text)), (0, 40)):
            assert hints(live, start, end, env, NOW) == hints(analyze(text, env, NOW), start, end, env, NOW)
    assert "→ https://dev99.service-now.com" in [h.label for h in hints(live, 0, len(text), env, NOW)]


def test_nothing_after_a_url_a_bad_instance_or_a_local_time() -> None:
    env = Environment({}, None)
    text = (
        '[connections.a]\ninstance = "https://a.example"\n'
        '[connections.b]\ninstance = "not an instance"\n'
        '[connections.c]\ninstance = "${env:X"\ntoken.access_token = "t"\ntoken.expires_at = 2026-11-28T10:00:00\n'
    )
    assert hints(analyze(text, env, NOW), 0, len(text), env, NOW) == []


@pytest.mark.parametrize(
    ("left", "changes_in"),
    [
        (30.5, 0.5),  # "30 s" until 30 s are left
        (30.0, 1.0),  # exactly 30 s: "29 s" a second later
        (305.0, 5.0),  # "5 min" until 5 min are left
        (7300.0, 100.0),  # "2 h"
        (0.4, 0.4),  # "expired" at the expiry
        (-10.0, 1.0),  # "expired 10 s ago" becomes "11 s"
        (-125.0, 55.0),  # "expired 2 min ago" becomes "3 min"
    ],
)
def test_when_the_wording_changes(left: float, changes_in: float) -> None:
    when = NOW + timedelta(seconds=left)
    assert next_change([Hint(0, "", "", when)], NOW) == NOW + timedelta(seconds=changes_in)


def test_the_first_change_among_hints_and_none_without_a_time() -> None:
    soon, later = NOW + timedelta(seconds=90), NOW + timedelta(hours=5)
    assert next_change([Hint(0, "", "", later), Hint(1, "", ""), Hint(2, "", "", soon)], NOW) == NOW + timedelta(
        seconds=30
    )
    assert next_change([Hint(0, "→ x", "")], NOW) is None
