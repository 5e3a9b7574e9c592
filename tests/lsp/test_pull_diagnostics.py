"""A client that pulls diagnostics (textDocument/diagnostic) gets them on request and is
never pushed to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.kit.lsp import SERVER, Editor

URI = "file:///tmp/snowauth-pull/p.snowauth.toml"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.diagnostic = t.DiagnosticClientCapabilities(related_document_support=False)
    result = await lsp_client.initialize_session(t.InitializeParams(capabilities=caps))
    assert result.capabilities.diagnostic_provider is not None
    yield lsp_client
    await lsp_client.shutdown_session()


async def pull(client: LanguageClient) -> list[t.Diagnostic]:
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
    )
    assert isinstance(report, t.RelatedFullDocumentDiagnosticReport)
    return list(report.items)


async def test_pull_follows_edits_and_nothing_is_pushed(client: LanguageClient) -> None:
    editor = Editor(client)
    editor.open(URI, '[connections.dev]\ninstance = "dev1"\ngrant_type = "password"\n')
    codes = sorted(str(d.code) for d in await pull(client))
    assert codes == ["missing-key"] * 4
    editor.type(URI, len(editor.texts[URI]), 'client_id = "0123456789abcdef0123456789abcdef"\n')
    codes = sorted(str(d.code) for d in await pull(client))
    assert codes == ["missing-key"] * 3
    await asyncio.sleep(0.2)
    assert URI not in client.diagnostics  # nothing was pushed
