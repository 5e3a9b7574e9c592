"""Folding ranges of a connection file: each table (its header to its last statement),
each connection over its tables, each value over lines (multi-line strings, arrays,
inline tables) and each block of two or more comment lines.

``folding_ranges`` finds them in offsets; the ranges inside a chunk of statements
(``syntax.Chunk``: its values and comment blocks) can be kept per chunk in a
``FoldCache`` and reused while the chunk is (an edit rescans only the chunks it
touches), and the tables and connections are put together from one look at each
chunk's first statement.

An editor asks again after every edit: the language server keeps a document's folds in
lines, each chunk's printed apart (``LineFolds``), so that an edit costs what it touched
(docs/performance.md, "Folding, proportional to the edit"); the answer is the same.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import is_not
from typing import NamedTuple

from snowauth.model import CONNECTIONS_TABLE
from snowauth.positions import LineIndex
from snowauth.syntax import Chunk, Entry, Header, Value

COMMENT = "comment"


class Fold(NamedTuple):
    """A range to fold, in offsets. ``start`` is on its first line and ``end`` on the last
    line to hide when only whole lines fold (a closing bracket alone on its line stays
    visible). A value also says where its inside starts and ends (``inner``), for a client
    that folds characters."""

    start: int
    end: int
    kind: str | None = None
    inner: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class _Local:
    """What one chunk contributes, in offsets from the chunk's origin."""

    head: tuple[int, str | None] | None  # its header: start, and the connection it is of
    last_end: int | None  # where its last statement ends
    folds: Sequence[Fold]  # (most chunks have none: one shared empty tuple, not a list each)


class FoldCache:
    """The folds of each chunk of one document, kept while the chunk lives: by the
    chunk's id, the chunk, its extent, its own folds (from its start) and those folds
    where the chunk was last seen."""

    def __init__(self) -> None:
        self.chunks: dict[int, tuple[Chunk, int, _Local, int, Sequence[Fold]]] = {}


def _shift(f: Fold, d: int) -> Fold:
    inner = (f.inner[0] + d, f.inner[1] + d) if f.inner is not None else None
    return Fold(f.start + d, f.end + d, f.kind, inner)


def _connection(h: Header) -> str | None:
    key = h.key
    if h.is_array or len(key) < 2 or key[0].name != CONNECTIONS_TABLE:
        return None
    return key[1].name


def _value_folds(text: str, e: Entry, out: list[Fold]) -> None:
    stack: list[tuple[int, Value]] = [(e.start, e.value)] if e.value is not None else []
    while stack:
        start, v = stack.pop()
        if text.find("\n", v.start, v.end) < 0:
            continue
        width = 3 if text.startswith(('"""', "'''"), v.start) else 1
        close = v.end - width
        line_start = text.rfind("\n", 0, close) + 1
        alone = not text[line_start:close].strip()  # the closing delimiter starts its line
        end = max(start, line_start - 1 if alone and line_start > 0 else close)
        out.append(Fold(start, end, None, (v.start + width, close)))
        if v.kind == "array" and isinstance(v.data, list):
            stack.extend((x.start, x) for x in v.data if isinstance(x, Value))
        elif v.kind == "table" and isinstance(v.data, list):
            stack.extend((x.start, x.value) for x in v.data if isinstance(x, Entry) and x.value is not None)


def _comment_folds(text: str, a: int, b: int, out: list[Fold]) -> None:
    """The blocks of comment lines in text[a:b] (between statements)."""
    run_start = run_end = -1
    count = 0
    i = a
    while i < b:
        j = text.find("\n", i, b)
        nxt = b if j < 0 else j + 1
        end = (b if j < 0 else j) - (1 if j > i and text[j - 1] == "\r" else 0)
        if text[i:end].lstrip(" \t").startswith("#"):
            if count == 0:
                run_start = i
            run_end = end
            count += 1
        else:
            if count >= 2:
                out.append(Fold(run_start, run_end, COMMENT))
            count = 0
        i = nxt
    if count >= 2:
        out.append(Fold(run_start, run_end, COMMENT))


