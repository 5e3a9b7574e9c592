"""The editor's Fetch, Refresh and Revoke token rewrite the files a connection exports its
token to (real files beside a real connection file), through the real language server
over stdio against the emulator; a file that cannot be written is a warning, and the
token is stored all the same."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from tests.kit.emulator import password_connection
from tests.kit.lsp import Editor, session_fixture

client = session_fixture(presets=("visual-studio-code", "neovim"))

EXPORTS = """
[connections.dev.export]
dotenv = ".env"
http_client = "http-client.private.env.json"
"""


def connection(url: str) -> str:
    return password_connection(url, secret="demo-client-secret", password="demo-password") + EXPORTS


async def command(client: LanguageClient, name: str, uri: str) -> object:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=name, arguments=[{"uri": uri, "connection": "dev"}])
    )


def stored_token(text: str) -> str:
    return str(analyze(text).connections["dev"].token["access_token"].value.data)


async def test_fetch_refresh_and_revoke_rewrite_the_exports(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "sn.snowauth.toml"
    text = connection(emulator.url)
    path.write_text(text)
    (tmp_path / ".env").write_text("# mine\r\nKEEP=1")
    (tmp_path / "http-client.private.env.json").write_text('{\n\t"prod": {\n\t\t"x": 1\n\t}\n}\n')
    editor = Editor(client)
    uri = path.as_uri()
    editor.open(uri, text)

    await command(client, "snowauth.fetchToken", uri)
    token = stored_token(editor.texts[uri])
    assert (tmp_path / ".env").read_bytes().decode() == (
        f"# mine\r\nKEEP=1\r\nSNOWAUTH_DEV_ACCESS_TOKEN={token}\r\nSNOWAUTH_DEV_INSTANCE_URL={emulator.url}\r\n"
    )
    assert (tmp_path / "http-client.private.env.json").read_text() == json.dumps(
        {"prod": {"x": 1}, "dev": {"instance_url": emulator.url, "access_token": token}}, indent="\t"
    ) + "\n"

    # the files are rewritten by Refresh token too (reset here, since ServiceNow may answer
    # a refresh with the same access token)
    (tmp_path / ".env").write_text("KEEP=1\n")
    await command(client, "snowauth.refreshToken", uri)
    assert (tmp_path / ".env").read_text() == (
        f"KEEP=1\nSNOWAUTH_DEV_ACCESS_TOKEN={stored_token(editor.texts[uri])}\nSNOWAUTH_DEV_INSTANCE_URL={emulator.url}\n"
    )

    await command(client, "snowauth.revokeToken", uri)
    assert (tmp_path / ".env").read_text() == "KEEP=1\n"
    assert json.loads((tmp_path / "http-client.private.env.json").read_text()) == {"prod": {"x": 1}}
    shown = [*(m.message for m in client.messages), *(m.message for m in client.log_messages)]
    assert not [m for m in shown if token in m]
    assert not [m for m in client.messages if m.type == t.MessageType.Warning]


async def test_a_file_that_cannot_be_written_is_a_warning(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "sn.snowauth.toml"
    text = connection(emulator.url)
    path.write_text(text)
    (tmp_path / "http-client.private.env.json").write_text("{ half")
    editor = Editor(client)
    uri = path.as_uri()
    editor.open(uri, text)
    result = await command(client, "snowauth.fetchToken", uri)
    assert isinstance(result, dict) and result["connection"] == "dev"
    token = stored_token(editor.texts[uri])  # stored in the file all the same
    assert f"SNOWAUTH_DEV_ACCESS_TOKEN={token}" in (tmp_path / ".env").read_text()
    assert (tmp_path / "http-client.private.env.json").read_text() == "{ half"

    async def warned() -> list[str]:
        while True:
            found = [m.message for m in client.messages if m.type == t.MessageType.Warning]
            if found:
                return found
            await asyncio.sleep(0.05)

    warnings = await asyncio.wait_for(warned(), 10)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "SnowAuth: “http-client.private.env.json” (export.http_client of “dev”) was not changed"
    )
    assert "not valid JSON" in warnings[0] and token not in warnings[0]
