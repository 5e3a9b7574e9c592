"""Folding and selection ranges in the core: what they hold, and folds kept per chunk as
a document is edited equal those of a fresh scan (hypothesis)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from snowauth.folding import COMMENT, Fold, FoldCache, folding_ranges
from snowauth.incremental import Incremental
from snowauth.selection import selection_ranges
from snowauth.syntax import parse
from tests.kit.clock import NOW
from tests.kit.corpus import ENV, edit_sequences, span
from tests.kit.layout import LAYOUT_FUZZ, messy_files

TEXT = """\
# one
# two
[connections.a]
scope = [
  { x = [
    1,
  ] },
]
[connections.a.token]
x = 1
[other]
y = 2
z = 3
"""


def spans(text: str, folds: list[Fold]) -> list[tuple[str, str | None]]:
    return [(text[f.start : f.end], f.kind) for f in folds]


def test_folds_of_comments_tables_connections_and_nested_values() -> None:
    got = spans(TEXT, folding_ranges(TEXT, parse(TEXT).chunks))
    assert (
        got
        == [
            ("# one\n# two", COMMENT),
            (TEXT[TEXT.index("[connections.a]") : TEXT.index("x = 1") + 5], None),  # the connection
            (TEXT[TEXT.index("[connections.a]") : TEXT.index("]\n[connections.a.token]") + 1], None),
            ("scope = [\n  { x = [\n    1,\n  ] },", None),  # to the line before the closing `]`
            ("{ x = [\n    1,\n  ] ", None),  # to its closing brace, on the same line
            ("x = [\n    1,", None),
            ("[connections.a.token]\nx = 1", None),
            ("[other]\ny = 2\nz = 3", None),
        ]
    )


def test_selection_from_a_nested_value_out() -> None:
    at = TEXT.index("1,")
    [chain] = selection_ranges(TEXT, parse(TEXT), [at])
    assert [TEXT[a:b] for a, b in chain] == [
        "1",
        "[\n    1,\n  ]",
        "x = [\n    1,\n  ]",
        "{ x = [\n    1,\n  ] }",
        "[\n  { x = [\n    1,\n  ] },\n]",
        "scope = [\n  { x = [\n    1,\n  ] },\n]",
        TEXT[TEXT.index("[connections.a]") : TEXT.index("]\n[connections.a.token]") + 1],
        TEXT[TEXT.index("[connections.a]") : TEXT.index("x = 1") + 5],
        TEXT,
    ]
    [outside] = selection_ranges(TEXT, parse(TEXT), [1])
    assert outside == [(0, len(TEXT))]


@LAYOUT_FUZZ
@given(seq=edit_sequences)
def test_fuzz_cached_folds_follow_edits(seq: tuple[str, list[tuple[int, int, str]]]) -> None:
    text, edits = seq
    engine = Incremental(text)
    cache = FoldCache()
    folding_ranges(text, engine.analysis(ENV, NOW).chunks, cache)
    for edit in edits:
        start, end, inserted = span(text, edit)
        text = text[:start] + inserted + text[end:]
        engine.edit(text, start, end, len(inserted))
        got = folding_ranges(text, engine.analysis(ENV, NOW).chunks, cache)
        assert got == folding_ranges(text, parse(text).chunks)


@LAYOUT_FUZZ
@given(text=messy_files(), picks=st.lists(st.integers(0, 1 << 16), min_size=1, max_size=4))
def test_fuzz_selection_chains_grow(text: str, picks: list[int]) -> None:
    offsets = [p % (len(text) + 1) for p in picks]
    for at, chain in zip(offsets, selection_ranges(text, parse(text), offsets), strict=True):
        assert chain[-1] == (0, len(text))
        assert chain[0][0] <= at <= chain[0][1]
        for inner, outer in pairwise(chain):
            assert outer != inner and outer[0] <= inner[0] and inner[1] <= outer[1]
