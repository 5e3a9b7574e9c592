"""The outline and the lenses after edits (kept per connection by the server,
``lsp/kept.py``) equal those of the same text opened fresh, over a real session, for
VS Code (UTF-16) and Neovim (UTF-8), with non-ASCII text before and inside the ranges."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import Editor, diagnostics, expected_range, negotiated_encoding, session_fixture

client = session_fixture(presets=("visual-studio-code", "neovim"))

EDITED = "file:///tmp/snowauth-kept/edited.snowauth.toml"
FRESH = "file:///tmp/snowauth-kept/fresh-{}.snowauth.toml"
HEX32 = "0123456789abcdef0123456789abcdef"


def _connection(i: int) -> str:
    token = '[connections.c{0}.token]\naccess_token = "a"\nexpires_at = 2099-01-01T00:00:00Z\n' if i % 3 == 0 else ""
    return (
        f"[connections.c{i}]\n"
        f'instance = "dev{i}"\ngrant_type = "client_credentials"\nclient_id = "{HEX32}"\n'
        'client_secret = "${env:X}"\n' + token.format(i) + "\n"
    )


TEXT = "# café ✓ 😀\n" + "".join(_connection(i) for i in range(12))


async def _answers(client: LanguageClient, uri: str) -> tuple[Any, Any]:
    doc = t.TextDocumentIdentifier(uri)
    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(doc))
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(doc))
    assert symbols is not None and lenses is not None
    shown = [
        (lens.range, lens.command.title, lens.command.command, lens.command.arguments[0]["connection"])
        for lens in lenses
        if lens.command is not None and lens.command.arguments
    ]
    return symbols, shown


async def test_the_outline_and_lenses_after_edits_equal_a_fresh_documents(client: LanguageClient) -> None:
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    editor.open(EDITED, TEXT)
    await diagnostics(client, EDITED, 1)
    await _answers(client, EDITED)  # the pieces are made here and kept
    at = TEXT.index("[connections.c4]")
    edits = [
        (TEXT.index('"dev7"') + 1, 0, "x"),  # inside one connection: only it is made again
        (at, 0, '[connections.new]\ninstance = "é😀"\n\n'),  # lines added above c4…c11
        (TEXT.index("[connections.c1]"), len("[connections.c1]\n"), ""),  # a header and a line go
    ]
    for k, (start, length, new) in enumerate(edits):
        text = editor.texts[EDITED]
        start = text.index(TEXT[start : start + 16]) if k else start
        editor.replace(EDITED, start, start + length, new)
        await diagnostics(client, EDITED, editor.versions[EDITED])
        ours = await _answers(client, EDITED)
        fresh_uri = FRESH.format(k)
        editor.open(fresh_uri, editor.texts[EDITED])
        await diagnostics(client, fresh_uri, 1)
        assert ours == await _answers(client, fresh_uri)
    # the new connection's `instance` line ends after `é😀"`: 16 UTF-16 units, 19 UTF-8 bytes
    symbols, lenses = await _answers(client, EDITED)
    new = next(s for s in symbols if s.name == "new")
    line = editor.texts[EDITED].split("\n").index('instance = "é😀"')
    assert new.children[0].range == t.Range(
        t.Position(line, 0), t.Position(line, {"utf-16": 16, "utf-8": 19}[encoding])
    )
    assert new.detail == "é😀"
    c9 = next(s for s in symbols if s.name == "c9")
    assert c9.selection_range.start.line == editor.texts[EDITED].split("\n").index("[connections.c9]")
    assert [x[3] for x in lenses].count("c9") == 3  # a token: refresh, test, fetch


async def test_a_connection_moved_between_two_requests_keeps_its_lenses_in_place(client: LanguageClient) -> None:
    """The connections' places are listed once per analysis; a connection moved to the
    text after that (a hover, a check) is not moved twice by the next request."""
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    uri = EDITED.replace("edited", "moved")
    editor.open(uri, TEXT)
    await diagnostics(client, uri, 1)
    await _answers(client, uri)  # the pieces are made here and kept
    editor.type(uri, TEXT.index("[connections.c0]"), "# two lines\n# above every connection\n")
    await diagnostics(client, uri, editor.versions[uri])
    doc = t.TextDocumentIdentifier(uri)
    await client.text_document_document_symbol_async(t.DocumentSymbolParams(doc))  # every place listed
    text = editor.texts[uri]
    at = text.index('instance = "dev9"') + 2
    hover = await client.text_document_hover_async(
        t.HoverParams(doc, expected_range(text, at, at, encoding).start)
    )  # moves c9 (only) to this text
    assert hover is not None
    _symbols, lenses = await _answers(client, uri)
    c9 = text.split("\n").index("[connections.c9]")
    assert [x[0].start.line for x in lenses if x[3] == "c9"] == [c9, c9, c9]
    editor.open(FRESH.format("moved"), text)
    await diagnostics(client, FRESH.format("moved"), 1)
    assert (_symbols, lenses) == await _answers(client, FRESH.format("moved"))
