"""Offsets <-> (line, column) in code points, with LSP's notion of a line break.

Lines end at ``\\r\\n``, ``\\n`` or ``\\r`` (and nothing else: not U+2028, not form
feed). Columns count code points; ``lsp/convert.py`` turns them into the encoding the
client negotiated.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

_BREAK = re.compile(r"\r\n|\n|\r")
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines' other breaks


class LineIndex:
    """Maps offsets in ``text`` to ``(line, column)`` and back."""

    __slots__ = ("starts", "text")

    def __init__(self, text: str, starts: list[int] | None = None) -> None:
        self.text = text
        if starts is None:
            if not any(c in text for c in _OTHER_BREAKS):  # one fast search each
                # str.splitlines breaks at these three and others: fast when there are no others
                starts = [0, *accumulate(map(len, text.splitlines(keepends=True)))]
                if text and not text.endswith(("\n", "\r")):
                    starts.pop()
            else:
                starts = [0]
                starts.extend(m.end() for m in _BREAK.finditer(text))
        self.starts = starts

    def edited(self, text: str, start: int, end: int, inserted: int) -> LineIndex:
        """The index of ``text``: this text with [start, end) replaced by ``inserted``
        characters. Only the line breaks near the edit are looked for again (a CR just
        before it may pair with an LF it brings)."""
        starts = self.starts
        delta = inserted - (end - start)
        lo = max(1, bisect_left(starts, start))  # line starts before the edit stay (and 0)
        hi = bisect_left(starts, end + 2)  # and those past the character after it move
        new = starts[:lo]
        stop = end + 1 + delta
        new.extend(
            p
            for m in _BREAK.finditer(text, max(0, start - 1), min(len(text), stop + 1))
            if start <= (p := m.end()) <= stop
        )
        new.extend([p + delta for p in starts[hi:]] if delta else starts[hi:])
        return LineIndex(text, new)

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        # an offset between \r and \n belongs to the line the \r ends
        return line, offset - self.starts[line]

    def offset(self, line: int, column: int) -> int:
        """The offset of a position, clamped to the line's content (LSP's rule)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start = self.starts[line]
        return start + max(0, min(column, len(self.line_text(line))))

    def line_text(self, line: int) -> str:
        """The text of a line without its line break."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n") if end > start else ""

    def line_count(self) -> int:
        return len(self.starts)


def newline_of(text: str) -> str:
    """The document's line break style: that of its first line break (\\n in a file without)."""
    m = _BREAK.search(text)
    return m.group() if m else "\n"


class LineWalk:
    """The lines of offsets met mostly in increasing order (a long file's headers, its
    folds, thousands after every edit): the next offset's line is found from the last
    one's, by counting the line feeds in between (a file without a CR) or by a search
    bounded by the distance, not by a search of the whole file."""

    __slots__ = ("_lf", "_n", "_starts", "_text", "at", "line")

    def __init__(self, index: LineIndex) -> None:
        self._text, self._starts = index.text, index.starts
        self._n = len(self._starts)
        self._lf = "\r" not in self._text  # lines are then the line feeds in between (fast)
        self.line = self.at = 0  # the last offset moved to, and its line

    def peek(self, x: int) -> int:
        """The line of offset ``x``; the walk stays where it is."""
        line, at = self.line, self.at
        if x < at:
            return bisect_right(self._starts, x) - 1
        if self._lf:
            return line + self._text.count("\n", at, x)
        # the next line start is at most as many lines further as it is characters further
        return bisect_right(self._starts, x, line, min(self._n, line + x - at + 1)) - 1

    def move(self, x: int) -> int:
        """The line of offset ``x``; the walk goes on from there."""
        self.line = line = self.peek(x)
        self.at = x
        return line
