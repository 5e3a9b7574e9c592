"""Register OAuth Client through the language server, over stdio with a real LSP client,
against the emulator over loopback HTTP and HTTPS: the admin asked once (user name
shown as typed, password hidden, neither remembered), the record made, the file edited
through workspace/applyEdit and the secret in the .env beside it, then Fetch Token with
the new client; refusals that change nothing; the lens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth import instance_records as ir
from snowauth.analysis import analyze
from snowauth.checks import REGISTER_TITLE
from snowauth.emulator import Emulator
from snowauth.lsp import ext
from tests.kit.emulator import ADMIN, ADMIN_PASSWORD, DEMO_ID
from tests.kit.http import free_port
from tests.kit.lsp import Editor, diagnostics, session_fixture
from tests.kit.register import (
    APP_USER,
    NOT_ADMIN,
    AtTheEditor,
    mode,
    record_of,
    records,
    register_instance,
    unregistered,
)

client = session_fixture()
ADMIN_ANSWERS = {"admin_username": ADMIN, "admin_password": ADMIN_PASSWORD}


@pytest.fixture(params=["http", "https"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Emulator, str, str | None]]:
    """The demo instance (client credentials on, sign-ins approved at once) over HTTP or
    TLS; the `ca_bundle = …` line for it and the CA file."""
    with register_instance(request.param, tmp_path) as running:
        yield running


def connection_file(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / "dev.snowauth.toml"
    return path, path.as_uri()


async def run(client: LanguageClient, **arg: object) -> Any:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=ext.REGISTER_CLIENT, arguments=[arg])
    )


@pytest.mark.parametrize(
    ("grant", "extra", "arg", "public"),
    [
        ("password", "", {}, False),
        ("client_credentials", "", {"applicationUser": APP_USER}, False),
        ("authorization_code", "", {}, True),
        ("authorization_code", "pkce = false\n", {}, False),
    ],
    ids=["password", "client_credentials", "authcode-public", "authcode-confidential"],
)
async def test_register_then_fetch(
    client: LanguageClient,
    instance: tuple[Emulator, str, str | None],
    tmp_path: Path,
    grant: str,
    extra: str,
    arg: dict[str, str],
    public: bool,
) -> None:
    emu, tls, ca = instance
    if grant == "authorization_code":
        extra += f'redirect_uri = "http://127.0.0.1:{free_port()}/callback"\n'
    path, uri = connection_file(tmp_path)
    text = unregistered(emu.url, grant, extra=extra + tls)
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    person = AtTheEditor(client, ADMIN_ANSWERS)

    running = asyncio.ensure_future(run(client, uri=uri, connection="dev", **arg))
    if grant == "authorization_code":
        await person.browse(ca)
    result = await asyncio.wait_for(running, 30)

    assert result["fetched"] is True and result["connection"] == "dev"
    record = record_of(emu, result["client_id"], ca)
    assert record["sys_id"] == result["sys_id"]
    assert record[ir.ENTITY_PUBLIC_CLIENT] == ("true" if public else "false")
    # the admin asked once: the user name shown as typed, then the password; never remembered
    keys = [(p["key"], p.get("once"), p.get("password", True)) for p in person.prompts]
    assert keys == [("admin_username", True, False), ("admin_password", True, True)]
    assert any("Fetch the first token" in q or "fetch the first token" in q for q in person.questions)
    c = analyze(editor.texts[uri]).connections["dev"]
    assert c.keys["client_id"].value.data == result["client_id"]
    assert c.has_token
    dotenv = path.parent / ".env"
    if public:
        assert result["secret_file"] is None and not dotenv.exists()
    else:
        assert result["secret_file"] == str(dotenv) and mode(dotenv) == 0o600
        assert c.keys["client_secret"].value.data == "${env:SNOW_DEV_CLIENT_SECRET}"
        assert dotenv.read_text(encoding="utf-8").startswith("SNOW_DEV_CLIENT_SECRET=")
    assert ADMIN_PASSWORD not in repr(result) + editor.texts[uri]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"admin_username": NOT_ADMIN[0], "admin_password": NOT_ADMIN[1]}, "lacks the admin role"),
        ({"admin_username": ADMIN, "admin_password": "not-the-admin-password"}, "refused the admin credentials"),
    ],
    ids=["403-not-admin", "401-bad-password"],
)
async def test_refused_changes_nothing(
    client: LanguageClient, emulator: Emulator, tmp_path: Path, answers: dict[str, str], expected: str
) -> None:
    path, uri = connection_file(tmp_path)
    text = unregistered(emulator.url, "password")
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    AtTheEditor(client, answers)
    before = len(records(emulator))
    with pytest.raises(JsonRpcException) as info:
        await run(client, uri=uri, connection="dev")
    assert expected in str(info.value)
    assert answers["admin_password"] not in str(info.value)
    assert editor.texts[uri] == text and editor.applied == []
    assert not (path.parent / ".env").exists()
    assert len(records(emulator)) == before


async def test_cancelled_admin_prompt_sends_nothing(client: LanguageClient, emulator: Emulator, tmp_path: Path) -> None:
    path, uri = connection_file(tmp_path)
    text = unregistered(emulator.url, "password")
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    AtTheEditor(client, {"admin_username": ADMIN})  # the password box cancelled
    requests = len(emulator.requests)
    with pytest.raises(JsonRpcException) as info:
        await run(client, uri=uri, connection="dev")
    assert "No admin password was entered" in str(info.value)
    assert len(emulator.requests) == requests and editor.applied == []


async def test_the_lens_offers_register_only_without_a_client(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    path, uri = connection_file(tmp_path)
    text = (
        unregistered(emulator.url, "password")
        + f"""
