"""positions.LineIndex: offsets <-> (line, column) in code points, with LSP's line breaks
(\\r\\n, \\n, \\r and nothing else)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snowauth.positions import LineIndex, LineWalk
from tests.kit.analysis import HEX32, having, run


def reference_lines(text: str) -> list[tuple[int, str]]:
    """(start offset, content) of each line, computed naively."""
    lines: list[tuple[int, str]] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            lines.append((start, text[start:i]))
            i += 2
            start = i
        elif text[i] in "\r\n":
            lines.append((start, text[start:i]))
            i += 1
            start = i
        else:
            i += 1
    lines.append((start, text[start:]))
    return lines


TEXTS = {
    "ascii": "a = 1\nb = 2\n",
    "no-final-newline": "a = 1\nb = 2",
    "empty": "",
    "only-newlines": "\n\n\n",
    "emoji": 'k = "😀😀"\nx = 1 # 😀\n😀',
    "cjk": "名前 = '漢字'\n漢字漢字\n",
    "combining": 'e\u0301 = "e\u0301\u0301"\nz\u0308\n',
    "crlf": "a = 1\r\nb = 2\r\n\r\nc",
    "lone-cr": "a = 1\rb = 2\r\rc",
    "mixed": "a\r\nb\nc\rd\n\re",
    "bom": "\ufeffa = 1\nb = 2",
    "u2028": 'a = "x\u2028y"\n# \u2029 comment\nb',
    "form-feed": "a = 1\x0c\n# \x0c\nb\x0c",
    "nel-vt": "a\x85b\x0bc\n",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_lines_match_lsp_rules(name: str) -> None:
    text = TEXTS[name]
    idx = LineIndex(text)
    lines = reference_lines(text)
    assert idx.line_count() == len(lines)
    assert idx.starts == [s for s, _ in lines]
    for n, (start, content) in enumerate(lines):
        assert idx.line_text(n) == content
        for col in range(len(content) + 1):
            assert idx.position(start + col) == (n, col)
            assert idx.offset(n, col) == start + col


@pytest.mark.parametrize("name", list(TEXTS))
def test_round_trip_on_every_offset_that_is_not_inside_a_crlf(name: str) -> None:
    text = TEXTS[name]
    idx = LineIndex(text)
    for off in range(len(text) + 1):
        if 0 < off < len(text) and text[off - 1 : off + 1] == "\r\n":
            continue
        line, col = idx.position(off)
        assert idx.offset(line, col) == off


def test_u2028_and_form_feed_do_not_break_lines() -> None:
    text = TEXTS["u2028"]
    idx = LineIndex(text)
    assert idx.line_count() == 3
    assert idx.line_text(0) == 'a = "x\u2028y"'
    assert idx.position(text.index("y")) == (0, 7)
    ff = LineIndex(TEXTS["form-feed"])
    assert ff.line_count() == 3
    assert ff.position(len(TEXTS["form-feed"])) == (2, 2)


def test_emoji_is_one_column() -> None:
    text = "😀x\n😀😀y"
    idx = LineIndex(text)
    assert idx.position(1) == (0, 1)
    assert idx.position(text.index("y")) == (1, 2)
    assert idx.offset(1, 2) == text.index("y")


def test_crlf_offset_between_cr_and_lf_belongs_to_the_line_the_cr_ends() -> None:
    text = "ab\r\ncd"
    idx = LineIndex(text)
    assert idx.position(2) == (0, 2)
    assert idx.position(3) == (0, 3)
    assert idx.position(4) == (1, 0)


@pytest.mark.parametrize(
    ("line", "col", "offset"),
    [
        (0, 0, 0),
        (0, 99, 5),  # clamped to the line's content, before its break
        (1, 99, 12),
        (1, -5, 7),
        (2, 0, 14),
        (2, 3, 14),  # the last (empty) line
        (3, 0, 14),  # past the end
        (-1, 4, 0),
    ],
)
def test_offset_clamps(line: int, col: int, offset: int) -> None:
    idx = LineIndex("a = 1\r\nb = 2\r\n")
    assert idx.offset(line, col) == offset


def test_position_clamps() -> None:
    idx = LineIndex("ab\ncd")
    assert idx.position(-3) == (0, 0)
    assert idx.position(99) == (1, 2)


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ('# 😀😀\n[connections.dev]\nclient_id = "x"\n', 2, 12),
        ('[connections]\ndev = { scope = "😀😀", client_id = "x" }\n', 1, 34),
        ('[connections]\ndev = { scope = "漢字", client_id = "x" }\n', 1, 34),
        ('[connections]\ndev = { scope = "e\u0301e\u0301", client_id = "x" }\n', 1, 36),
        ('[connections.dev]\r\nscope = "a"\r\nclient_id = "x"\r\n', 2, 12),
        ('[connections.dev]\rscope = "a"\rclient_id = "x"\r', 2, 12),
        ('\ufeff[connections.dev]\nclient_id = "x"\n', 1, 12),
        ('# \u2028 \x0c\n[connections.dev]\nscope = "\u2028"\nclient_id = "x"\n', 3, 12),
        ('[connections]\ndev = { scope = "\u2028\u2029", client_id = "x" }\n', 1, 34),
    ],
)
def test_diagnostic_positions_on_non_ascii_lines(text: str, line: int, col: int) -> None:
    a = run(text)
    f = having(a, "client-id-shape")[0]
    assert text[f.start : f.end] == '"x"'
    assert a.index.position(f.start) == (line, col)
    assert a.index.position(f.end) == (line, col + 3)


def test_client_id_after_emoji_column() -> None:
    text = f'[connections.dev]\nclient_id = "😀{HEX32[1:]}" # 😀 "x"\n'
    a = run(text)
    f = having(a, "client-id-shape")[0]
    assert a.index.position(f.start) == (1, 12)
    assert a.index.position(f.end) == (1, 12 + 34)


@given(
    st.text(alphabet="ab\r\n\u2028é", max_size=60),
    st.lists(st.integers(min_value=0, max_value=60), max_size=20),
)
def test_a_line_walk_finds_the_line_of_each_offset_in_any_order(text: str, offsets: list[int]) -> None:
    """LineWalk (a long file's headers and folds, one after the other) gives the same line
    as a search of the whole index, offsets in order or not, with and without CRs."""
    index = LineIndex(text)
    walk = LineWalk(index)
    for x in (min(o, len(text)) for o in offsets):
        line = bisect_line(index, x)
        assert walk.peek(x) == line
        assert walk.move(x) == line
        assert (walk.line, walk.at) == (line, x)


def bisect_line(index: LineIndex, offset: int) -> int:
    return sum(1 for start in index.starts[1:] if start <= offset)
