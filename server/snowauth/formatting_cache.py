"""Formatting after an edit, in proportion to the edit: the language server's Format
Document kept per table across edits (docs/decisions.md, "Formatting, kept per table").

The text is cut into parts at each header's line: a part is a table (its header, its
statements, the lines after them up to the next header) or the file's top (what comes
before the first header). Where no table moves (a connection's tables already together
and in order: ``formatting._group_order`` changes nothing), each part's new lines stand
for old lines of that part only, so the longest run of kept lines of the whole text is
the parts' own runs one after the other, and the edits are each part's own, plus one
across each place where two parts meet. A part is known by the chunks of the incremental
scan that hold it (``syntax.Chunk``: an edit makes new ones only where it scans again);
what is kept of it is small: where its first and last kept lines are, the new text
before and after them, the edits between (most often none), and whether it changes.

Everything else, a table that moves, a text with a BOM or one whose parts change but
whose whole stays the same length, is formatted whole (``formatting.format_edits``), and
the result is the same edits in every case (``tests/hardening/test_formatting_kept.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from snowauth.findings import Edit
from snowauth.formatting import (
    _BLANK,
    _BOM,
    _fill,
    _gaps,
    _Line,
    _render,
    _sections,
    _Text,
    _trimmed,
    format_edits,
    settled,
)
from snowauth.model import CONNECTIONS_TABLE, EXPORT_TABLE, TOKEN_TABLE
from snowauth.positions import newline_of
from snowauth.syntax import Chunk, Header, Parsed, flatten

# What is kept of a part: the offset of its first kept line from the part's start (-1:
# none is kept), the new text before it, the edits between its kept lines (offsets from
# the part's start), the distance of the end of its last kept line from the part's end,
# the new text after it, whether the new text is the old one, and the new text's length
# less the old one's.
_Pieces = tuple[int, str, tuple[tuple[int, int, str], ...], int, str, bool, int]
# A part as kept: its chunks (one, or a tuple), the chunk after it when the text before
# that chunk's header is in the part, the part's length, its pieces.
_Entry = tuple[Chunk | tuple[Chunk, ...], Chunk | None, int, _Pieces]

_RANK = {EXPORT_TABLE: 2, TOKEN_TABLE: 3}


class FormatCache:
    """What is kept of each part of one document's text, by the id of its first chunk
    (``None``'s id: the top of a file whose first chunk holds a header); the setting and
    newline it was made for. Pieces seen more than once (a canonical table's) are kept
    once."""

    __slots__ = ("key", "parts", "shared")

    def __init__(self) -> None:
        self.key: tuple[bool, str] | None = None
        self.parts: dict[int, _Entry] = {}
        self.shared: dict[_Pieces, _Pieces] = {}


def _part_lines(old: _Text, parsed: Parsed, align: bool, followed: bool) -> list[_Line]:
    """The new lines of a part (as ``formatting._formatted`` makes them there): its
    sections' and, when a header follows, the blank line and the comments that go above
    that header."""
    sections = _sections(old, parsed, followed=followed)
    above = sections.pop().above if followed else ()
    out: list[_Line] = []
    for s in sections:
        _fill(old, parsed, s)
        lines = _render(s, align)
        if lines:
            if out:
                out.extend(_BLANK)
            out.extend(lines)
    if followed:
        if out:
            out.extend(_BLANK)
        out.extend((c, None, k) for c, k in above)
    return out


def _pieces(text: str, lo: int, hi: int, own: Sequence[Chunk], align: bool, nl: str) -> _Pieces:
    items = []
    for c in own:
        c.rebase()
        items.extend(c.items)
    old = _Text(text, lo, hi)
    lines = _part_lines(old, Parsed(text, items), align, hi < len(text))
    same, gaps = _gaps(old, [lines], nl, always=True)
    delta = sum(len(now) - (b - a) for a, b, now in gaps)
    _, first_hi, first_now = gaps[0]
    if len(gaps) == 1:  # no line kept: the part is one with the gaps around it
        return (-1, first_now, (), 0, "", same, delta)
    last_lo, _, last_now = gaps[-1]
    inner = tuple((e.start - lo, e.end - lo, e.text) for a, b, now in gaps[1:-1] for e in _trimmed(a, text[a:b], now))
    return (first_hi - lo, first_now, inner, hi - last_lo, last_now, same, delta)


class _Order:
    """Does ``formatting._group_order`` move a table? Each header in turn: the connection
    of the run of tables before it, its last table's rank, the connections seen."""

    __slots__ = ("name", "rank", "seen")

    def __init__(self) -> None:
        self.name: str | None = None
        self.rank = 0
        self.seen: set[str] = set()

    def moves(self, header: Header) -> bool:
        key = header.key
        if len(key) < 2 or key[0].name != CONNECTIONS_TABLE:
            self.name = None
            return False
        name = key[1].name
        rank = 0 if len(key) == 2 else _RANK.get(key[2].name, 1)
        if name == self.name:
            moved = rank < self.rank
        else:
            moved = name in self.seen
            self.seen.add(name)
            self.name = name
        self.rank = rank
        return moved


def format_edits_kept(
    text: str, chunks: list[Chunk], cache: FormatCache, *, align_values: bool = False
) -> list[Edit] | None:
    """``formatting.format_edits(text)`` for a text whose incremental scan is ``chunks``
    (``Chunk.start`` current), made from what ``cache`` kept of the parts no edit
    touched; None when the text has a syntax error."""
    if any(c.errors for c in chunks):
        return None
    nl = newline_of(text)
    if cache.key != (align_values, nl):
        cache.key = (align_values, nl)
        cache.parts.clear()
        cache.shared.clear()
    if text.startswith(_BOM):
        return format_edits(text, align_values=align_values, parsed=flatten(text, chunks))
    size = len(text)
    parts = cache.parts
    shared = cache.shared
    order = _Order()
    moved = arrays = False
    edits: list[Edit] = []
    pending_lo = 0  # the old text from here to the next kept line is in the gap being made
    pending: list[str] = []  # and the new text there
    all_same = True
    delta = 0
    live: set[int] = set()

    def part(lo: int, hi: int, own: list[Chunk], nxt: Chunk | None) -> None:
        nonlocal pending_lo, all_same, delta
        key = id(own[0]) if own else id(None)
        live.add(key)
        hit = parts.get(key)
        mine: Chunk | tuple[Chunk, ...] = own[0] if len(own) == 1 else tuple(own)
        if (
            hit is not None
            and hit[1] is nxt
            and hit[2] == hi - lo
            and (hit[0] is mine if len(own) == 1 else type(hit[0]) is tuple and _same_chunks(hit[0], own))
        ):
            pieces = hit[3]
        else:
            made = _pieces(text, lo, hi, own, align_values, nl)
            pieces = shared.setdefault(made, made)
            parts[key] = (mine, nxt, hi - lo, pieces)
        head, before, inner, tail, after, same, more = pieces
        all_same = all_same and same
        delta += more
        if head < 0:
            pending.append(before)
            return
        pending.append(before)
        edits.extend(_trimmed(pending_lo, text[pending_lo : lo + head], "".join(pending)))
        edits.extend(Edit(lo + a, lo + b, t) for a, b, t in inner)
        pending_lo = hi - tail
        pending[:] = [after]

    lo = 0
    own: list[Chunk] = []
    for c in chunks:
        items = c.items
        first = items[0] if items else None
        if type(first) is not Header:
            own.append(c)
            continue
        arrays = arrays or first.is_array
        moved = order.moves(first) or moved
        at = first.start - c.origin + c.start  # the header's offset now
        line = max(c.start, text.rfind("\n", c.start, at) + 1)
        if own or line > 0:
            part(lo, line, own, c if line > c.start else None)
        lo, own = line, [c]
    if own or lo < size:
        part(lo, size, own, None)
    if len(parts) > len(live) + 64:  # forget the parts that are gone
        cache.parts = {k: v for k, v in parts.items() if k in live}
    if len(shared) > 2 * len(live) + 64:
        cache.shared = {e[3]: e[3] for e in cache.parts.values()}
    if moved and not arrays:
        return format_edits(text, align_values=align_values, parsed=flatten(text, chunks))
    if all_same:
        return []
    if delta == 0:  # the parts change, yet the whole may be the same: as formatting.format_edits does
        return format_edits(text, align_values=align_values, parsed=flatten(text, chunks))
    edits.extend(_trimmed(pending_lo, text[pending_lo:], "".join(pending)))
    return settled(edits, text, nl)


def _same_chunks(kept: tuple[Chunk, ...], own: list[Chunk]) -> bool:
    return len(kept) == len(own) and all(a is b for a, b in zip(kept, own, strict=True))
