"""workspace/symbol: every connection of every `*.snowauth.toml` of the workspace, open
documents from their live text and the others from disk; the query filters (case
insensitive, in order); the container is the file's path in the workspace. The real
server over stdio, real files; exact ranges in UTF-16 (VS Code) and UTF-8 (Neovim)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import negotiated_encoding, open_doc, session_fixture

A = """# café ✓ 😀
[connections."café"]
instance = "dev12345"

[connections]
"😀prod" = { instance = "prod12345" }
"""
B = """[connections.dev]
instance = "dev12345"
"""
VICTIM = """[connections.victim]
instance = "victim"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "a.snowauth.toml").write_text(A, encoding="utf-8")
    (root / "sub" / "b.snowauth.toml").write_text(B, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.snowauth.toml").write_text(VICTIM, encoding="utf-8")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    return root


client = session_fixture(presets=("visual-studio-code", "neovim"), workspace="folder")

# the header of each connection, per encoding: (line, start, line, end)
HEADERS = {
    "utf-16": {"café": (1, 0, 1, 20), "😀prod": (5, 0, 5, 8), "dev": (0, 0, 0, 17)},
    "utf-8": {"café": (1, 0, 1, 21), "😀prod": (5, 0, 5, 10), "dev": (0, 0, 0, 17)},
}


async def symbols(client: LanguageClient, query: str) -> list[t.SymbolInformation]:
    found = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query=query))
    assert isinstance(found, list)
    return [s for s in found if isinstance(s, t.SymbolInformation)]


def described(found: list[t.SymbolInformation]) -> list[tuple[object, ...]]:
    out = []
    for s in found:
        r = s.location.range
        out.append(
            (
                s.name,
                s.kind,
                s.container_name,
                s.location.uri,
                (r.start.line, r.start.character, r.end.line, r.end.character),
            )
        )
    return out


async def test_every_connection_of_the_workspace(client: LanguageClient, folder: Path) -> None:
    enc = negotiated_encoding(client)
    a, b = (folder / "a.snowauth.toml").as_uri(), (folder / "sub" / "b.snowauth.toml").as_uri()
    obj = t.SymbolKind.Object  # what the outline shows a connection as
    assert described(await symbols(client, "")) == [
        ("café", obj, "a.snowauth.toml", a, HEADERS[enc]["café"]),
        ("😀prod", obj, "a.snowauth.toml", a, HEADERS[enc]["😀prod"]),
        ("dev", obj, "sub/b.snowauth.toml", b, HEADERS[enc]["dev"]),
    ]
    # the connection file behind the linked folder is not the workspace's
    assert "victim" not in [s.name for s in await symbols(client, "vic")]


async def test_the_query_filters_in_order_ignoring_case(client: LanguageClient, folder: Path) -> None:
    assert [s.name for s in await symbols(client, "PRD")] == ["😀prod"]
    assert [s.name for s in await symbols(client, "dv")] == ["dev"]
    assert [s.name for s in await symbols(client, "AF")] == ["café"]
    assert await symbols(client, "vd") == []


async def test_an_open_document_is_read_from_its_live_text(client: LanguageClient, folder: Path) -> None:
    enc = negotiated_encoding(client)
    b = folder / "sub" / "b.snowauth.toml"
    open_doc(client, b.as_uri(), "# é\n" + B.replace("dev", "staging"))  # not saved
    found = described(await symbols(client, "stag"))
    assert found == [("staging", t.SymbolKind.Object, "sub/b.snowauth.toml", b.as_uri(), (1, 0, 1, 21))]
    assert await symbols(client, "dev") == []
    assert described(await symbols(client, "caf"))[0][4] == HEADERS[enc]["café"]
