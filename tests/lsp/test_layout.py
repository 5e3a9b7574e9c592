"""Formatting, range formatting, folding ranges and selection ranges over a real session,
with exact ranges in UTF-16 (VS Code) and UTF-8 (Neovim) after non-ASCII text; the
`format.alignValues` setting; the CLI and the server give the same bytes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from snowauth.findings import Edit
from snowauth.formatting import format_edits, format_text, range_edits
from snowauth.lsp import convert
from snowauth.positions import LineIndex
from tests.kit.cli import run_snowauth
from tests.kit.layout import FOLD_BASES, fresh_folding_json
from tests.kit.lsp import SERVER, Editor, capabilities, folding_wire, negotiated_encoding, session_fixture

URI = "file:///tmp/snowauth-layout/l.snowauth.toml"
OPTIONS = t.FormattingOptions(tab_size=4, insert_spaces=True)

client = session_fixture(presets=("visual-studio-code", "neovim"))
aligned = session_fixture(presets=("visual-studio-code",), options={"format": {"alignValues": True}})


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["utf-16", "utf-8"])
async def characters(request: Any, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    """A client that folds to the character (``lineFoldingOnly`` false)."""
    caps = capabilities(request.param)
    assert caps.text_document is not None
    caps.text_document.folding_range = t.FoldingRangeClientCapabilities(line_folding_only=False)
    await lsp_client.initialize_session(t.InitializeParams(capabilities=caps))
    yield lsp_client
    await lsp_client.shutdown_session()


def doc(uri: str = URI) -> t.TextDocumentIdentifier:
    return t.TextDocumentIdentifier(uri)


def pos(line: int, character: int) -> t.Position:
    return t.Position(line, character)


def rng(l1: int, c1: int, l2: int, c2: int) -> t.Range:
    return t.Range(pos(l1, c1), pos(l2, c2))


def wide(encoding: str, utf16: int, utf8: int) -> int:
    return utf16 if encoding == "utf-16" else utf8


async def format_and_apply(client: LanguageClient, editor: Editor, uri: str = URI) -> list[t.TextEdit]:
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(uri), OPTIONS))
    assert edits is not None
    editor.apply(t.WorkspaceEdit(changes={uri: list(edits)}))
    return list(edits)


# -- formatting ---------------------------------------------------------------------------------

MESSY = """\
# café ✓ 😀

[connections.a.token]
access_token = "x"
[connections.a]
"café😀"="v"   # é
  instance = "dev1"
scope = [ "a",
  "b" ]
"""

FORMATTED = """\
# café ✓ 😀

[connections.a]
instance = "dev1"
scope = [ "a",
  "b" ]
"café😀" = "v" # é

