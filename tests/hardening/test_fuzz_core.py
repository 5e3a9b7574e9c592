"""Property-based fuzzing of the core: mutated and random connection files, and random
sequences of incremental edits. Nothing raises; every range is inside the text and on a
character boundary in UTF-8, UTF-16 and code points."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st
from lsprotocol import types as t

from snowauth.analysis import analyze
from snowauth.lsp.convert import Converter
from snowauth.lsp.documents import Document
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from tests.kit.clock import NOW
from tests.kit.corpus import (
    BASES,
    EMPTYISH,
    ENV,
    STATS,
    Positions,
    apply_edit,
    edit_sequences,
    exercise,
    files,
    mutated_files,
    random_files,
    span,
)
from tests.kit.fuzz import FUZZ


def test_fuzz_bases_are_realistic() -> None:
    """The seeds the mutations start from are files people write: the clean ones have
    connections and no syntax errors."""
    for base in BASES:
        a = exercise(base)
        if base is not EMPTYISH:
            assert a.connections, base[:80]
    for base in BASES[:5]:
        codes = {f.code for f in analyze(base, ENV, NOW).findings}
        assert "toml-syntax" not in codes, (base[:80], codes)


@FUZZ
@given(text=mutated_files, picks=st.lists(st.integers(0, 1 << 16), max_size=4))
def test_fuzz_mutated_files(text: str, picks: list[int]) -> None:
    note(repr(text))
    offsets = [p % (len(text) + 1) for p in picks] + [0, len(text)]
    exercise(text, offsets)
    STATS.add("core: mutated files")


@FUZZ
@given(text=random_files, picks=st.lists(st.integers(0, 1 << 16), max_size=4))
def test_fuzz_random_files(text: str, picks: list[int]) -> None:
    note(repr(text))
    exercise(text, [p % (len(text) + 1) for p in picks] + [len(text)])
    STATS.add("core: random files")


@settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 3))
@given(text=files.filter(lambda s: len(s) <= 160))
def test_fuzz_every_offset_of_small_files(text: str) -> None:
    """Completion and hover at every offset (small texts only, to keep it fast)."""
    note(repr(text))
    exercise(text, range(len(text) + 1), edits=False)
    STATS.add("core: small files, every offset")


@FUZZ
@given(seq=edit_sequences, encoding=st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_fuzz_incremental_edits_in_documents(seq: tuple[str, list[tuple[int, int, str]]], encoding: str) -> None:
    """The server's document model: each edit, sent as an LSP range in the client's
    encoding (several per didChange), gives the text the client has; the analysis of
    the result is that of the text opened fresh."""
    text, edits = seq
    note(repr((text, edits, encoding)))
    doc = Document("file:///fuzz/edits.snowauth.toml", text, 1)
    version = 1
    batch: list[t.TextDocumentContentChangeEvent] = []
    for i, edit in enumerate(edits):
        start, end, inserted = span(text, edit)
        conv = Converter(LineIndex(text), encoding)
        batch.append(t.TextDocumentContentChangePartial(range=conv.range(start, end), text=inserted))
        text = apply_edit(text, edit)
        if i % 3 == 2 or i == len(edits) - 1:
            version += 1
            doc.apply(batch, version, encoding)
            batch = []
            assert doc.text == text
            doc.analysis(ENV.env, NOW)
    exercise(text, [0, len(text)])
    fresh = analyze(text, Environment(ENV.env, doc.folder), NOW)
    incremental = doc.analysis(ENV.env, NOW)
    assert [(f.start, f.end, f.code) for f in incremental.findings] == [
        (f.start, f.end, f.code) for f in fresh.findings
    ]
    STATS.add("core: edit sequences")
    STATS.add("core: incremental edits", len(edits))


def test_fuzz_found_syntax_ranges_ending_inside_crlf() -> None:
    """Found by test_fuzz_mutated_files (fixed in 0abca18): an inline table cut by a CRLF
    line break, `x = { a = 1\\r\\n}`, got its `toml-syntax` "Expected `,` or `}` …,
    found a line break" on [11, 12) = the CR alone: its end, (0, 12) in LSP terms, was
    past the end of line 0 and inside the line break. Every such range is whole now."""
    text = "x = { a = 1\r\n}"
    positions = Positions(text)
    for f in analyze(text, ENV, NOW).findings:
        positions.check_span(f.start, f.end, (f.code, f.message))
