"""A whole file written the plain way, laid out without the table rules' bookkeeping.

Most files are a few top-level keys (`default`), ``[connections.<name>]`` tables of
``key = value`` lines (a stored token as one inline table) and one-line
``<name> = { … }`` connections under one ``[connections]``. In such a file TOML's table
rules (``document._Builder``) find nothing to report, and every key lands at a path known
from its line alone. ``plain_layout`` returns exactly the ``Layout`` that
``document.build`` returns for it (same connections in the same order, same fields, same
order of keys), or None as soon as one statement is written any other way (a dotted key,
a key or a connection twice, an unknown key of a connection, a sub-table, an array, a
half-typed line, another table), and the caller builds the file with the rules.
``tests/hardening/test_plain_layout.py`` holds the two equal on generated files.

This is the one-pass analysis' build (``analysis.analyze``: `snowauth check` and the other
commands, the workspace's files no editor holds open, a file read for one command); the
language server's incremental analysis builds connection by connection
(``plain_build``). docs/performance.md has the figures.
"""

from __future__ import annotations

from snowauth.document import _KEY_PATHS, Connection, Layout
from snowauth.plain_build import NESTED, plain_key, plain_members
from snowauth.syntax import Entry, Header, Parsed

_CONNECTIONS = "connections"


def plain_layout(parsed: Parsed) -> Layout | None:
    """``document.build(parsed)`` when every statement is plain, else None."""
    out = Layout()
    conns = out.connections
    starts = out.section_starts
    top: set[str] = set()  # the top-level keys seen
    c: Connection | None = None  # the connection of the open `[connections.<name>]`
    h: Header | None = None  # its header
    under_connections = False  # in the `[connections]` section
    connections_header = False
    for it in parsed.items:
        if type(it) is Header:
            if c is not None:
                c.segments.append((h.start, it.start))  # type: ignore[union-attr]
            starts.append(it.start)
            key = it.key
            if it.is_array or key[0].name != _CONNECTIONS:
                return None
            if len(key) == 1:
                if connections_header:
                    return None
                connections_header = under_connections = True
                c = None
                continue
            if len(key) != 2 or key[1].name in conns:
                return None
            name = key[1].name
            c = conns[name] = Connection(name, (it.start, it.end))
            c.table_header = h = it
            under_connections = False
            continue
        e: Entry = it  # type: ignore[assignment]
        ek = e.key
        value = e.value
        if value is None or len(ek) != 1:
            return None
        part = ek[0]
        kname = part.name
        kind = value.kind
        if c is not None:  # a key of `[connections.<name>]`
            c.table_body_end = e.end
            if not plain_key(c, part, value, e):
                return None
        elif under_connections:  # `<name> = { … }`
            if kind != "table" or kname in conns:
                return None
            inline = conns[kname] = Connection(kname, (part.start, part.end))
            if not plain_members(value.data, inline.keys, _KEY_PATHS, e):  # type: ignore[arg-type]
                return None
            inline.segments.append((e.start, e.end))
            inline.inline, inline.inline_entry = value, e
        else:  # before the first header
            if kind in NESTED or kname == _CONNECTIONS or kname in top:
                return None
            top.add(kname)
            if kname == "default":
                out.default = (part, value)
            else:
                out.unknown_top.append(part)
    if c is not None:
        c.segments.append((h.start, len(parsed.text)))  # type: ignore[union-attr]
    return out
