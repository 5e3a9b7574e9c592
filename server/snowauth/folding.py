"""Folding ranges of a connection file: each table (its header to its last statement),
each connection over its tables, each value over lines (multi-line strings, arrays,
inline tables) and each block of two or more comment lines.

An editor asks again after every edit, so the ranges inside a chunk of statements
(``syntax.Chunk``: its values and comment blocks) are kept per chunk in a ``FoldCache``
and reused while the chunk is (an edit rescans only the chunks it touches); the tables
and connections are put together from one look at each chunk's first statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from snowauth.model import CONNECTIONS_TABLE
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
