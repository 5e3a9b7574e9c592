"""Folding ranges kept per chunk across edits (``folding.LineFolds``, ``kept.folding_ranges``)
are, byte for byte, the JSON the language server wrote before they were kept: the folds
of a fresh scan through the whole conversion (``tests.kit.layout.fresh_folding_json``),
after any series of edits (lines added and removed, edits inside values over lines and
comment blocks, tables and connections begun and broken), for clients that fold whole
lines and to the character, in UTF-8 and UTF-16 (non-ASCII text before the ranges)."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st
from lsprotocol import types as t

from snowauth.lsp import convert, kept
from snowauth.lsp.documents import Document
from snowauth.positions import LineIndex
from tests.kit.clock import NOW
from tests.kit.edits import BASES, ENV
from tests.kit.layout import FOLD_BASES, fold_edits, fold_span, fresh_folding_json

URI = "file:///nowhere/folds.snowauth.toml"
ALL_BASES = FOLD_BASES + ["# café ✓ 😀\n" + b for b in BASES]


def _kept(doc: Document, encoding: str, lines_only: bool) -> bytes:
    a = doc.analysis(ENV.env, NOW)
    return kept.folding_ranges(doc.kept, a, doc.converter(encoding), lines_only=lines_only).json()


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(ALL_BASES),
    edits=fold_edits,
    encoding=st.sampled_from(["utf-16", "utf-8"]),
    lines_only=st.booleans(),
)
def test_kept_folds_after_random_edits_are_the_fresh_answer(
    base: str, edits: list[tuple[str, int, int, int, str, bool]], encoding: str, lines_only: bool
) -> None:
    doc = Document(URI, base, 1)
    text, version = base, 1
    assert _kept(doc, encoding, lines_only) == fresh_folding_json(text, encoding, lines_only=lines_only)
    for anchor, pick, past, length, inserted, look in edits:
        start, end = fold_span(text, anchor, pick, past, length)
        note(repr((start, end, inserted)))
        conv = convert.Converter(LineIndex(text), encoding)
        version += 1
        change = t.TextDocumentContentChangePartial(range=conv.range(start, end), text=inserted)
        doc.apply([change], version, encoding)
        text = text[:start] + inserted + text[end:]
        assert doc.text == text
        if look:
            assert _kept(doc, encoding, lines_only) == fresh_folding_json(text, encoding, lines_only=lines_only)
    assert _kept(doc, encoding, lines_only) == fresh_folding_json(text, encoding, lines_only=lines_only)


def test_an_edit_that_adds_no_line_prints_only_its_own_chunk_again() -> None:
    """A one-character edit re-sends every other chunk's piece as it was (the same
    bytes objects); an Enter prints the pieces after it again, one line lower."""
    text = "# café ✓ 😀\n" + "".join(f'[connections.c{k}]\ni = "é{k}"\nscope = [\n  1,\n]\n' for k in range(30))
    doc = Document(URI, text, 1)
    before = kept.folding_ranges(doc.kept, doc.analysis(ENV.env, NOW), doc.converter("utf-16"), lines_only=True)
    at = text.index("[connections.c15]") + 3
    conv = convert.Converter(LineIndex(text), "utf-16")
    doc.apply([t.TextDocumentContentChangePartial(range=conv.range(at, at), text="x")], 2, "utf-16")
    after = kept.folding_ranges(doc.kept, doc.analysis(ENV.env, NOW), doc.converter("utf-16"), lines_only=True)
    assert after.json() == fresh_folding_json(doc.text, "utf-16", lines_only=True)
    same = sum(1 for x, y in zip(before.items, after.items, strict=True) if x is y)
    assert len(before.items) == 30 and same == 29
    conv = convert.Converter(LineIndex(doc.text), "utf-16")
    doc.apply([t.TextDocumentContentChangePartial(range=conv.range(0, 0), text="\n")], 3, "utf-16")
    lower = kept.folding_ranges(doc.kept, doc.analysis(ENV.env, NOW), doc.converter("utf-16"), lines_only=True)
    assert lower.json() == fresh_folding_json(doc.text, "utf-16", lines_only=True)
    assert not any(x is y for x, y in zip(after.items, lower.items, strict=True))
