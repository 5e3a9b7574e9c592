"""Document symbols: the outline of a file, one symbol per connection with its keys and
token table (a pure function of an Analysis, or of one connection)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snowauth.analysis import Analysis
from snowauth.document import Connection


@dataclass(slots=True)
class Symbol:
    name: str
    kind: str  # "connection" | "key" | "table"
    detail: str
    start: int
    end: int
    selection_start: int
    selection_end: int
    children: list[Symbol] = field(default_factory=list)


def symbols(a: Analysis) -> list[Symbol]:
    return [s for c in a.connections.values() if (s := connection_symbol(c)) is not None]


def connection_symbol(c: Connection) -> Symbol | None:
    """The symbol of one connection (None: it has no place in the text)."""
    if not c.segments:
        return None
    start, end = c.extent
    grant, _ = c.grant_and_pkce()
    inst = c.keys.get("instance")
    detail = " · ".join(str(x) for x in (grant, inst.value.data if inst and inst.value.kind == "string" else None) if x)
    sym = Symbol(c.name, "connection", detail, start, end, c.header[0], c.header[1])
    for key, assign in c.keys.items():
        sym.children.append(
            Symbol(
                key,
                "key",
                "",
                assign.entry.start,
                assign.entry.end,
                assign.key.start,
                assign.key.end,
            )
        )
    if c.token:
        ts = [Symbol(k, "key", "", t.entry.start, t.entry.end, t.key.start, t.key.end) for k, t in c.token.items()]
        tstart, tend = min(s.start for s in ts), max(s.end for s in ts)
        if c.token_header is not None:
            tstart, sel = c.token_header.start, (c.token_header.start, c.token_header.end)
        else:
            sel = (ts[0].selection_start, ts[0].selection_end)
        tstart = min(tstart, tend)
        sym.children.append(Symbol("token", "table", "", tstart, max(tend, sel[1]), sel[0], sel[1], ts))
    for child in sym.children:
        sym.start, sym.end = min(sym.start, child.start), max(sym.end, child.end)
    return sym
