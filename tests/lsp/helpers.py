"""Small helpers shared by the LSP session tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri=uri, language_id="snowauth-toml", version=version, text=text)
        )
    )


async def diagnostics(client: LanguageClient, uri: str, version: int | None = None) -> list[t.Diagnostic]:
    """The document's diagnostics, pulled when the client pulls, else the pushed ones
    for ``version`` (waiting for them)."""
    pull = (
        client.capabilities is not None
        and client.capabilities.text_document is not None
        and client.capabilities.text_document.diagnostic is not None
    )  # type: ignore[union-attr]
    if pull:
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri))
        )
        assert isinstance(report, t.RelatedFullDocumentDiagnosticReport)
        return list(report.items)

    async def wait() -> list[t.Diagnostic]:
        while True:
            params = await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and (version is None or params.version == version):
                return list(params.diagnostics)

    if uri in client.diagnostics and version is None:
        return list(client.diagnostics[uri])
    return await asyncio.wait_for(wait(), 10)


def change(
    client: LanguageClient,
    uri: str,
    version: int,
    line: int,
    col: int,
    end_line: int,
    end_col: int,
    text: str,
) -> None:
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [
                t.TextDocumentContentChangePartial(
                    range=t.Range(t.Position(line, col), t.Position(end_line, end_col)), text=text
                )
            ],
        )
    )


def session_fixture(
    *,
    presets: tuple[str, ...] = ("visual-studio-code",),
    env: dict[str, str] | None = None,
    prompt: bool = True,
) -> Any:
    """A pytest-lsp fixture running `snowauth lsp` with ``env`` added to the environment,
    once per client preset; ``prompt`` declares `experimental.snowauth.promptSecret`.
    The test can pass `initializationOptions` through ``request.param`` of a preset
    written as "preset|untrusted"."""

    @pytest_lsp.fixture(
        config=ClientServerConfig(
            server_command=[sys.executable, "-m", "snowauth", "lsp"],
            server_env={**os.environ, **(env or {})},
        ),
        params=list(presets),
    )
    async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
        preset, _, mode = str(request.param).partition("|")
        caps = client_capabilities(preset)
        if prompt:
            caps.experimental = {"snowauth": {"promptSecret": True}}
        options = {"trusted": mode != "untrusted"}
        await lsp_client.initialize_session(t.InitializeParams(capabilities=caps, initialization_options=options))
        lsp_client.trusted_workspace = mode != "untrusted"  # type: ignore[attr-defined]
        yield lsp_client
        await lsp_client.shutdown_session()

    return client
