"""The whole flow with debug logging and the JSON-RPC trace on: no secret value may
appear in the server's log, in any message, progress report, diagnostic, result or
error the client receives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from tests.lsp.editor import Editor
from tests.lsp.helpers import session_fixture

LOG = Path(tempfile.gettempdir()) / f"snowauth-no-secrets-{os.getpid()}.log"
CLIENT_SECRET = "demo-client-secret"
PASSWORD = "demo-password"
URI = "file:///tmp/snowauth-secrets/leak.snowauth.toml"


client = session_fixture(
    env={
        "SNOW_L_SECRET": CLIENT_SECRET,
        "SNOWAUTH_LOG_LEVEL": "DEBUG",
        "SNOWAUTH_TRACE": "1",
        "SNOWAUTH_LOG_FILE": str(LOG),
    }
)


async def test_no_secret_anywhere(client: LanguageClient, emulator: Emulator) -> None:
    prompts: list[str] = []

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        prompts.append(repr(args[-1]))
        return {"value": PASSWORD if len(prompts) == 1 else "wrong-password-xyz"}

    editor = Editor(client)
    text = f"""[connections.dev]
instance = "{emulator.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
"""
    editor.open(URI, text)
    seen: list[str] = []

    async def run(command: str, **extra: object) -> None:
        try:
            seen.append(
                repr(
                    await client.workspace_execute_command_async(
                        t.ExecuteCommandParams(command=command, arguments=[{"uri": URI, "connection": "dev", **extra}])
                    )
                )
            )
        except JsonRpcException as exc:
            seen.append(repr(exc))

    await run("snowauth.fetchToken")
    tokens = analyze(editor.texts[URI]).connections["dev"].token
    access = str(tokens["access_token"].value.data)
    refresh = str(tokens["refresh_token"].value.data)
    await run("snowauth.refreshToken")
    await run("snowauth.testConnection")
    await run("snowauth.revokeToken")
    await run("snowauth.fetchToken")  # the prompt now answers a wrong password: a failure
    emulator.set_mode(hibernating=True)
    await run("snowauth.fetchToken")
    emulator.set_mode(hibernating=False)
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
    )
    seen.append(repr(report))
    progress = [repr(reports) for reports in client.progress_reports.values()]

    assert progress and any("Requesting a token" in p for p in progress)
    assert len(prompts) == 3 and any("rejected" in s for s in seen) and any("hibernating" in s for s in seen)
    log = LOG.read_text(encoding="utf-8")
    assert "oauth_token.do" in log or "Sending data" in log or "snowauth" in log  # the log did capture
    captured = "\n".join(
        [log, *seen, *prompts, *progress, *(repr(m) for m in client.messages), *(repr(m) for m in client.log_messages)]
    )
    for secret in (CLIENT_SECRET, PASSWORD, "wrong-password-xyz", access, refresh):
        assert secret not in captured, f"a secret leaked ({len(secret)} characters)"
    LOG.unlink()
