"""Offsets <-> (line, column) in code points, with LSP's notion of a line break.

Lines end at ``\\r\\n``, ``\\n`` or ``\\r`` (and nothing else: not U+2028, not form
feed). Columns count code points; ``lsp/convert.py`` turns them into the encoding the
client negotiated.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_BREAK = re.compile(r"\r\n|\n|\r")


class LineIndex:
    """Maps offsets in ``text`` to ``(line, column)`` and back."""

    __slots__ = ("starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.starts.extend(m.end() for m in _BREAK.finditer(text))

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
