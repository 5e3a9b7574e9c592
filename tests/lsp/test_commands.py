"""The editor commands against the emulator, over real loopback HTTP, through a real
LSP client: fetch, refresh, revoke, test, insert, prompts, failures, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from tests.kit.lsp import Editor, session_fixture

SECRETS = {"SNOW_T_CLIENT_SECRET": "demo-client-secret", "SNOW_T_PASSWORD": "demo-password"}
URI = "file:///tmp/snowauth-cmd/cmd.snowauth.toml"
OTHER = "file:///tmp/snowauth-cmd/request.http"


client = session_fixture(presets=("visual-studio-code", "neovim"), env=SECRETS)


def connection_file(url: str, password: str = "${env:SNOW_T_PASSWORD}") -> str:
    return f"""# my connections — comments stay where they are
default = "dev"

[connections.dev]   # the developer instance
instance = "{url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_T_CLIENT_SECRET}}"
username = "integration.user"
password = "{password}"

# another connection follows
[connections.other]
instance = "dev99999"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_T_CLIENT_SECRET}}"
"""


async def command(client: LanguageClient, name: str, **arg: object) -> object:
    return await client.workspace_execute_command_async(t.ExecuteCommandParams(command=name, arguments=[arg]))


def no_secret_in(value: object) -> None:
    text = repr(value)
    for secret in SECRETS.values():
        assert secret not in text


async def test_fetch_writes_token_table_and_revoke_restores_bytes(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    original = connection_file(emulator.url)
    editor.open(URI, original)
    result = await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    assert isinstance(result, dict)
    assert result["connection"] == "dev" and result["token_type"] == "Bearer" and result["expires_at"].endswith("Z")
    assert "access_token" not in result
    no_secret_in(result)
    text = editor.texts[URI]
    assert "[connections.dev.token]" in text
    # everything else byte-identical: the edit is one insertion after the last key line
    token_start = text.index("\n[connections.dev.token]")
    token_end = text.index("# another connection follows")
    assert text[:token_start] + text[token_end - 1 :] == original
    a = analyze(text)
    token = a.connections["dev"].token
    assert set(token) >= {"access_token", "refresh_token", "token_type", "scope", "expires_at"}
    assert [f.code for f in a.findings if f.severity == 1] == []

    refreshed = await command(client, "snowauth.refreshToken", uri=URI, connection="dev")
    assert isinstance(refreshed, dict) and refreshed["connection"] == "dev"

    who = await command(client, "snowauth.testConnection", uri=URI, connection="dev")
    assert isinstance(who, dict) and who["user_name"] == "integration.user"
    no_secret_in(who)

    revoked = await command(client, "snowauth.revokeToken", uri=URI, connection="dev")
    assert revoked == {"connection": "dev", "revoked": True}
    assert editor.texts[URI] == original


async def test_position_selects_the_connection_and_insert_token(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    editor.open(OTHER, "GET /api/now/table/incident\n\n")
    line = connection_file(emulator.url).splitlines().index('grant_type = "password"')
    await command(client, "snowauth.fetchToken", uri=URI, position={"line": line, "character": 3})
    assert "[connections.dev.token]" in editor.texts[URI]
    access = analyze(editor.texts[URI]).connections["dev"].token["access_token"].value.data
    result = await command(
        client,
        "snowauth.insertToken",
        uri=URI,
        connection="dev",
        target={"uri": OTHER, "position": {"line": 1, "character": 0}},
        format="header",
    )
    assert result == {"connection": "dev", "inserted": True}
    assert editor.texts[OTHER] == f"GET /api/now/table/incident\nAuthorization: Bearer {access}\n"


async def test_wrong_password_gives_mapped_error_and_leaves_document(
    client: LanguageClient, emulator: Emulator
) -> None:
    editor = Editor(client)
    text = connection_file(emulator.url, password="not-the-password")
    editor.open(URI, text)
    with pytest.raises(JsonRpcException) as info:
        await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    message = str(info.value)
    assert "rejected" in message and "locked out" in message
    assert "not-the-password" not in message
    assert editor.texts[URI] == text and editor.applied == []
    shown = client.messages[-1]
    assert shown.type == t.MessageType.Error and "rejected" in shown.message
    if client.capabilities.text_document.diagnostic is None:  # type: ignore[union-attr]
        return
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
    )
    failed = [d for d in report.items if d.code == "fetch-failed"]  # type: ignore[union-attr]
    lines = sorted(d.range.start.line for d in failed)
    assert lines == [3, 9]  # the `password` key (the message) and the header (a pointer to it)


async def test_prompt_secret_through_the_custom_request(client: LanguageClient, emulator: Emulator) -> None:
    asked: list[object] = []

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        asked.append(args[-1])
        return {"value": "demo-password"}

    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url, password="${prompt}"))
    result = await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    assert isinstance(result, dict) and result["connection"] == "dev"
    assert len(asked) == 1
    assert "password" in repr(asked[0]) and "dev" in repr(asked[0])


async def test_two_fetches_at_once_cost_one_exchange(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    emulator.set_mode(slow=0.3)
    first, second = await asyncio.gather(
        command(client, "snowauth.fetchToken", uri=URI, connection="dev"),
        command(client, "snowauth.fetchToken", uri=URI, connection="dev"),
    )
    assert first == second
    assert emulator.token_requests == 1
    assert editor.texts[URI].count("[connections.dev.token]") == 1


async def test_typing_during_fetch_loses_nothing(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    emulator.set_mode(slow=0.5)
    fetch = asyncio.ensure_future(command(client, "snowauth.fetchToken", uri=URI, connection="dev"))
    await asyncio.sleep(0.2)
    editor.type(URI, 0, "# typed while fetching\n")
    await asyncio.sleep(0.05)
    editor.refuse_next = False
    result = await fetch
    assert isinstance(result, dict)
    text = editor.texts[URI]
    assert text.startswith("# typed while fetching\n# my connections")
    assert text.count("[connections.dev.token]") == 1
    assert analyze(text).connections["dev"].token["access_token"].value.kind == "string"


async def test_stale_edit_is_recomputed_not_applied_blind(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    original_apply = editor.apply
    typed = False

    def apply_after_typing(edit: t.WorkspaceEdit) -> t.ApplyWorkspaceEditResult:
        nonlocal typed
        if not typed:  # the user types just before the editor receives the edit
            typed = True
            editor.type(URI, len(editor.texts[URI]), "# late keystroke\n")
        return original_apply(edit)

    editor.apply = apply_after_typing  # type: ignore[method-assign]
    await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    text = editor.texts[URI]
    assert text.endswith("# late keystroke\n") and text.count("[connections.dev.token]") == 1
    assert len(editor.applied) == 1


async def test_untrusted_or_broken_connection_sends_nothing(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    broken = connection_file(emulator.url).replace('username = "integration.user"\n', "")
    editor.open(URI, broken)
    with pytest.raises(JsonRpcException) as info:
        await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    assert "missing `username`" in str(info.value)
    assert emulator.token_requests == 0


async def failed_diagnostics(client: LanguageClient) -> list[t.Diagnostic]:
    """The `fetch-failed` diagnostics of URI: pulled, or waited for until published."""
    if client.capabilities.text_document.diagnostic is not None:  # type: ignore[union-attr]
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
        )
        return [d for d in report.items if d.code == "fetch-failed"]  # type: ignore[union-attr]

    async def wait() -> list[t.Diagnostic]:
        while True:
            found = [d for d in client.diagnostics.get(URI, []) if d.code == "fetch-failed"]
            if found:
                return found
            await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), 10)


async def test_failed_fetch_puts_its_message_once_on_the_key(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url, password="not-the-password"))
    with pytest.raises(JsonRpcException) as info:
        await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    full = str(info.value)
    failed = await failed_diagnostics(client)
    by_line = {d.range.start.line: d for d in failed}
    assert sorted(by_line) == [3, 9]
    on_key, on_header = by_line[9], by_line[3]
    # the whole explanation once, on `password`, the key to fix
    assert "rejected" in on_key.message and "locked out" in on_key.message
    assert on_key.message.split(": ", 1)[-1] in full
    # the header points at it in a few words, without repeating it
    assert "locked out" not in on_header.message and "rejected" not in on_header.message
    assert "`password`" in on_header.message and len(on_header.message.split()) <= 8
    assert on_header.severity == t.DiagnosticSeverity.Error
    related = on_header.related_information or []
    supports_related = client.capabilities.text_document.diagnostic is not None or bool(  # type: ignore[union-attr]
        client.capabilities.text_document.publish_diagnostics  # type: ignore[union-attr]
        and client.capabilities.text_document.publish_diagnostics.related_information  # type: ignore[union-attr]
    )
    if supports_related:
        assert [(r.location.uri, r.location.range.start.line) for r in related] == [(URI, 9)]
    else:
        assert related == []
    no_secret_in([d.message for d in failed])
    assert "not-the-password" not in repr(failed)


async def test_failure_with_no_key_stays_whole_on_the_header(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    emulator.set_mode(rate_limited=True)  # a 429 names no key of the connection
    with pytest.raises(JsonRpcException) as info:
        await command(client, "snowauth.fetchToken", uri=URI, connection="dev")
    full = str(info.value)
    failed = await failed_diagnostics(client)
    assert [d.range.start.line for d in failed] == [3]
    assert failed[0].message.split(": ", 1)[-1] in full and len(full.split()) > 8


async def test_access_token_fetches_reuses_and_refreshes(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, connection_file(emulator.url))
    # no token yet: fetched as Fetch token fetches, and stored in the file
    first = await command(client, "snowauth.accessToken", uri=URI, connection="dev")
    assert isinstance(first, dict) and set(first) == {"connection", "access_token", "instance_url", "expires_at"}
    stored = analyze(editor.texts[URI]).connections["dev"].token
    assert first["access_token"] == stored["access_token"].value.data
    assert first["connection"] == "dev" and first["instance_url"] == emulator.url.rstrip("/")
    assert isinstance(first["expires_at"], str) and first["expires_at"].endswith("Z")
    assert emulator.token_requests == 1
    no_secret_in(first)

    # ≥ 60 s left: the stored token, no exchange
    again = await command(client, "snowauth.accessToken", uri=URI, connection="dev")
    assert again == first and emulator.token_requests == 1

    # less than 60 s left: refreshed first (the refresh token grant), the file updated
    text = editor.texts[URI]
    span = analyze(text).connections["dev"].token["expires_at"].value
    soon = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    editor.replace(URI, span.start, span.end, soon)
    refreshed = await command(client, "snowauth.accessToken", uri=URI, connection="dev")
    assert isinstance(refreshed, dict) and emulator.token_requests == 2
    assert refreshed["expires_at"] != soon and refreshed["expires_at"] > soon
    after = analyze(editor.texts[URI]).connections["dev"].token
    assert refreshed["access_token"] == after["access_token"].value.data
