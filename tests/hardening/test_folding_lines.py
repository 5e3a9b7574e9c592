"""Folding ranges on the wire (``convert.folding_ranges``, lines counted from the fold
before, by line feeds where there are only those) name the lines the line index gives
each fold, whatever the line breaks (LF, CRLF, CR, mixed)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from snowauth.folding import folding_ranges
from snowauth.lsp import convert
from snowauth.positions import LineIndex
from snowauth.syntax import parse
from tests.kit.layout import LAYOUT_FUZZ, messy_files


@LAYOUT_FUZZ
@given(
    text=messy_files(),
    newline=st.sampled_from(["\n", "\r\n", "\r", "mixed"]),
    encoding=st.sampled_from(["utf-16", "utf-8"]),
)
def test_folding_lines_are_the_line_index_lines(text: str, newline: str, encoding: str) -> None:
    if newline == "mixed":
        lines = text.split("\n")
        text = "".join(line + ("\r\n", "\n", "\r")[k % 3] for k, line in enumerate(lines[:-1])) + lines[-1]
    else:
        text = text.replace("\n", newline)
    folds = folding_ranges(text, parse(text).chunks)
    index = LineIndex(text)
    conv = convert.Converter(index, encoding)
    expected = []
    for f in folds:
        first, last = index.position(f.start)[0], index.position(f.end)[0]
        if last > first:
            expected.append({"startLine": first, "endLine": last, **({"kind": f.kind} if f.kind else {})})
    assert json.loads(convert.folding_ranges(folds, conv, line_folding_only=True).json()) == expected
