"""What the user reads after a command, through the real server over stdio: one message
per action, plain text (no markdown), a short first sentence that keeps the lockout
warning, the explanation behind an action, and a calm server log (stderr)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from snowauth.emulator import Emulator
from tests.kit.emulator import password_connection
from tests.kit.lsp import SERVER, Editor, raw_notify

SECRETS = {"SNOW_M_CLIENT_SECRET": "demo-client-secret", "SNOW_M_PASSWORD": "demo-password"}
URI = "file:///tmp/snowauth-msg/msg.snowauth.toml"
SHORT = 160  # what a notification shows on one line, roughly


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER,
        server_env={**os.environ, **SECRETS},
    ),
    params=["plain", "extension"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    """The "plain" client: Neovim's capabilities (the server says everything with showMessage);
    the "extension" client: VS Code's, declaring what the SnowAuth extension declares (it shows
    success messages itself, and failures may carry actions)."""
    extension = request.param == "extension"
    caps = client_capabilities("visual-studio-code" if extension else "neovim")
    own: dict[str, Any] = {"promptSecret": True}
    if extension:
        own.update(successMessages=True, messageActions=True)
    caps.experimental = {"snowauth": own}
    lsp_client.extension = extension  # type: ignore[attr-defined]
    lsp_client.questions = []  # type: ignore[attr-defined]
    lsp_client.answer = None  # type: ignore[attr-defined]

    @lsp_client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def question(params: t.ShowMessageRequestParams) -> t.MessageActionItem | None:
        lsp_client.questions.append(params)  # type: ignore[attr-defined]
        wanted = lsp_client.answer  # type: ignore[attr-defined]
        return next((a for a in params.actions or [] if a.title == wanted), None)

    await lsp_client.initialize_session(t.InitializeParams(capabilities=caps, initialization_options={"trusted": True}))
    yield lsp_client
    await lsp_client.shutdown_session()


def connection_file(url: str, password: str = "${env:SNOW_M_PASSWORD}") -> str:
    return password_connection(url, secret="${env:SNOW_M_CLIENT_SECRET}", password=password)


async def command(client: LanguageClient, name: str) -> Any:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=name, arguments=[{"uri": URI, "connection": "dev"}])
    )


async def settle() -> None:
    """Let notifications sent around the response arrive."""
    await asyncio.sleep(0.3)


def plain(text: str) -> None:
    assert "`" not in text and "*" not in text, f"markdown in a plain-text message: {text!r}"


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.removeprefix("SnowAuth: "), maxsplit=1)[0]


async def test_one_plain_message_per_successful_action(client: LanguageClient, emulator: Emulator) -> None:
    Editor(client).open(URI, connection_file(emulator.url))
    extension = client.extension  # type: ignore[attr-defined]
    for name, expected in (
        ("snowauth.fetchToken", "expires"),
        ("snowauth.testConnection", "integration.user"),
        ("snowauth.revokeToken", "revoked"),
    ):
        before = len(client.messages)
        await command(client, name)
        await settle()
        new = client.messages[before:]
        if extension:  # the extension shows the result: the server adds nothing
            assert new == [], f"{name}: {new}"
        else:
            assert len(new) == 1, f"{name}: {new}"
            assert new[0].type == t.MessageType.Info and expected in new[0].message
            plain(new[0].message)


async def test_refresh_returning_the_same_token_says_the_expiry_was_extended(
    client: LanguageClient, emulator: Emulator
) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    await command(client, "snowauth.fetchToken")
    before = len(client.messages)
    result = await command(client, "snowauth.refreshToken")
    await settle()
    # the emulator, like ServiceNow, gives the same access token back with a later expiry
    assert result["same_token"] is True and result["expires_at"]
    if client.extension:  # type: ignore[attr-defined]
        assert client.messages[before:] == []
        return
    (shown,) = client.messages[before:]
    local = result["expires_at"]  # in UTC; the message uses the local time of day
    assert "expiry extended to" in shown.message and "same token" in shown.message, shown.message
    # the local time of day, with the date when it is not today (an expiry past midnight)
    said = re.search(r"extended to (?:(\d{4}-\d{2}-\d{2}) )?(\d{2}:\d{2})\.", shown.message)
    assert said, shown.message
    expires = datetime.fromisoformat(local).astimezone()  # the result keeps the exact time, in UTC
    assert said[2] == expires.strftime("%H:%M"), (said[2], local)
    assert said[1] in (None, expires.strftime("%Y-%m-%d")), (said[1], local)
    plain(shown.message)


async def test_a_rejected_password_is_one_short_message_with_the_lockout_warning(
    client: LanguageClient, emulator: Emulator
) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url, password="not-the-password"))
    client.answer = "Show Problem"  # type: ignore[attr-defined]
    before = len(client.messages)
    with pytest.raises(JsonRpcException) as info:
        await command(client, "snowauth.fetchToken")
    assert "locked out" in str(info.value)  # the error response keeps the whole explanation
    await settle()
    questions: list[t.ShowMessageRequestParams] = client.questions  # type: ignore[attr-defined]
    shown = [m.message for m in client.messages[before:]] + [q.message for q in questions]
    assert len(shown) == 1, shown  # once, from one place
    text = shown[0]
    plain(text)
    assert len(text) <= SHORT, text
    assert len(first_sentence(text)) <= 100, text
    assert "rejected the password grant" in first_sentence(text)
    assert "lock the account" in text  # the warning is in the short part
    assert "not-the-password" not in text
    if client.extension:  # type: ignore[attr-defined]
        (asked,) = questions
        assert asked.type == t.MessageType.Error
        assert [a.title for a in asked.actions or []] == ["Show Problem"]
        # the action opens the file at the key to fix, where the diagnostic has the rest
        for _ in range(50):
            if client.shown_documents:
                break
            await asyncio.sleep(0.05)
        (doc,) = client.shown_documents
        assert doc.uri == URI and doc.selection is not None and doc.selection.start.line == 6
    else:
        assert questions == []  # a plain client gets no question to answer for a failure
        assert "Problems" in text or "problem" in text


async def test_a_long_failure_without_a_diagnostic_has_a_details_action(
    client: LanguageClient, emulator: Emulator
) -> None:
    """Test Connection's failures have no diagnostic: "Details" shows the rest."""
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    await command(client, "snowauth.fetchToken")
    client.answer = "Details"  # type: ignore[attr-defined]
    emulator.set_mode(hibernating=True)
    before = len(client.messages)
    try:
        with pytest.raises(JsonRpcException) as info:
            await command(client, "snowauth.testConnection")
    finally:
        emulator.set_mode(hibernating=False)
    full = str(info.value)
    assert "developer portal" in full
    await settle()
    questions: list[t.ShowMessageRequestParams] = client.questions  # type: ignore[attr-defined]
    messages = client.messages[before:]
    if client.extension:  # type: ignore[attr-defined]
        (asked,) = questions
        assert len(asked.message) <= SHORT and "hibernating" in asked.message
        assert [a.title for a in asked.actions or []] == ["Details"]
        # "Details": the whole explanation, as plain text
        (details,) = messages
        assert "developer portal" in details.message
        plain(details.message)
    else:
        (shown,) = messages
        assert len(shown.message) <= SHORT and "hibernating" in shown.message
        plain(shown.message)


