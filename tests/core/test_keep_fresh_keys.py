"""What a connection says about being kept fresh in the editor: `auto_refresh` and an
`export` table in each of TOML's forms (read by the language server's auto-refresh)."""

from __future__ import annotations

import pytest

from snowauth.analysis import analyze

HEAD = '[connections.dev]\ninstance = "dev12345"\n'


@pytest.mark.parametrize(
    "text",
    [
        HEAD + '\n[connections.dev.export]\ndotenv = ".env"\n',
        HEAD + "\n[connections.dev.export]\n",
        HEAD + 'export.dotenv = ".env"\n',
        HEAD + 'export = { dotenv = ".env", postman = "p.json" }\n',
        '[connections]\ndev.instance = "dev12345"\ndev.export.http_client = "http-client.private.env.json"\n',
    ],
)
def test_an_export_table_in_any_form(text: str) -> None:
    c = analyze(text).connections["dev"]
    assert c.has_exports
    assert not c.auto_refresh


@pytest.mark.parametrize(
    "text",
    [
        HEAD,
        HEAD + "\n[connections.dev.token]\nexport = 1\n",
        HEAD + 'exports = { dotenv = ".env" }\n',
        HEAD + '\n[connections.other]\nexport.dotenv = ".env"\n',
    ],
)
def test_no_export_table(text: str) -> None:
    assert not analyze(text).connections["dev"].has_exports


@pytest.mark.parametrize(("value", "on"), [("true", True), ("false", False), ('"true"', False), ("1", False)])
def test_auto_refresh_is_on_only_when_true(value: str, on: bool) -> None:
    a = analyze(f"{HEAD}auto_refresh = {value}\n")
    assert a.connections["dev"].auto_refresh is on
    codes = {f.code for f in a.findings if f.connection == "dev" or f.start >= len(HEAD)}
    assert ("wrong-type" in codes) is (value in ('"true"', "1"))