[connections.registered]
instance = "{emulator.url}"
grant_type = "client_credentials"
client_id = "{DEMO_ID}"
client_secret = "${{env:SNOW_X}}"

[connections.sdk]
instance = "{emulator.url}"
grant_type = "authorization_code"
client = "servicenow-sdk"
"""
    )
    path.write_text(text, encoding="utf-8")
    Editor(client).open(uri, text)
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(uri)))
    by_line = {}
    for lens in lenses or []:
        assert lens.command is not None
        by_line.setdefault(lens.range.start.line, []).append((lens.command.title, lens.command.command))
    lines = text.splitlines()
    dev, registered, sdk = (
        lines.index(h) for h in ("[connections.dev]", "[connections.registered]", "[connections.sdk]")
    )
    assert by_line[dev] == [("Register OAuth Client", ext.REGISTER_CLIENT)]
    assert ext.REGISTER_CLIENT not in [command for _title, command in by_line[registered]]
    assert ext.REGISTER_CLIENT not in [command for _title, command in by_line.get(sdk, [])]


async def test_the_missing_client_id_quick_fix_registers(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    """The problem "missing `client_id`" offers Register OAuth Client as a code action; its
    command, run as the editor runs it, registers the client and writes `client_id`."""
    path, uri = connection_file(tmp_path)
    text = unregistered(emulator.url, "password")
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    AtTheEditor(client, ADMIN_ANSWERS)
    diags = await diagnostics(client, uri, 1)
    (missing,) = [d for d in diags if d.code == "missing-key" and "`client_id`" in d.message]
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(uri), missing.range, t.CodeActionContext([missing]))
    )
    # a command-only CodeAction may be read back as a Command (tests/lsp/test_session_features.py)
    (action,) = [a for a in actions or [] if a.title == REGISTER_TITLE]
    shown = repr(action).replace("'", '"')
    assert ext.REGISTER_CLIENT in shown and '"connection": "dev"' in shown
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=ext.REGISTER_CLIENT, arguments=[{"uri": uri, "connection": "dev"}])
    )
    assert result["connection"] == "dev" and result["fetched"] is True
    assert analyze(editor.texts[uri]).connections["dev"].keys["client_id"].value.data == result["client_id"]


async def test_an_admin_connection_is_used_instead_of_asking(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    from tests.kit.emulator import DEMO_SECRET

    path, uri = connection_file(tmp_path)
    text = (
        unregistered(emulator.url, "password")
        + f"""
[connections.admin]
instance = "{emulator.url}"
grant_type = "password"
client_id = "{DEMO_ID}"
client_secret = "{DEMO_SECRET}"
username = "{ADMIN}"
password = "${{prompt}}"
"""
    )
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    person = AtTheEditor(client, {"password": ADMIN_PASSWORD}, fetch=False)
    await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=ext.FETCH_TOKEN, arguments=[{"uri": uri, "connection": "admin"}])
    )
    result = await run(client, uri=uri, connection="dev", adminConnection="admin")
    assert result["fetched"] is False and record_of(emulator, result["client_id"])
    assert [p["key"] for p in person.prompts] == ["password"]  # the admin connection's fetch only
    c = analyze(editor.texts[uri]).connections["dev"]
    assert c.keys["client_id"].value.data == result["client_id"] and not c.has_token
    with pytest.raises(JsonRpcException) as same:
        await run(client, uri=uri, connection="admin", adminConnection="admin")
    assert "another connection" in str(same.value)