async def test_every_failure_message_is_plain_text(client: LanguageClient, emulator: Emulator) -> None:
    """A connection that is not in the file, and one without a token: named without markdown."""
    Editor(client).open(URI, connection_file(emulator.url))
    for name in ("snowauth.testConnection", "snowauth.revokeToken"):
        before, asked = len(client.messages), len(client.questions)  # type: ignore[attr-defined]
        with pytest.raises(JsonRpcException):
            await command(client, name)
        await settle()
        texts = [m.message for m in client.messages[before:]]
        texts += [q.message for q in client.questions[asked:]]  # type: ignore[attr-defined]
        assert len(texts) == 1, texts
        assert "dev" in texts[0]
        plain(texts[0])


async def test_the_server_log_stays_calm(
    client: LanguageClient, emulator: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    """stderr (shown as errors by VS Code) gets neither pygls' benign warnings nor a
    traceback for an expected failure; the failure is one line through window/logMessage."""
    Editor(client).open(URI, connection_file(emulator.url, password="not-the-password"))
    raw_notify(client, "$/cancelRequest", {"id": 987654})  # a request that already finished
    raw_notify(client, "custom/somethingUnknown", {})
    before = len(client.log_messages)
    with pytest.raises(JsonRpcException):
        await command(client, "snowauth.fetchToken")
    emulator.set_mode(hibernating=True)
    with pytest.raises(JsonRpcException):
        await command(client, "snowauth.fetchToken")
    emulator.set_mode(hibernating=False)
    await settle()
    err = capfd.readouterr().err
    assert "Traceback" not in err and ' File "' not in err, err
    assert "unknown message id" not in err and "unknown method" not in err, err
    logged = [m for m in client.log_messages[before:] if "failed" in m.message]
    assert len(logged) == 2, [m.message for m in client.log_messages[before:]]
    assert all(m.type == t.MessageType.Warning and "\n" not in m.message for m in logged)
    assert all("not-the-password" not in m.message for m in logged)


async def test_list_connections_marks_a_default_only_when_the_file_names_one(client: LanguageClient) -> None:
    """Insert Token labels the default connection "(default)": only when `default` says so."""

    editor = Editor(client)

    async def listed(uri: str, text: str) -> list[tuple[str, bool]]:
        editor.open(uri, text)
        result = await client.protocol.send_request_async("snowauth/listConnections", {"uri": uri})
        return [(c.name, c.isDefault) for c in result.connections]

    assert await listed(URI.replace("msg.", "one."), connection_file("dev12345")) == [("dev", False)]
    named = 'default = "dev"\n' + connection_file("dev12345")
    assert await listed(URI.replace("msg.", "named."), named) == [("dev", True)]


async def test_test_connection_names_nobody_when_the_instance_drops_the_user_filter(
    client: LanguageClient, emulator: Emulator
) -> None:
    Editor(client).open(URI, connection_file(emulator.url))
    await command(client, "snowauth.fetchToken")
    emulator.set_mode(no_current_user=True, drop_user_filter=True)
    try:
        before = len(client.messages)
        result = await command(client, "snowauth.testConnection")
        await settle()
    finally:
        emulator.set_mode(no_current_user=False, drop_user_filter=False)
    assert result["connection"] == "dev" and "user_name" not in result
    assert ("GET", "/api/now/table/sys_user") in emulator.requests
    new = client.messages[before:]
    if client.extension:  # type: ignore[attr-defined]
        assert new == []
    else:
        assert len(new) == 1 and new[0].type == t.MessageType.Info
        assert "dev authenticates; the instance did not say as which user." in new[0].message