def _line_after(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j + 1


def _local(text: str, c: Chunk, stop: int) -> _Local:
    """The folds of chunk ``c`` (its items at their current place) up to ``stop``."""
    c.rebase()
    folds: list[Fold] = []
    at = c.start
    for item in c.items:
        line_start = text.rfind("\n", 0, item.start) + 1
        if line_start > at:
            _comment_folds(text, at, line_start, folds)
        if type(item) is Entry:
            _value_folds(text, item, folds)
        at = max(at, _line_after(text, item.end))
    if at < stop:
        _comment_folds(text, at, stop, folds)
    first = c.items[0] if c.items else None
    head = (first.start - c.start, _connection(first)) if type(first) is Header else None
    d = -c.start
    last_end = c.items[-1].end + d if c.items else None
    folds.sort(key=_order)
    return _Local(head, last_end, [_shift(f, d) for f in folds] if folds else ())


def _order(f: Fold) -> tuple[int, int]:
    return f.start, -f.end


def folding_ranges(text: str, chunks: Sequence[Chunk], cache: FoldCache | None = None) -> list[Fold]:
    """The folds of ``text``, whose scan is ``chunks`` (``Chunk.start`` current; a chunk
    not in ``cache`` is rebased); ``cache`` keeps each chunk's own between calls. Sorted
    by start."""
    seen = cache.chunks if cache is not None else {}
    # in order of their start: a table's and a connection's fold take their place when
    # they begin (None until they end, and for good when they fold nothing)
    out: list[Fold | None] = []
    table = group_at = -1  # where the current table's (connection's) fold goes in ``out``
    table_start = group_start = last_end = 0
    group: str | None = None  # the connection of the current run of tables
    group_tables = 0
    for k, c in enumerate(chunks):
        stop = chunks[k + 1].start if k + 1 < len(chunks) else len(text)
        extent = stop - c.start
        base = c.start
        hit = seen.get(id(c))
        if hit is not None and hit[0] is c and hit[1] == extent:
            local = hit[2]
            if hit[3] == base or not local.folds:  # (no folds of its own: none to move)
                placed = hit[4]
            else:
                placed = [_shift(f, base) for f in local.folds]
                seen[id(c)] = (c, extent, local, base, placed)
        else:
            local = _local(text, c, stop)
            placed = [_shift(f, base) for f in local.folds] if local.folds else ()
            seen[id(c)] = (c, extent, local, base, placed)
        head = local.head
        if head is not None:
            if table >= 0 and last_end > table_start:
                out[table] = Fold(table_start, last_end)
            start, name = head
            if placed and placed[0].start < base + start:  # comments above the header
                before = 1  # (the file's first chunk starts at 0)
                while before < len(placed) and placed[before].start < base + start:
                    before += 1
                out.extend(placed[:before])
                placed = placed[before:]
            if name is None or name != group:
                if group_at >= 0 and group_tables > 1:
                    out[group_at] = Fold(group_start, last_end)
                group, group_tables, group_at = name, 0, -1
                if name is not None:
                    group_at, group_start = len(out), base + start
                    out.append(None)
            group_tables += 1
            table, table_start = len(out), base + start
            out.append(None)
            last_end = table_start
        if local.last_end is not None:
            last_end = base + local.last_end
        if placed:
            out.extend(placed)
    if table >= 0 and last_end > table_start:
        out[table] = Fold(table_start, last_end)
    if group_at >= 0 and group_tables > 1:
        out[group_at] = Fold(group_start, last_end)
    if cache is not None and len(seen) > len(chunks) + 64:  # forget the chunks that are gone
        live = {id(c) for c in chunks}
        cache.chunks = {i: v for i, v in seen.items() if i in live}
    return [f for f in out if f is not None]


# -- kept in lines, edit by edit (the language server's answer) -----------------------------

#: a fold in lines: its first and last line, its kind, and for a value folded to the
#: character the columns (code points) its inside starts and ends at, else -1 and -1
LineFold = tuple[int, int, str | None, int, int]
#: prints one chunk's folds (in order, at least one) as the caller sends them
Printer = Callable[[list[LineFold]], bytes]

_NO_HEADER = object()  # a chunk whose first item is not a header
_KINDS: tuple[str | None, ...] = (None, COMMENT)
_OWN = 5  # numbers per fold of a chunk's own: first and last line (from the chunk's), kind, columns


class LineFolds:
    """A document's folds in lines, kept current edit by edit for one kind of client
    (``lines_only``: whole lines; else a value's inside to the character), each chunk's
    printed apart (``Printer``): the answer is the chunks' pieces in order.

    Kept per chunk, in arrays beside the chunk list: its first line, its extent, its
    header (``_NO_HEADER``, None for a table of no connection, or the connection's name)
    and that header's line, the line of its last statement's end, its own folds (values,
    comments: C ints, lines counted from the chunk's first one, so that they stay right
    where the chunk moves) and, for a header, the last lines of its table's fold and of
    its connection's (-1: none), and its piece.

    After an edit, the chunks the previous list and the current one start and end with
    (the same objects: the incremental scan keeps them, and their text) keep all that;
    the chunks between are looked at again, and the table and connection folds are put
    together again over the connections around them (a connection's tables are the only
    folds that span chunks, and a run of them ends where a header of another one
    starts). Only the pieces of those chunks are printed again; when lines were added or
    removed, the chunks after the edit move by as many lines and are printed again too.
    """

    __slots__ = (
        "_chunks",
        "_ext",
        "_gend",
        "_head",
        "_hrel",
        "_last",
        "_line",
        "_own",
        "_pieces",
        "_runs",
        "_tend",
        "lines_only",
    )

    def __init__(self, *, lines_only: bool) -> None:
        self.lines_only = lines_only
        self._chunks: list[Chunk] = []
        self._ext = array("i")  # each chunk's extent (to the next chunk's start)
        self._line = array("i")  # its first line
        self._head: list[object] = []
        self._hrel = array("i")  # its header's line, from its first
        self._last = array("i")  # its last statement's last line, from its first (-1: no statement)
        self._own: list[array[int] | None] = []  # how many come before its header, then _OWN per fold
        self._tend = array("i")  # a header's table fold: its last line (-1: none)
        self._gend = array("i")  # a connection's first header: the connection's fold's last line (-1: none)
        self._runs = bytearray()  # 1: a header that starts a run of tables (a connection's, or one)
        self._pieces: list[bytes] = []

    def pieces(self, text: str, chunks: list[Chunk], index: LineIndex, printer: Printer) -> list[bytes]:
        """The folds of ``text`` (scanned as ``chunks``, whose ``start`` is current;
        ``index`` its lines) as the non-empty pieces ``printer`` makes, in order: the
        folds ``folding_ranges`` finds, with those that fold no line left out."""
        old = self._chunks
        n_old, n = len(old), len(chunks)
        limit = min(n_old, n)
        p = next(compress(count(), map(is_not, old, chunks)), limit)
        s = min(next(compress(count(), map(is_not, reversed(old), reversed(chunks))), limit), limit - p)
        if p == n == n_old:
            return list(filter(None, self._pieces))
        q_old, q = n_old - s, n - s  # the first of the chunks the lists end with
        starts = index.starts
        moved = bisect_right(starts, chunks[q].start) - 1 - self._line[q_old] if s else 0
        lo = p
        if p and (chunks[p].start if p < n else len(text)) - chunks[p - 1].start != self._ext[p - 1]:
            lo = p - 1
        self._look(text, chunks, starts, lo, q, q_old)
        if moved:
            for a in (self._line, self._tend, self._gend):
                a[q:] = array("i", [x + moved if x >= 0 else x for x in a[q:]])
        tend, gend = self._tend, self._gend
        was = tend[:], gend[:]
        u0, u1 = self._tables(lo, q)
        pieces = self._pieces
        for k in range(u0, n if moved else u1):
            if lo <= k < q or (moved and k >= q) or tend[k] != was[0][k] or gend[k] != was[1][k]:
                pieces[k] = self._print(k, printer)
        return list(filter(None, pieces))

    def _look(self, text: str, chunks: list[Chunk], starts: list[int], lo: int, q: int, q_old: int) -> None:
        """Chunks ``lo`` to ``q`` replace the kept ``lo`` to ``q_old``: their facts (a
        chunk kept elsewhere in that range keeps its own), no pieces yet."""
        old = self._chunks
        was = {id(old[k]): k for k in range(lo, q_old)}
        n = len(chunks)
        ext, line, hrel, last = array("i"), array("i"), array("i"), array("i")
        head: list[object] = []
        own: list[array[int] | None] = []
        for k in range(lo, q):
            c = chunks[k]
            stop = chunks[k + 1].start if k + 1 < n else len(text)
            j = was.get(id(c))
            ext.append(stop - c.start)
            line0 = bisect_right(starts, c.start) - 1
            line.append(line0)
            if j is not None and old[j] is c and self._ext[j] == stop - c.start:
                head.append(self._head[j])
                hrel.append(self._hrel[j])
                last.append(self._last[j])
                own.append(self._own[j])
                continue
            h, r, e, o = _facts(text, c, stop, starts, line0, self.lines_only)
            head.append(h)
            hrel.append(r)
            last.append(e)
            own.append(o)
        self._chunks = list(chunks)
        self._ext[lo:q_old] = ext
        self._line[lo:q_old] = line
        self._head[lo:q_old] = head
        self._hrel[lo:q_old] = hrel
        self._last[lo:q_old] = last
        self._own[lo:q_old] = own
        none = array("i", [-1]) * (q - lo)
        self._tend[lo:q_old] = none
        self._gend[lo:q_old] = none
        self._runs[lo:q_old] = bytes(q - lo)
        self._pieces[lo:q_old] = [b""] * (q - lo)

    def _tables(self, lo: int, q: int) -> tuple[int, int]:
        """The table and connection folds again, over the runs of tables from the one
        before chunk ``lo`` to the first that starts at or after chunk ``q`` and started
        there before too (the chunks from ``q`` on are the kept ones, moved). Returns
        the chunks looked at."""
        head, line, hrel, last = self._head, self._line, self._hrel, self._last
        tend, gend, flags = self._tend, self._gend, self._runs
        u0 = 0
        for k in range(lo - 1, -1, -1):  # the start of the run chunk lo - 1 is in
            if flags[k]:
                u0 = k
                break
        n = len(head)
        group: object = None  # (as folding_ranges: a run starts where the connection changes)
        group_at = table = -1
        group_line = table_line = last_line = 0
        tables = 0
        k = u0
        while k < n:
            h = head[k]
            if h is not _NO_HEADER:
                new = h is None or h != group
                if new and k >= q and k > u0 and flags[k]:
                    break  # a run that started here before: it and those after are as they were
                if table >= 0:
                    tend[table] = last_line if last_line > table_line else -1
                if new:
                    if group_at >= 0:
                        gend[group_at] = last_line if tables > 1 and last_line > group_line else -1
                    group, tables, group_at = h, 0, -1
                    if h is not None:
                        group_at, group_line = k, line[k] + hrel[k]
                gend[k] = -1
                flags[k] = new
                tables += 1
                table, table_line = k, line[k] + hrel[k]
            if last[k] >= 0:
                last_line = line[k] + last[k]
            k += 1
        if table >= 0:
            tend[table] = last_line if last_line > table_line else -1
        if group_at >= 0:
            gend[group_at] = last_line if tables > 1 and last_line > group_line else -1
        return u0, k

    def _print(self, k: int, printer: Printer) -> bytes:
        base = self._line[k]
        own = self._own[k]
        folds: list[LineFold] = []
        pre = own[0] if own is not None else 0
        if own is not None:
            for i in range(1, 1 + pre * _OWN, _OWN):
                folds.append((base + own[i], base + own[i + 1], _KINDS[own[i + 2]], own[i + 3], own[i + 4]))
        if self._head[k] is not _NO_HEADER:
            at = base + self._hrel[k]
            if self._gend[k] >= 0:
                folds.append((at, self._gend[k], None, -1, -1))
            if self._tend[k] >= 0:
                folds.append((at, self._tend[k], None, -1, -1))
        if own is not None:
            for i in range(1 + pre * _OWN, len(own), _OWN):
                folds.append((base + own[i], base + own[i + 1], _KINDS[own[i + 2]], own[i + 3], own[i + 4]))
        return printer(folds) if folds else b""


def _facts(
    text: str, c: Chunk, stop: int, starts: list[int], line0: int, lines_only: bool
) -> tuple[object, int, int, array[int] | None]:
    """Chunk ``c``'s header, its line and its last statement's (from the chunk's first
    line ``line0``), and its own folds that fold a line (``LineFolds._own``)."""
    local = _local(text, c, stop)
    base = c.start
    head: object = _NO_HEADER
    hrel = 0
    header = -1
    if local.head is not None:
        at, head = local.head
        header = base + at
        hrel = bisect_right(starts, header, line0) - 1 - line0
    last = -1 if local.last_end is None else bisect_right(starts, base + local.last_end, line0) - 1 - line0
    if not local.folds:
        return head, hrel, last, None
    own = array("i", [0])
    for f in local.folds:
        if f.inner is not None and not lines_only:
            a, b = base + f.inner[0], base + f.inner[1]
            la, lb = bisect_right(starts, a, line0) - 1, bisect_right(starts, b, line0) - 1
            cols = (a - starts[la], b - starts[lb])
        else:
            la = bisect_right(starts, base + f.start, line0) - 1
            lb = bisect_right(starts, base + f.end, line0) - 1
            cols = (-1, -1)
        if lb <= la:
            continue  # folds no line
        own.extend((la - line0, lb - line0, _KINDS.index(f.kind), *cols))
        if base + f.start < header:
            own[0] += 1
    return head, hrel, last, own if len(own) > 1 else None
