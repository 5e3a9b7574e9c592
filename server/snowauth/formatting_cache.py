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

from collections.abc import Iterator, Sequence

from snowauth.findings import Edit
from snowauth.formatting import (
    _BLANK,
    _BOM,
    Gap,
    _gaps,
    _Line,
    _rendered,
    _Section,
    _sections,
    _Text,
    _trimmed,
    format_edits,
    settled,
)
from snowauth.model import CONNECTIONS_TABLE, EXPORT_TABLE, TOKEN_TABLE
from snowauth.positions import newline_of
from snowauth.syntax import Chunk, Entry, Header, Parsed, flatten

# What is kept of a part: the offset of its first kept line from the part's start (-1:
# none is kept), the new text before it, the edits between its kept lines (offsets from
# the part's start), the distance of the end of its last kept line from the part's end,
# the new text after it, whether the new text is the old one, and the new text's length
# less the old one's.
_Pieces = tuple[int, str, tuple[tuple[int, int, str], ...], int, str, bool, int]
# A part as kept: its chunks (one, or a tuple), the chunk after it when the text before
# that chunk's header is in the part, the part's length, its pieces.
_Entry = tuple[Chunk | tuple[Chunk, ...], Chunk | None, int, _Pieces]
# A part of the text now: its start and end, its chunks, the chunk after it when the text
# before that chunk's header is in the part, and its pieces (None until known).
_Part = tuple[int, int, list[Chunk], Chunk | None, _Pieces | None]

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


def _part_lines(old: _Text, parsed: Parsed, align: bool, followed: bool) -> Iterator[list[_Line]]:
    """The new lines of parts in a row (as ``formatting._formatted`` makes them where no
    table moves), a table at a time, each freed once rendered: their sections' and, when a
    header follows, the blank line and the comments that go above that header."""
    sections: list[_Section | None] = list(_sections(old, parsed, followed=followed))
    last = sections.pop() if followed else None
    top = sections[0] if sections else None
    if top is not None and top.header is None and not top.tail and top.entries[0] == top.entries[1]:
        del sections[0]  # (a table's part: nothing before its header)
    started = yield from _rendered(old, parsed, sections, align)
    if last is not None:
        if started:
            yield _BLANK
        yield [(c, None, k) for c, k in last.above]


def _made(text: str, lo: int, hi: int, gaps: Sequence[Gap]) -> _Pieces:
    """A part's pieces from its gaps (the first before its first kept line, the last
    after its last one, or one alone when it keeps none)."""
    same = True
    delta = 0
    for a, b, now in gaps:
        if same and (len(now) != b - a or not text.startswith(now, a)):
            same = False
        delta += len(now) - (b - a)
    _, first_hi, first_now = gaps[0]
    if len(gaps) == 1:  # no line kept: the part is one with the gaps around it
        return (-1, first_now, (), 0, "", same, delta)
    last_lo, _, last_now = gaps[-1]
    inner = tuple((e.start - lo, e.end - lo, e.text) for a, b, now in gaps[1:-1] for e in _trimmed(a, text[a:b], now))
    return (first_hi - lo, first_now, inner, hi - last_lo, last_now, same, delta)


