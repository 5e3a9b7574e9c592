"""pytest-lsp sessions against `snowauth lsp` as a subprocess, per client preset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.kit.lsp import PRESETS, SERVER


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER),
    params=list(PRESETS),
)
async def client(request: object, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    preset = request.param  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        t.InitializeParams(capabilities=client_capabilities(preset), process_id=None, root_uri=None)
    )
    yield lsp_client
    await lsp_client.shutdown_session()