[connections.a.token]
access_token = "x"
"""


async def test_formatting_gives_small_edits_in_the_clients_encoding(client: LanguageClient) -> None:
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    text = '# café ✓ 😀\n[connections.a]\n"café😀"="v"\n'
    editor.open(URI, text)
    edits = await format_and_apply(client, editor)
    col = wide(encoding, 8, 11)  # after `"café😀"`
    assert list(edits) == [t.TextEdit(rng(2, col, 2, col + 1), " = ")]
    assert editor.texts[URI] == '# café ✓ 😀\n[connections.a]\n"café😀" = "v"\n'


async def test_formatting_twice_changes_nothing_and_gives_the_cores_bytes(client: LanguageClient) -> None:
    editor = Editor(client, negotiated_encoding(client))
    editor.open(URI, MESSY)
    await format_and_apply(client, editor)
    assert editor.texts[URI] == FORMATTED == format_text(MESSY)
    assert list(await format_and_apply(client, editor)) == []


async def test_formatting_after_an_edit_touches_that_table_only(client: LanguageClient) -> None:
    """The server keeps each table's formatting across edits (``formatting_cache.py``):
    spaces typed in one table after a first formatting give that table's edit, at its
    place in the client's encoding (non-ASCII text before it on its line), the core's
    edits of the whole text; so do the lines above every table moving down."""
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    tables = "".join(f'[connections.c{i}]\ninstance = "dev{i}"\n"café😀"="v"\n\n' for i in range(40))
    editor.open(URI, '# café ✓ 😀\n"é" = 1\n\n' + tables.rstrip("\n") + "\n")
    assert len(await format_and_apply(client, editor)) == 40
    assert list(await format_and_apply(client, editor)) == []
    at = editor.texts[URI].index('"café😀" = "v"', editor.texts[URI].index("[connections.c20]")) + len('"café😀"')
    editor.replace(URI, at, at, "  ")  # `"café😀"   = "v"`
    text = editor.texts[URI]
    line, col = text.count("\n", 0, at), wide(encoding, 8, 11) + 1
    whole = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(), OPTIONS))
    assert whole is not None
    assert list(whole) == [t.TextEdit(rng(line, col, line, col + 2), "")]
    assert format_edits(text) == [Edit(at + 1, at + 3, "")]
    editor.replace(URI, 0, 0, "\n\n")  # every table two lines lower, and blank lines too many at the top
    whole = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(), OPTIONS))
    assert whole is not None
    assert list(whole) == [t.TextEdit(rng(0, 0, 2, 0), ""), t.TextEdit(rng(line + 2, col, line + 2, col + 2), "")]
    editor.apply(t.WorkspaceEdit(changes={URI: list(whole)}))
    assert editor.texts[URI] == format_text(text)


async def test_a_syntax_error_gets_no_edits(client: LanguageClient) -> None:
    editor = Editor(client, negotiated_encoding(client))
    editor.open(URI, '[connections.a]\n  instance = "dev1\nscope="s"\n')
    whole = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(), OPTIONS))
    params = t.DocumentRangeFormattingParams(doc(), rng(0, 0, 2, 0), OPTIONS)
    ranged = await client.text_document_range_formatting_async(params)
    assert whole is not None and ranged is not None  # an answer: no edits
    assert list(whole) == list(ranged) == []


async def test_range_formatting_formats_the_tables_it_touches(client: LanguageClient) -> None:
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    text = '# café ✓ 😀\n[connections.a]\nscope="s"\n[connections.b]\n"café😀"="x"\ninstance="i"\n'
    editor.open(URI, text)
    params = t.DocumentRangeFormattingParams(doc(), rng(4, 1, 4, 2), OPTIONS)
    edits = await client.text_document_range_formatting_async(params)
    assert edits is not None
    assert list(edits) == [t.TextEdit(rng(4, 0, 5, 11), 'instance = "i"\n"café😀" = "x')]
    editor.apply(t.WorkspaceEdit(changes={URI: list(edits)}))
    assert editor.texts[URI] == (
        '# café ✓ 😀\n[connections.a]\nscope="s"\n[connections.b]\ninstance = "i"\n"café😀" = "x"\n'
    )


async def test_align_values_from_initialization_options_then_settings(aligned: LanguageClient) -> None:
    editor = Editor(aligned)
    text = '[connections.a]\ninstance = "dev1"\nclient_secret = "${env:S}"\n'
    editor.open(URI, text)
    await format_and_apply(aligned, editor)
    assert editor.texts[URI] == '[connections.a]\ninstance      = "dev1"\nclient_secret = "${env:S}"\n'
    aligned.workspace_did_change_configuration(
        t.DidChangeConfigurationParams(settings={"snowauth": {"format": {"alignValues": False}}})
    )
    await format_and_apply(aligned, editor)
    assert editor.texts[URI] == text


async def test_the_cli_and_the_server_give_the_same_bytes(client: LanguageClient, tmp_path: Path) -> None:
    crlf = MESSY.replace("\n", "\r\n")
    path = tmp_path / "same.snowauth.toml"
    path.write_bytes(crlf.encode("utf-8"))
    assert run_snowauth("fmt", str(path)).returncode == 0
    editor = Editor(client, negotiated_encoding(client))
    editor.open(path.as_uri(), crlf)
    await format_and_apply(client, editor, path.as_uri())
    assert editor.texts[path.as_uri()].encode("utf-8") == path.read_bytes() == FORMATTED.replace("\n", "\r\n").encode()


# -- folding ------------------------------------------------------------------------------------

FOLDS = """\
# café ✓ 😀
# second comment line
default = "a"

