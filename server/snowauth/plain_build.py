"""The connections written the plain way, built without the table rules' bookkeeping.

Almost every connection of a file is a ``[connections.<name>]`` table of ``key = value``
lines (a stored token as one inline table), or one ``<name> = { … }`` line under
``[connections]``. For those, TOML's table rules (``document._Builder``) find nothing to
report, so the connection can be made directly: ``plain_connection`` returns exactly the
``Connection`` that ``document.build_connection`` builds (same fields, same order of
keys), or None when the connection is written any other way (a dotted key, a key twice,
an unknown key, a sub-table, an array...), and the caller builds it with the rules.
``tests/hardening/test_plain_build.py`` holds the two equal on generated connections.

Opening a long file builds every connection once: this is most of that work
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from snowauth.document import _KEY_PATHS, Assign, Connection
from snowauth.model import TOKEN_KEYS
from snowauth.syntax import Chunk, Entry, Header, KeyPart, Value

_CONNECTIONS = "connections"
_TOKEN = "token"
NESTED = ("table", "array")  # values the table rules look into: not plain
TOKEN_PATHS = {k: (_TOKEN, k) for k in TOKEN_KEYS}  # a stored token's keys, at their model path


def plain_connection(
    name: str, chunks: Sequence[Chunk], section_end: Callable[[Header], int]
) -> tuple[Connection, int] | None:
    """The connection ``name`` and where the statement that created it starts, when its
    statements (in ``chunks``, rebased) are plain; else None."""
    first = chunks[0].items
    h = first[0] if first else None
    if type(h) is Header:
        key = h.key
        if h.is_array or len(key) != 2 or key[0].name != _CONNECTIONS or key[1].name != name:
            return _inline_connection(name, chunks)
        return _table_connection(name, h, chunks, section_end)
    return _inline_connection(name, chunks)


def _table_connection(
    name: str, h: Header, chunks: Sequence[Chunk], section_end: Callable[[Header], int]
) -> tuple[Connection, int] | None:
    """``[connections.<name>]`` and its `key = value` lines (``token = { … }`` among them)."""
    c = Connection(name, (h.start, h.end))
    c.table_header = h
    body_end = 0
    has_body = False
    for k, ch in enumerate(chunks):
        items = ch.items
        if k:
            if ch.gov is not h or (items and type(items[0]) is Header):
                return None
            start = 0
        else:
            start = 1
        for i in range(start, len(items)):
            e = items[i]
            if type(e) is not Entry:
                return None
            ek = e.key
            if len(ek) != 1:
                return None
            value = e.value
            has_body = True
            if e.end > body_end:
                body_end = e.end
            if value is None:  # half typed: only the end of the table's body moves
                continue
            if not plain_key(c, ek[0], value, e):
                return None
    if has_body:
        c.table_body_end = body_end
    c.segments.append((h.start, section_end(h)))
    return c, h.start


def plain_key(c: Connection, part: KeyPart, value: Value, e: Entry) -> bool:
    """One `key = value` line of ``[connections.<name>]`` into ``c``: a stored token's inline
    table, or a key at its model path; False when it is not plain (shared with
    ``plain_layout``)."""
    kname = part.name
    kind = value.kind
    if kname == _TOKEN:
        if kind != "table" or c.token_defined or not plain_members(value.data, c.token, TOKEN_PATHS, e):  # type: ignore[arg-type]
            return False
        c.token_defined = True
        c.token_inline, c.token_inline_entry = value, e
        return True
    path = _KEY_PATHS.get(kname)
    if path is None or kind in NESTED or kname in c.keys:
        return False
    c.keys[kname] = Assign(path, part, (part.start, part.end), value, e, e)
    return True


def plain_members(
    members: list[Entry], into: dict[str, Assign], paths: dict[str, tuple[str, ...]], line: Entry
) -> bool:
    """The members of an inline table (a stored token's, an inline connection's) into
    ``into``, each at its model path (``paths``); False when one is not plain (a dotted
    or unknown key, a key twice, a nested value)."""
    for m in members:
        mk = m.key
        value = m.value
        if len(mk) != 1 or value is None:
            return False
        part = mk[0]
        kname = part.name
        path = paths.get(kname)
        if path is None or value.kind in NESTED or kname in into:
            return False
        into[kname] = Assign(path, part, (part.start, part.end), value, m, line)
    return True


_TOP, _TABLE, _MINE, _ELSE = "top", "table", "mine", "else"  # where a statement is, for _inline_connection


def _under(gov: Header | None, name: str) -> str:
    """Where the statements under the header ``gov`` are, for the connection ``name``:
    at the top, in the `[connections]` table, in a table of that connection, elsewhere."""
    if gov is None:
        return _TOP
    key = gov.key
    if gov.is_array or key[0].name != _CONNECTIONS:
        return _ELSE
    if len(key) == 1:
        return _TABLE
    return _MINE if key[1].name == name else _ELSE


def _inline_connection(name: str, chunks: Sequence[Chunk]) -> tuple[Connection, int] | None:
    """``<name> = { key = value, … }`` under ``[connections]``: the connection's only statement."""
    found: Entry | None = None
    for ch in chunks:
        under = _under(ch.gov, name)
        for it in ch.items:
            if type(it) is Header:
                key = it.key
                if not it.is_array and len(key) >= 2 and key[0].name == _CONNECTIONS and key[1].name == name:
                    return None
                under = _under(it, name)
            elif under is _TABLE:  # under `[connections]`: the connection's own statement when named so
                if it.key[0].name == name:
                    if found is not None:
                        return None
                    found = it  # type: ignore[assignment]
            elif under is _TOP:
                key = it.key
                if len(key) >= 2 and key[0].name == _CONNECTIONS and key[1].name == name:
                    return None
            elif under is _MINE:  # under `[connections.<name>…]`
                return None
    if found is None or len(found.key) != 1:
        return None
    e = found
    value = e.value
    if value is None or value.kind != "table":
        return None
    part = e.key[0]
    c = Connection(name, (part.start, part.end))
    if not plain_members(value.data, c.keys, _KEY_PATHS, e):  # type: ignore[arg-type]
        return None
    c.inline, c.inline_entry = value, e
    c.segments.append((e.start, e.end))
    return c, e.start
