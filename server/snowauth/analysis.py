"""Text -> findings: the façade over the checks (``checks``) and the language server's
incremental analysis (``incremental``), pure and free of LSP types. The codes are listed
in docs/decisions.md.

``analyze(text, env, now)`` returns an ``Analysis``: the scanned statements, the
connections and the findings (``findings``), each with an exact span, a stable code and
its quick fixes as plain text edits.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from snowauth.checks import Checker
from snowauth.collector import gc_paused
from snowauth.document import Connection, Layout, build, owned_statements
from snowauth.findings import Finding
from snowauth.plain_layout import plain_layout
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from snowauth.syntax import Chunk, Entry, Header, KeyPart, Parsed, Value, flatten, parse

if TYPE_CHECKING:
    from snowauth.incremental import Incremental


class Analysis:
    """The findings of one text, and (computed when first asked for) its statements,
    connections and line index.

    ``analyze`` computes everything at once. The language server's analyses come from an
    ``Incremental``, which keeps the statements and connections of the latest text and
    moves them as the text is edited: asking an older analysis for them computes them
    again from its own text. Connections and statements from an older analysis may have
    been moved to the newer text."""

    __slots__ = ("_engine", "_headers", "_index", "_layout", "_parsed", "_version", "findings", "text")

    def __init__(
        self,
        text: str,
        parsed: Parsed | None,
        layout: Layout | None,
        findings: list[Finding],
        index: LineIndex | None = None,
        engine: Incremental | None = None,
    ) -> None:
        self.text = text
        self.findings = findings
        self._parsed = parsed
        self._layout = layout
        self._index = index
        self._engine = engine
        self._version = engine.version if engine is not None else 0
        self._headers: list[Header] | None = None

    def _live(self) -> Incremental | None:
        """The engine, while it still holds this analysis' text."""
        e = self._engine
        if e is not None and e.version != self._version:
            self._engine = e = None
        return e

    @property
    def parsed(self) -> Parsed:
        if self._parsed is None:
            e = self._live()
            self._parsed = flatten(self.text, e.chunks.list) if e is not None else parse(self.text)
        return self._parsed

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            e = self._live()
            self._layout = e.layout() if e is not None else build(self.parsed)
        return self._layout

    @property
    def chunks(self) -> list[Chunk]:
        """The scan's chunks without moving every statement (``parsed`` does): a chunk's
        ``start`` is current, its items are where ``rebase()`` puts them."""
        e = self._live()
        return e.chunks.list if e is not None else self.parsed.chunks

    @property
    def index(self) -> LineIndex:
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index

    @property
    def connections(self) -> dict[str, Connection]:
        return self.layout.connections

    def connection_at(self, offset: int) -> Connection | None:
        for c in self.layout.connections.values():
            if c.contains(offset):
                return c
        return None

    # -- quick questions (no need to move every statement of a long file) -------------------

    def connection(self, name: str) -> Connection | None:
        e = self._live()
        return e.connection(name) if e is not None else self.layout.connections.get(name)

    def connection_names(self) -> list[str]:
        """The names of the connections, in the order the file defines them."""
        e = self._live()
        return e.connection_names() if e is not None else list(self.layout.connections)

    def placed_connections(self) -> list[tuple[str, Connection, int]] | None:
        """The connections in the file's order, none moved: (name, connection, how far its
        offsets lag behind this text); None without an incremental engine (use
        ``connections``). See ``Incremental.placed_connections``."""
        e = self._live()
        return e.placed_connections() if e is not None else None

    @property
    def default(self) -> tuple[KeyPart, Value] | None:
        e = self._live()
        return e.default() if e is not None else self.layout.default

    def connection_headers(self) -> list[tuple[Connection, int]]:
        """Every connection and where its ``header`` span starts in this text; the
        connection's own spans may be those of an earlier text until ``connection(name)``
        moves it (the engine's connections are moved when asked for)."""
        e = self._live()
        if e is not None and not e.whole:
            return e.connection_headers()
        return [(c, c.header[0]) for c in self.layout.connections.values()]

    def statements_of(self, name: str) -> list[tuple[Header | None, Header | Entry]]:
        """The statements that belong to connection ``name`` (``document.header_owner``,
        ``entry_owner``), each with the header it is under (None for a header, or at the
        top): a connection's own chunks only, while the engine holds this text."""
        e = self._live()
        if e is not None and not e.whole:
            return e.statements_of(name)
        return owned_statements(self.parsed.items, None, name)

    def connections_between(self, start: int, end: int) -> list[Connection]:
        """The connections with statements in [start, end], in no particular order: for a
        live analysis only those of the chunks there are moved (inlay hints of a screen)."""
        e = self._live()
        if e is not None:
            return e.connections_between(start, end)
        return [c for c in self.connections.values() if any(s <= end and start <= t for s, t in c.segments)]

    def item_at(self, offset: int) -> Header | Entry | None:
        """The statement whose span holds ``offset`` (ends included)."""
        e = self._live()
        items = e.items_near(offset) if e is not None else self.parsed.items
        i = bisect_right(items, offset, key=_item_start) - 1
        if i >= 0 and items[i].start <= offset <= items[i].end:
            return items[i]
        return None

    def table_at(self, offset: int) -> tuple[str, ...] | None:
        """The table path of the section holding ``offset`` (None inside [[arrays]])."""
        e = self._live()
        if e is not None:
            return e.table_at(offset)
        if self._headers is None:
            self._headers = [it for it in self.parsed.items if type(it) is Header]
        headers = self._headers
        i = bisect_right(headers, offset, key=_item_start) - 1
        # a header on the cursor's own line does not open the section before its end
        while i >= 0 and headers[i].end > offset:
            i -= 1
        if i < 0:
            return ()
        h = headers[i]
        return None if h.is_array else tuple(p.name for p in h.key)


def _item_start(it: Header | Entry) -> int:
    return it.start


def analyze(
    text: str, env: Environment | None = None, now: datetime | None = None, *, index: LineIndex | None = None
) -> Analysis:
    with gc_paused():
        parsed = parse(text)
        layout = plain_layout(parsed) or build(parsed)  # the same Layout (plain_layout.py)
        checker = Checker(text, env or Environment({}, None), now or datetime.now(UTC))
        findings = checker.run(parsed, layout)
    return Analysis(text, parsed, layout, findings, index)