[connections.a]
instance = "dev1"
scope = [
  "a",
  "b",
]
"café😀" = \"\"\"café😀
text\"\"\"

[connections.a.token]
access_token = "x"
expires_at = 2030-01-01T00:00:00Z

[connections.b]
instance = "y"
"""


def folds(ranges: list[t.FoldingRange] | None) -> list[tuple[Any, ...]]:
    assert ranges is not None
    got = [
        (
            r.start_line,
            r.start_character,
            r.end_line,
            r.end_character,
            str(getattr(r.kind, "value", r.kind) or "") or None,
        )
        for r in ranges
    ]
    return sorted(got, key=lambda f: tuple(-1 if x is None else x for x in f[:4]))


EXPECTED_LINES = [
    (0, None, 1, None, "comment"),
    (4, None, 11, None, None),  # the table
    (4, None, 15, None, None),  # the connection, its token table included
    (6, None, 8, None, None),  # the array (its closing bracket stays in sight)
    (10, None, 11, None, None),  # the multi-line string
    (13, None, 15, None, None),
    (17, None, 18, None, None),
]


async def test_folding_ranges_by_lines(client: LanguageClient) -> None:
    editor = Editor(client, negotiated_encoding(client))
    editor.open(URI, FOLDS)
    assert folds(await client.text_document_folding_range_async(t.FoldingRangeParams(doc()))) == EXPECTED_LINES


async def test_folding_ranges_follow_edits(client: LanguageClient) -> None:
    editor = Editor(client, negotiated_encoding(client))
    editor.open(URI, FOLDS)
    await client.text_document_folding_range_async(t.FoldingRangeParams(doc()))
    editor.type(URI, FOLDS.index('  "b",'), '  "a2",\n')  # the array grows by a line
    editor.type(URI, len(editor.texts[URI]), "scope = 1\n")  # and table b
    got = folds(await client.text_document_folding_range_async(t.FoldingRangeParams(doc())))
    assert got == [
        (0, None, 1, None, "comment"),
        (4, None, 12, None, None),
        (4, None, 16, None, None),
        (6, None, 9, None, None),
        (11, None, 12, None, None),
        (14, None, 16, None, None),
        (18, None, 20, None, None),
    ]
    editor.replace(URI, 0, len("# café ✓ 😀\n"), "")  # the comment block is one line now
    got = folds(await client.text_document_folding_range_async(t.FoldingRangeParams(doc())))
    assert got[0] == (3, None, 11, None, None)


async def test_folding_ranges_to_the_character(characters: LanguageClient) -> None:
    encoding = negotiated_encoding(characters)
    editor = Editor(characters, encoding)
    editor.open(URI, FOLDS)
    got = folds(await characters.text_document_folding_range_async(t.FoldingRangeParams(doc())))
    values = [(6, 9, 9, 0, None), (10, wide(encoding, 14, 17), 11, 4, None)]
    assert got == sorted(
        [f for f in EXPECTED_LINES if f[0] not in (6, 10)] + values,
        key=lambda f: tuple(-1 if x is None else x for x in f[:4]),
    )


async def _edit_and_compare(client: LanguageClient, *, lines_only: bool) -> None:
    """Edits that add and remove lines, inside a value over lines and a comment block,
    and that start and break tables: after each, the server's answer (its pieces kept
    per chunk) is, in order, what the fresh scan's folds convert to."""
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    text = FOLD_BASES[0] + FOLD_BASES[1]
    editor.open(URI, text)
    edits = [
        ('  "é😀",', 0, '  "a2",\n  "😀",\n'),  # lines added inside the array
        ("# one", 0, "# inserted ✓\n"),  # the comment block grows
        ('"""café😀', 3, "x"),  # a character inside the string over lines
        ("[connections.a.token]", 0, "[connections.z]\n"),  # connection a's run broken
        ("[connections.z]\n", len("[connections.z]\n"), ""),  # and mended
        ("key20", 0, "\n\n"),  # in the table longer than a chunk
        ("# k21\n# again\n", len("# k21\n"), ""),  # a comment line removed
    ]
    for needle, length, inserted in edits:
        current = editor.texts[URI]
        at = current.index(needle)
        editor.replace(URI, at, at + length, inserted)
        got = folding_wire(await client.text_document_folding_range_async(t.FoldingRangeParams(doc())))
        assert got == json.loads(fresh_folding_json(editor.texts[URI], encoding, lines_only=lines_only))
        assert got


