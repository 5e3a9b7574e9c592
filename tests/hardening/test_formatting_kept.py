"""Format Document kept per table across edits (``formatting_cache.py``) gives the edits
the whole, uncached path gives (``formatting.format_edits`` of a fresh scan), after any
series of edits, in UTF-8 and UTF-16, values aligned or not; Format Selection from the
live analysis' statements gives a fresh scan's edits."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth import formatting
from snowauth.findings import Edit
from snowauth.formatting_cache import FormatCache, format_edits_kept
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.positions import LineIndex
from snowauth.syntax import Chunks, parse
from tests.kit.edits import ENV, KEPT_BASES, edit_document, not_in_crlf, span, steps
from tests.kit.layout import messy_files

URI = "file:///nowhere/formatted.snowauth.toml"

# tables written out of the canonical layout, in and out of their connection's order
# (a table that moves, formatted whole), a table of arrays, comments above headers
LAYOUT_BASES = [
    '# café ✓ 😀\n[connections.b]\n  instance  =  "dev1"\nusername = "u"\ngrant_type = "password"\n'
    '# above a\n\n# right above a\n[connections.a]\ninstance = "x"\n[connections.b.token]\naccess_token = "t"\n'
    '[connections.a.export]\ndotenv = ".env"\n',
    '# café ✓ 😀\r\n[connections.a]\r\ninstance = "é"  # ✓\r\n\r\n\r\n[connections.a.token]\r\nx = 1\r\n'
    '[[connections.arr]]\r\ny = 2\r\n[connections.c]\r\ngrant_type="password"\r\ninstance="i"\r\n',
]

# whole lines put in or taken out at line starts: the text stays readable (no syntax error)
# more often than with any characters anywhere
LINES = [
    "\n", "\r\n", "a = 1\n", "# c\n", "[connections.z]\n", 'instance = "i"\n', "[connections.a.token]\n",
    "  b  =  2   # t\n", "[[connections.arr]]\n", "[connections.b]\n", 'grant_type = "password"\n', "[other]\n",
    "# café ✓\n\n", 'username="é😀"\n', "[connections]\n", 'q = { instance = "q" }\n',
]  # fmt: skip
line_steps = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from([0, 0, 1, 2]), st.sampled_from(LINES), st.booleans()),
    min_size=1,
    max_size=12,
)


def _lines_span(text: str, where: float, lines: int) -> tuple[int, int]:
    """The start of the line at ``where`` and the start of the ``lines``-th line after."""
    start = text.rfind("\n", 0, min(len(text), int(where * (len(text) + 1)))) + 1
    end = start
    for _ in range(lines):
        end = text.find("\n", end) + 1 or len(text)
    return start, end


def _answer(edits: list[Edit] | None, conv: convert.Converter) -> Any:
    """The answer as the client reads it."""
    return json.loads(convert.formatting_edits_json(conv, edits or []).json())


def _fresh(text: str, encoding: str, align: bool) -> Any:
    conv = convert.Converter(LineIndex(text), encoding)
    return _answer(formatting.format_edits(text, align_values=align, parsed=parse(text)), conv)


def _kept(doc: Document, cache: FormatCache, encoding: str, align: bool) -> Any:
    chunks = doc.analysis(ENV.env).chunks
    return _answer(format_edits_kept(doc.text, chunks, cache, align_values=align), doc.converter(encoding))


@settings(max_examples=150, deadline=None)
@given(
    base=st.one_of(st.sampled_from(KEPT_BASES + LAYOUT_BASES), messy_files()),
    # (a whole-lines step is told apart by its length: -1 - the number of lines it takes out)
    edits=st.one_of(steps, line_steps.map(lambda s: [(w, -1 - n, i, look) for w, n, i, look in s])),
    encoding=st.sampled_from(["utf-16", "utf-8"]),
    align=st.booleans(),
    ranges=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=2),
)
def test_kept_formatting_after_random_edits_equals_the_whole_one(
    base: str,
    edits: list[tuple[float, int, str, bool]],
    encoding: str,
    align: bool,
    ranges: list[tuple[float, float]],
) -> None:
    doc = Document(URI, base, 1)
    cache = FormatCache()
    text, version = base, 1
    assert _kept(doc, cache, encoding, align) == _fresh(text, encoding, align)
    for where, length, inserted, look in edits:
        where_to = span(text, where, length) if length >= 0 else _lines_span(text, where, -1 - length)
        start, end = (not_in_crlf(text, x) for x in where_to)
        note(repr((start, end, inserted)))
        version += 1
        text = edit_document(doc, start, end, inserted, version, encoding)
        if look:
            assert _kept(doc, cache, encoding, align) == _fresh(text, encoding, align)
    assert _kept(doc, cache, encoding, align) == _fresh(text, encoding, align)
    assert _kept(doc, cache, encoding, not align) == _fresh(text, encoding, not align)
    conv = convert.Converter(LineIndex(text), encoding)
    for a, b in ranges:
        lo, hi = sorted(not_in_crlf(text, int(x * len(text))) for x in (a, b))
        live = formatting.range_edits(text, lo, hi, align_values=align, parsed=doc.analysis(ENV.env).parsed)
        fresh = formatting.range_edits(text, lo, hi, align_values=align, parsed=parse(text))
        assert _answer(live, doc.converter(encoding)) == _answer(fresh, conv)


@settings(max_examples=60, deadline=None)
@given(base=st.sampled_from(KEPT_BASES + LAYOUT_BASES), edits=line_steps)
def test_kept_formatting_of_a_scan_edited_in_place_equals_the_whole_one(
    base: str, edits: list[tuple[float, int, str, bool]]
) -> None:
    """The same through the scanner's chunks alone (``syntax.Chunks``, as the incremental
    analysis keeps them), after each edit; the edits give the canonical layout."""
    text = base
    chunks = Chunks(text)
    cache = FormatCache()
    for where, lines, inserted, _ in edits:
        start, end = _lines_span(text, where, lines)
        text = text[:start] + inserted + text[end:]
        chunks.edit(text, start, end, len(inserted))
        got = format_edits_kept(text, chunks.list, cache)
        assert got == formatting.format_edits(text)
        if got is not None:
            assert formatting.apply_edits(text, got) == formatting.format_text(text)


def test_a_comment_above_the_first_header_changed_to_one_as_long_is_formatted_again() -> None:
    """The comments above a file's first header are scanned with its chunk, yet formatted
    with the part before it: a change to them that keeps the text's length is not taken
    for the kept part."""
    text = '# one\n[connections.a]\ninstance = "x"\n'
    chunks = Chunks(text)
    cache = FormatCache()
    assert format_edits_kept(text, chunks.list, cache) == formatting.format_edits(text) == []
    start = text.index("one")
    edited = text[:start] + "on " + text[start + 3 :]
    chunks.edit(edited, start, start + 3, 3)
    got = format_edits_kept(edited, chunks.list, cache)
    assert got == formatting.format_edits(edited) == [Edit(start + 2, start + 3, "")]