def _make(text: str, row: Sequence[_Part], align: bool, nl: str) -> list[_Pieces] | None:
    """The pieces of parts in a row, from one pass over them; None when the header line
    of one after the first changes (a gap across two parts cannot be cut in two)."""
    items: list[Header | Entry] = []
    for p in row:
        for c in p[2]:
            c.rebase()
            items.extend(c.items)
    lo, hi = row[0][0], row[-1][1]
    old = _Text(text, lo, hi)
    _, gaps = _gaps(old, _part_lines(old, Parsed(text, items), align, hi < len(text)), nl, always=True)
    del items
    out: list[_Pieces] = []
    g, n = 0, len(gaps)
    for k, (a, b, *_) in enumerate(row):
        mine: list[Gap] = []
        if k:  # its header line is kept: nothing before it
            if g < n and gaps[g][0] == a:
                return None
            mine.append((a, a, ""))
        while g < n and (gaps[g][0] < b or gaps[g][0] == gaps[g][1] == b):
            if gaps[g][1] > b:
                return None
            mine.append(gaps[g])
            g += 1
        if mine[-1][1] < b:
            mine.append((b, b, ""))  # its last line is kept
        out.append(_made(text, a, b, mine))
    return out


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
    kept = cache.parts
    order = _Order()
    moved = arrays = False
    parts: list[_Part] = []
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
            parts.append((lo, line, own, c if line > c.start else None, None))
        lo, own = line, [c]
    if own or lo < size:
        parts.append((lo, size, own, None, None))
    if moved and not arrays:
        return format_edits(text, align_values=align_values, parsed=flatten(text, chunks))

    missing: list[int] = []
    for k, (a, b, mine, nxt, _) in enumerate(parts):
        hit = kept.get(id(mine[0]) if mine else id(None))
        if hit is not None and hit[1] is nxt and hit[2] == b - a and _same_chunks(hit[0], mine):
            parts[k] = (a, b, mine, nxt, hit[3])
        else:
            missing.append(k)
    shared = cache.shared
    k = 0
    while k < len(missing):  # the missing parts, a row of neighbours at a time
        m = k + 1
        while m < len(missing) and missing[m] == missing[m - 1] + 1:
            m += 1
        row = [parts[i] for i in missing[k:m]]
        made = _make(text, row, align_values, nl) if len(row) > 1 else None
        if made is None:
            made = [_only(_make(text, [p], align_values, nl)) for p in row]
        for i, pieces in zip(missing[k:m], made, strict=True):
            a, b, mine, nxt, _ = parts[i]
            pieces = shared.setdefault(pieces, pieces)
            kept[id(mine[0]) if mine else id(None)] = (mine[0] if len(mine) == 1 else tuple(mine), nxt, b - a, pieces)
            parts[i] = (a, b, mine, nxt, pieces)
        k = m
    if len(kept) > len(parts) + 64:  # forget the parts that are gone
        live = {id(p[2][0]) if p[2] else id(None) for p in parts}
        cache.parts = {i: v for i, v in kept.items() if i in live}
        cache.shared = {e[3]: e[3] for e in cache.parts.values()}
    return _assembled(text, parts, nl, align_values, chunks)


def _only(made: list[_Pieces] | None) -> _Pieces:
    assert made is not None  # (a part alone is never cut)
    return made[0]


def _assembled(text: str, parts: list[_Part], nl: str, align: bool, chunks: list[Chunk]) -> list[Edit] | None:
    """The edits of the whole text from its parts' pieces: each part's own, and one for
    each gap across the place where parts meet."""
    edits: list[Edit] = []
    pending_lo = 0  # the old text from here to the next kept line is in the gap being made
    pending: list[str] = []  # and the new text there
    all_same = True
    delta = 0
    for lo, hi, _, _, pieces in parts:
        assert pieces is not None
        head, before, inner, tail, after, same, more = pieces
        all_same = all_same and same
        delta += more
        pending.append(before)
        if head < 0:
            continue
        edits.extend(_trimmed(pending_lo, text[pending_lo : lo + head], "".join(pending)))
        edits.extend(Edit(lo + a, lo + b, t) for a, b, t in inner)
        pending_lo = hi - tail
        pending = [after]
    if all_same:
        return []
    if delta == 0:  # the parts change, yet the whole may be the same: as formatting.format_edits does
        return format_edits(text, align_values=align, parsed=flatten(text, chunks))
    edits.extend(_trimmed(pending_lo, text[pending_lo:], "".join(pending)))
    return settled(edits, text, nl)


def _same_chunks(kept: Chunk | tuple[Chunk, ...], own: list[Chunk]) -> bool:
    if type(kept) is not tuple:
        return len(own) == 1 and kept is own[0]
    return len(kept) == len(own) and all(a is b for a, b in zip(kept, own, strict=True))