async def test_folding_ranges_after_edits_are_the_fresh_scans(client: LanguageClient) -> None:
    await _edit_and_compare(client, lines_only=True)


async def test_folding_ranges_to_the_character_after_edits_are_the_fresh_scans(characters: LanguageClient) -> None:
    await _edit_and_compare(characters, lines_only=False)


# -- selection ranges ---------------------------------------------------------------------------


def chain(s: t.SelectionRange | None) -> list[tuple[int, int, int, int]]:
    out = []
    while s is not None:
        r = s.range
        out.append((r.start.line, r.start.character, r.end.line, r.end.character))
        s = s.parent
    return out


@pytest.mark.parametrize("where", ["key", "array"])
async def test_selection_ranges_grow_to_the_connection_and_the_file(client: LanguageClient, where: str) -> None:
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    editor.open(URI, FOLDS)
    at = pos(10, 2) if where == "key" else pos(8, 3)
    [got] = await client.text_document_selection_range_async(t.SelectionRangeParams(doc(), [at])) or []
    outer = [(10, 0, 11, 7), (4, 0, 11, 7), (4, 0, 15, 33), (0, 0, 19, 0)]
    if where == "key":
        assert chain(got) == [(10, 0, 10, wide(encoding, 8, 11)), *outer]
    else:
        assert chain(got) == [(8, 2, 8, 5), (6, 8, 9, 1), (6, 0, 9, 1), *outer[1:]]


async def test_the_formatting_answer_written_as_json_text_equals_the_edits_as_objects(client: LanguageClient) -> None:
    """Formatting's edits go out as JSON text (``convert.formatting_edits_json``); after
    edits, with non-ASCII text before and inside the ranges, the client reads what the
    objects (``convert.formatting_edits``) said, whole and ranged."""
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    editor.open(URI, MESSY)
    editor.replace(URI, len(MESSY), len(MESSY), '[connections.b]\n"é😀"="x"  # ✓\ninstance="i"\n')
    editor.replace(URI, MESSY.index("scope"), MESSY.index("scope"), 'grant_type="password"\n')
    text = editor.texts[URI]
    conv = convert.Converter(LineIndex(text), encoding)

    def as_objects(edits: list[Edit]) -> list[t.TextEdit]:
        wire = json.loads(json.dumps(convert.formatting_edits(conv, edits)))
        return [
            t.TextEdit(rng(*(w["range"][p][k] for p in ("start", "end") for k in ("line", "character"))), w["newText"])
            for w in wire
        ]

    whole = await client.text_document_formatting_async(t.DocumentFormattingParams(doc(), OPTIONS))
    expected = as_objects(format_edits(text) or [])
    assert whole is not None and len(expected) > 3
    assert list(whole) == expected
    line = text.split("\n").index('"é😀"="x"  # ✓')
    params = t.DocumentRangeFormattingParams(doc(), rng(line, 1, line, 2), OPTIONS)
    ranged = await client.text_document_range_formatting_async(params)
    start = text.index('"é😀"')
    expected = as_objects(range_edits(text, start + 1, start + 1) or [])
    assert ranged is not None and expected
    assert list(ranged) == expected
