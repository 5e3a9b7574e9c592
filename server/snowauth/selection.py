"""Selection ranges (Expand Selection): from what is under the cursor outwards — a value
(and the arrays and inline tables around it), the key, the ``key = value`` statement,
the table, the connection (its header through its other tables) and the whole file."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from snowauth.model import CONNECTIONS_TABLE
from snowauth.syntax import Entry, Header, Parsed, Value

Span = tuple[int, int]


def _connection(h: Header) -> str | None:
    key = h.key
    if h.is_array or len(key) < 2 or key[0].name != CONNECTIONS_TABLE:
        return None
    return key[1].name


def _inside_entry(e: Entry, offset: int, out: list[Span]) -> None:
    """The spans inside statement ``e`` that hold ``offset``, innermost first."""
    found: list[Span] = []
    entry: Entry | None = e
    while entry is not None:
        found.append((entry.start, entry.end))
        if entry.key_start <= offset <= entry.key_end:
            found.append((entry.key_start, entry.key_end))
            break
        v = entry.value
        entry = None
        while v is not None and v.start <= offset <= v.end:
            found.append((v.start, v.end))
            inner: Value | None = None
            if v.kind == "array" and isinstance(v.data, list):
                inner = next((x for x in v.data if isinstance(x, Value) and x.start <= offset <= x.end), None)
            elif v.kind == "table" and isinstance(v.data, list):
                entry = next(
                    (x for x in v.data if isinstance(x, Entry) and x.start <= offset <= x.end),
                    None,
                )
            v = inner
    out.extend(reversed(found))


def selection_ranges(text: str, parsed: Parsed, offsets: Sequence[int]) -> list[list[Span]]:
    """For each offset, the spans around it, innermost first, each holding the one before
    (equal spans given once); the last is the whole file."""
    items = parsed.items
    starts = [it.start for it in items]
    headers = [k for k, it in enumerate(items) if type(it) is Header]
    answers = []
    for offset in offsets:
        chain: list[Span] = []
        k = bisect_right(starts, offset) - 1
        item = items[k] if k >= 0 else None
        if item is not None and offset <= item.end:
            if type(item) is Entry:
                _inside_entry(item, offset, chain)
            else:
                chain.append((item.start, item.end))
        h = bisect_right(headers, k) - 1 if k >= 0 else -1
        if h >= 0:
            table = _table(items, headers, h)
            if table[0] <= offset <= table[1]:
                chain.append(table)
                conn = _connection_span(items, headers, h)
                if conn is not None:
                    chain.append(conn)
        chain.append((0, len(text)))
        answers.append(_nested(chain))
    return answers


def _table(items: Sequence[Header | Entry], headers: list[int], h: int) -> Span:
    k = headers[h]
    stop = headers[h + 1] if h + 1 < len(headers) else len(items)
    return items[k].start, items[stop - 1].end


def _connection_span(items: Sequence[Header | Entry], headers: list[int], h: int) -> Span | None:
    header = items[headers[h]]
    assert type(header) is Header
    name = _connection(header)
    if name is None:
        return None
    first = last = h
    while first > 0 and _connection(_header(items, headers, first - 1)) == name:
        first -= 1
    while last + 1 < len(headers) and _connection(_header(items, headers, last + 1)) == name:
        last += 1
    return items[headers[first]].start, _table(items, headers, last)[1]


def _header(items: Sequence[Header | Entry], headers: list[int], h: int) -> Header:
    it = items[headers[h]]
    assert type(it) is Header
    return it


def _nested(chain: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in chain:
        if out and s == out[-1]:
            continue
        if out and not (s[0] <= out[-1][0] and out[-1][1] <= s[1]):
            continue  # never a parent that does not hold its child
        out.append(s)
    return out
