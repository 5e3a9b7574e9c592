"""Files a connection depends on (`.env`, `${file:}` targets, key files) change on disk:
the server watches them (dynamic registration when the client offers it), re-checks the
open documents that depend on them, and publishes (or asks a pull client to pull) again.
The real server over stdio, real files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.kit.lsp import SERVER, Editor

VARIABLE = "SNOWAUTH_WATCHED_TEST_SECRET"
TEXT = f"""[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:{VARIABLE}}}"
"""


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER,
        server_env={k: v for k, v in os.environ.items() if k != VARIABLE},
    ),
    params=["visual-studio-code", "neovim", "pull"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    preset = str(request.param)
    caps = client_capabilities("visual-studio-code" if preset == "pull" else preset)
    if preset == "pull":
        assert caps.text_document is not None and caps.workspace is not None
        caps.text_document.diagnostic = t.DiagnosticClientCapabilities(related_document_support=False)
        caps.workspace.diagnostics = t.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await lsp_client.initialize_session(t.InitializeParams(capabilities=caps))
    yield lsp_client
    await lsp_client.shutdown_session()


def pulls(client: LanguageClient) -> bool:
    return client.capabilities.text_document.diagnostic is not None  # type: ignore[union-attr]


async def until(client: LanguageClient, uri: str, ok: Callable[[list[t.Diagnostic]], bool]) -> list[t.Diagnostic]:
    """Wait (10 s at most) until the document's diagnostics satisfy ``ok``: pulled again
    after each refresh the server asks for, or as published."""

    async def wait() -> list[t.Diagnostic]:
        seen = -1
        while True:
            if pulls(client):
                # pulled once, then after each refresh; a client that takes no refresh
                # (Neovim) pulls on its own: every 0.1 s here
                refresh = client.capabilities.workspace.diagnostics  # type: ignore[union-attr]
                if client.diagnostic_refresh_count != seen or refresh is None:
                    seen = client.diagnostic_refresh_count
                    report = await client.text_document_diagnostic_async(
                        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri))
                    )
                    items = list(report.items)  # type: ignore[union-attr]
                    if ok(items):
                        return items
                await asyncio.sleep(0.1)
            else:
                items = list(client.diagnostics.get(uri, []))
                if uri in client.diagnostics and ok(items):
                    return items
                await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), 10)


def unresolved(items: list[t.Diagnostic]) -> list[t.Diagnostic]:
    return [d for d in items if d.code == "unresolved-reference"]


def changed(client: LanguageClient, path: Path, kind: t.FileChangeType) -> None:
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams([t.FileEvent(path.as_uri(), kind)]))


async def test_env_written_on_disk_clears_the_warning_and_deleting_it_brings_it_back(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(client)
    doc = tmp_path / "team.snowauth.toml"
    doc.write_text(TEXT, encoding="utf-8")
    uri = doc.as_uri()
    editor.open(uri, TEXT)
    before = unresolved(await until(client, uri, lambda items: bool(unresolved(items))))
    assert VARIABLE in before[0].message and ".env" in before[0].message

    dotenv = tmp_path / ".env"
    dotenv.write_text(f"{VARIABLE}=from-the-dotenv\n", encoding="utf-8")
    changed(client, dotenv, t.FileChangeType.Created)
    after = await until(client, uri, lambda items: not unresolved(items))
    assert "from-the-dotenv" not in repr(after)

    dotenv.unlink()
    changed(client, dotenv, t.FileChangeType.Deleted)
    again = unresolved(await until(client, uri, lambda items: bool(unresolved(items))))
    assert VARIABLE in again[0].message


async def test_file_reference_target_created_on_disk_clears_its_warning(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    doc = tmp_path / "team.snowauth.toml"
    text = TEXT.replace(f"${{env:{VARIABLE}}}", "${file:secret.txt}")
    doc.write_text(text, encoding="utf-8")
    uri = doc.as_uri()
    editor.open(uri, text)
    await until(client, uri, lambda items: any("secret.txt" in d.message for d in unresolved(items)))
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret\n", encoding="utf-8")
    changed(client, secret, t.FileChangeType.Created)
    await until(client, uri, lambda items: not unresolved(items))


async def test_watchers_are_registered_when_the_client_allows_it(client: LanguageClient, tmp_path: Path) -> None:
    editor = Editor(client)
    doc = tmp_path / "team.snowauth.toml"
    text = TEXT.replace('grant_type = "client_credentials"', 'grant_type = "jwt_bearer"\njwt_key_file = "keys/k.pem"')
    doc.write_text(text, encoding="utf-8")
    editor.open(doc.as_uri(), text)
    dynamic = client.capabilities.workspace.did_change_watched_files.dynamic_registration  # type: ignore[union-attr]
    if dynamic:
        await asyncio.wait_for(_until_registered(client), 10)
        patterns: list[Any] = []
        for r in client.registrations:  # type: ignore[attr-defined]
            assert r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES
            patterns += [w["globPattern"] for w in r.register_options["watchers"]]  # type: ignore[index]
        flat = [p if isinstance(p, str) else p["pattern"] for p in patterns]
        assert "**/.env" in flat and "**/*.snowauth.toml" in flat
        assert any(p.endswith("k.pem") for p in flat)
    else:
        await asyncio.sleep(0.3)
        assert getattr(client, "registrations", []) == []  # the client did not offer it: it is not asked


async def _until_registered(client: LanguageClient) -> None:
    while not any(
        p.endswith("k.pem") if isinstance(p, str) else str(p.get("pattern", "")).endswith("k.pem")
        for r in getattr(client, "registrations", [])
        for p in [w["globPattern"] for w in r.register_options["watchers"]]  # type: ignore[index]
    ):
        await asyncio.sleep(0.02)
