"""A command's work-done progress when the client answers `window/workDoneProgress/create`
late or at once, and `workspace/executeCommand` reaching a command without arguments:
through a real client, against the emulator over loopback HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from tests.kit.lsp import Editor, answer_with, eventually, session_fixture
from tests.lsp.test_commands import SECRETS, URI, command, connection_file

client = session_fixture(presets=("visual-studio-code",), env=SECRETS)

TITLE = "SnowAuth: fetching a token for dev"


async def test_progress_created_late_begins_with_the_latest_step(client: LanguageClient, emulator: Emulator) -> None:
    """The client answers the progress' creation only once the token edit has reached it:
    the fetch did not wait for the answer, and the begin carries the step the fetch had
    reached ("Storing the token…"), then the end comes; no report in between."""
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    tokens: list[Any] = []

    async def create_late(params: t.WorkDoneProgressCreateParams) -> None:
        tokens.append(params.token)
        client.progress_reports.setdefault(params.token, [])
        await eventually(lambda: bool(editor.applied), "the token edit")

    answer_with(client, t.WINDOW_WORK_DONE_PROGRESS_CREATE, create_late)

    result = await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    assert isinstance(result, dict) and result["connection"] == "dev"
    assert len(editor.applied) == 1 and "[connections.dev.token]" in editor.texts[URI]
    assert len(tokens) == 1
    reports = client.progress_reports[tokens[0]]
    assert [type(r) for r in reports] == [t.WorkDoneProgressBegin, t.WorkDoneProgressEnd]
    begin = reports[0]
    assert isinstance(begin, t.WorkDoneProgressBegin)
    assert (begin.title, begin.message, begin.cancellable) == (TITLE, "Storing the token…", False)


async def test_progress_answered_at_once_reports_each_step(client: LanguageClient, emulator: Emulator) -> None:
    """Answered before the exchange is done, the progress shows each step as it comes."""
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    emulator.set_mode(slow=0.3)  # the answer to the creation comes long before the token
    await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    (reports,) = client.progress_reports.values()
    kinds = [type(r) for r in reports]
    assert kinds[0] is t.WorkDoneProgressBegin and kinds[-1] is t.WorkDoneProgressEnd
    messages = [r.message for r in reports if not isinstance(r, t.WorkDoneProgressEnd)]
    host = emulator.url.split("//", 1)[1].rsplit(":", 1)[0]
    assert messages[-1] == "Storing the token…"
    assert f"Requesting a token from {host}…" in messages
    assert all(isinstance(r, t.WorkDoneProgressReport) for r in reports[1:-1])


@pytest.mark.parametrize("arguments", [None, []])
async def test_command_without_arguments_says_what_it_needs(
    client: LanguageClient, emulator: Emulator, arguments: list[Any] | None
) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    with pytest.raises(JsonRpcException) as info:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=arguments)
        )
    assert 'needs the connection file\'s "uri"' in str(info.value)
    assert emulator.token_requests == 0


async def test_command_with_two_arguments_is_refused(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    with pytest.raises(JsonRpcException) as info:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI}, {"uri": URI}])
        )
    assert "takes one argument object" in str(info.value)
    assert emulator.token_requests == 0
