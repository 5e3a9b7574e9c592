"""An editor without snowauth's prompt (`experimental.snowauth.promptSecret` not
declared, as Neovim): the paste-the-code sign-in cannot ask for the code, so it stops
before the browser opens and says to use `snowauth token` in a terminal."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from tests.kit.lsp import Editor, session_fixture

URI = "file:///tmp/snowauth-sdk/no-prompt.snowauth.toml"

client = session_fixture(prompt=False)


async def test_no_prompt_no_browser_and_a_clear_way_out(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    text = f'[connections.dev]\ninstance = "{emulator.url}"\nclient = "servicenow-sdk"\n'
    editor.open(URI, text)
    with pytest.raises(JsonRpcException) as failure:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": "dev"}])
        )
    assert "cannot ask for one" in str(failure.value) and "`snowauth token`" in str(failure.value)
    assert client.shown_documents == [] and emulator.token_requests == 0
    assert editor.texts[URI] == text
