"""Authorization code with PKCE through the language server: the server asks the client
to open the browser (window/showDocument, external), the test follows that URL as a
browser would, the emulator redirects to the server's loopback listener, the code is
exchanged and the token written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.emulator import authcode_connection
from tests.kit.lsp import SERVER, Editor

URI = "file:///tmp/snowauth-authcode/code.snowauth.toml"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(auto_approve_user="integration.user") as emu, local_emulator(emu.url):
        yield emu


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(t.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield lsp_client
    await lsp_client.shutdown_session()


async def test_public_client_with_pkce(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, authcode_connection(emulator.url))
    fetch = asyncio.ensure_future(
        client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI}])
        )
    )
    for _ in range(200):  # the server asks the client to open the browser
        if client.shown_documents:
            break
        await asyncio.sleep(0.05)
    shown = client.shown_documents[-1]
    assert shown.external and shown.uri.startswith(emulator.url + "/oauth_auth.do?")
    assert "code_challenge_method=S256" in shown.uri and "state=" in shown.uri
    # the browser: the emulator approves and redirects to the server's loopback listener
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(shown.uri)
    assert page.status_code == 200
    result = await asyncio.wait_for(fetch, 20)
    assert isinstance(result, dict) and result["connection"] == "browser"
    token = analyze(editor.texts[URI]).connections["browser"].token
    assert token["access_token"].value.kind == "string" and "refresh_token" in token
