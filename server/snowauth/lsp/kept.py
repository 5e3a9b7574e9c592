"""Answers an editor asks for after every edit — document symbols and code lenses — kept
per connection across edits (docs/performance.md).

The incremental analysis keeps a connection's object until an edit touches it
(``Analysis.placed_connections``). Each connection's piece of the answer is kept as JSON
text whose line numbers count from the line of its header (``convert.LineTemplate``): a
connection the edit did not touch reuses its piece, printed again only when lines were
added or removed above it. Only the touched connections are converted; the answer is
the pieces joined (``convert.RawJson``), which the protocol sends as it is.

The connections' places are listed once per analysis (with how far each lags behind
the text); a connection moved to the text after that (by a hover, a check, the outline
converting it) no longer lags, which its ``header`` having been replaced tells.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime

from snowauth import lenses, outline
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.lsp import convert
from snowauth.lsp.convert import (
    Converter,
    LineTemplate,
    RawJson,
    Wire,
    lenses_text,
    range_template,
    symbol_template,
)


class _Piece:
    """One connection's part of an answer."""

    __slots__ = ("conn", "info", "rng", "symbol", "text", "timed", "titles")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.symbol: LineTemplate | None = None  # its outline entry (None: not made yet)
        self.info: lenses.LensInfo | None = None
        self.rng: LineTemplate | None = None  # its lenses' range
        self.timed = False  # its lenses' titles change with time (a token's expiry)
        self.titles: tuple[tuple[str, str], ...] = ()  # the lenses ``text`` was made for
        self.text = b""  # its lenses as JSON


class Kept:
    """One document's pieces, for one encoding, by connection."""

    __slots__ = ("_analysis", "_placed", "encoding", "pieces")

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.pieces: dict[int, _Piece] = {}
        self._analysis: Analysis | None = None
        self._placed: list[Placed] | None = None

    def placed(self, a: Analysis) -> list[Placed] | None:
        """The connections in order (``Analysis.placed_connections``) with their pieces
        (new ones empty) and their headers as listed (see ``header_start``); the pieces
        of connections that are gone are dropped."""
        if a is self._analysis:
            return self._placed
        placed = a.placed_connections()
        out: list[Placed] | None = None
        if placed is not None:
            old, new = self.pieces, {}
            out = []
            for name, c, d in placed:
                p = old.get(id(c))
                if p is None or p.conn is not c:
                    p = _Piece(c)
                new[id(c)] = p
                out.append((name, c, d, p, c.header))
            self.pieces = new
        self._analysis, self._placed = a, out
        return out


#: a connection as ``Kept.placed`` lists it: name, connection, how far it lagged behind
#: the text, its piece, and its ``header`` then
Placed = tuple[str, Connection, int, _Piece, tuple[int, int]]


def header_start(c: Connection, d: int, header: tuple[int, int]) -> int:
    """Where the header of ``c`` starts in the analysed text: ``d`` past its own offset
    while it lags as listed; a connection moved since has a new ``header`` (offsets are
    moved by replacing it), which is in place."""
    return c.header[0] + d if c.header is header else c.header[0]


def kept_for(store: dict[object, object], encoding: str) -> Kept:
    """The document's ``Kept`` for ``encoding`` (in ``store``, which survives edits)."""
    k = store.get("kept")
    if not isinstance(k, Kept) or k.encoding != encoding:
        k = store["kept"] = Kept(encoding)
    return k


def document_symbols(k: Kept, a: Analysis, conv: Converter) -> RawJson | Wire:
    """The outline as ``convert.document_symbols`` makes it (hierarchical), made whole
    when the analysis has no incremental engine."""
    placed = k.placed(a)
    if placed is None:
        return convert.document_symbol_tree(outline.symbols(a), conv)
    starts = conv.index.starts
    out: list[bytes] = []
    for name, c, d, p, header in placed:
        if not c.segments:
            continue
        line = bisect_right(starts, header_start(c, d, header)) - 1  # the line of its header
        if p.symbol is None:
            a.connection(name)  # moves it to this text (the same object)
            sym = outline.connection_symbol(c)
            if sym is None:
                continue
            p.symbol = symbol_template(sym, conv, line)
        out.append(p.symbol.at(line))
    return RawJson(out)


def code_lenses(k: Kept, a: Analysis, conv: Converter, uri: str, now: datetime) -> RawJson | Wire:
    """The lenses as ``convert.code_lenses`` makes them, made whole when the analysis has
    no incremental engine."""
    placed = k.placed(a)
    if placed is None:
        return convert.code_lenses(uri, conv, [(info, lenses.lens_actions(info, now)) for info in lenses.lenses(a)])
    starts = conv.index.starts
    out: list[bytes] = []
    for name, c, d, p, header in placed:
        line = bisect_right(starts, header_start(c, d, header)) - 1
        info, rng = p.info, p.rng
        if info is None or rng is None:
            a.connection(name)
            info = p.info = lenses.lens_info(c)
            rng = p.rng = range_template(conv, info.start, info.end, line)
            p.timed = info.has_token and info.expires_at is not None and not info.needs_client
        elif line == rng.line and not p.timed:
            out.append(p.text)
            continue
        actions = lenses.lens_actions(info, now)
        titles = tuple((x.title, x.action) for x in actions)
        if titles != p.titles or line != rng.line or not p.text:
            p.text = lenses_text(uri, info, rng.at(line).decode(), actions)
            p.titles = titles
        out.append(p.text)
    return RawJson(out)
