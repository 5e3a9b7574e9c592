"""Answers an editor asks for after every edit — document symbols and code lenses — kept
per connection across edits, and folding ranges kept per chunk (docs/performance.md).

The incremental analysis keeps a connection's object until an edit touches it
(``Analysis.placed_connections``). Each connection's piece of the answer is kept as JSON
text whose line numbers count from the line of its header (``convert.LineTemplate``): a
connection the edit did not touch reuses its piece, printed again only when lines were
added or removed above it. Only the touched connections are converted; the answer is
the pieces joined (``convert.RawJson``), which the protocol sends as it is.

The connections and the lines of their headers are listed once per analysis, for both
answers; a line read then stays right when a connection is moved to the text later (by
a hover, a check, the outline converting it). A lens whose title counts down to a
token's expiry is titled again only when that wording changes (``lenses.titles_until``).

Folding ranges are kept by ``folding.LineFolds``, a piece of JSON per chunk of the scan
(``convert.folding_piece``): an edit prints again the pieces of the chunks it changed and
of the tables around them, and those after it only when it added or removed lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

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
from snowauth.positions import LineIndex, LineWalk

if TYPE_CHECKING:
    from snowauth import lenses
    from snowauth.folding import LineFold


class _Piece:
    """One connection's part of an answer."""

    __slots__ = ("conn", "info", "made_at", "rng", "symbol", "text", "timed", "titles", "until")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.symbol: LineTemplate | None = None  # its outline entry (None: not made yet)
        self.info: lenses.LensInfo | None = None
        self.rng: LineTemplate | None = None  # its lenses' range
        self.timed = False  # its lenses' titles change with time (a token's expiry)
        self.titles: tuple[tuple[str, str], ...] = ()  # the lenses ``text`` was made for
        self.made_at: datetime | None = None  # when a timed ``text`` was titled…
        self.until: datetime | None = None  # …and until when its titles read the same
        self.text = b""  # its lenses as JSON


#: a connection as ``Kept.placed`` lists it: its name, the connection, the line of its
#: header in the analysed text, and its piece
Placed = tuple[str, Connection, int, _Piece]

_FORGET = 16  # pieces of connections that are gone, kept until there are this many


class Kept:
    """One document's pieces, for one encoding, by connection."""

    __slots__ = ("_analysis", "_placed", "encoding", "pieces")

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.pieces: dict[int, _Piece] = {}
        self._analysis: Analysis | None = None
        self._placed: list[Placed] | None = None

    def placed(self, a: Analysis, index: LineIndex) -> list[Placed] | None:
        """The connections in order (``Analysis.placed_connections``), each with the line
        of its header (``index``: the analysed text's) and its piece (new ones empty);
        the pieces of connections that are gone are dropped."""
        if a is self._analysis:
            return self._placed
        placed = a.placed_connections()
        out: list[Placed] | None = None
        if placed is not None:
            pieces = self.pieces
            out = []
            append = out.append
            walk = LineWalk(index)  # the headers come in order
            for name, c, d in placed:
                p = pieces.get(id(c))
                if p is None or p.conn is not c:  # (a piece keeps its connection: ids stay unique)
                    p = pieces[id(c)] = _Piece(c)
                append((name, c, walk.move(c.header[0] + d), p))
            if len(pieces) > len(out) + _FORGET:
                self.pieces = {id(c): p for _, c, _, p in out}
        self._analysis, self._placed = a, out
        return out


def forget_analysis(store: dict[object, object]) -> None:
    """The document was edited: its ``Kept`` lets the analysis it listed go (its text,
    line index and list of connections: ~1 MB at 10,000 lines), as that analysis can
    never be asked for again."""
    k = store.get("kept")
    if isinstance(k, Kept):
        k._analysis = k._placed = None


def kept_for(store: dict[object, object], encoding: str) -> Kept:
    """The document's ``Kept`` for ``encoding`` (in ``store``, which survives edits)."""
    k = store.get("kept")
    if not isinstance(k, Kept) or k.encoding != encoding:
        k = store["kept"] = Kept(encoding)
    return k


def document_symbols(k: Kept, a: Analysis, conv: Converter) -> RawJson | Wire:
    """The outline as ``convert.document_symbols`` makes it (hierarchical), made whole
    when the analysis has no incremental engine."""
    from snowauth import outline  # (the outline's core loads at the first request: lsp/features.py)

    placed = k.placed(a, conv.index)
    if placed is None:
        return convert.document_symbol_tree(outline.symbols(a), conv)
    out: list[bytes] = []
    append = out.append
    for name, c, line, p in placed:
        sym = p.symbol
        if sym is None:
            if not c.segments:
                continue
            a.connection(name)  # moves it to this text (the same object)
            made = outline.connection_symbol(c)
            if made is None:
                continue
            sym = p.symbol = symbol_template(made, conv, line)
        append(sym.data if sym.line == line else sym.at(line))
    return RawJson(out)


def code_lenses(k: Kept, a: Analysis, conv: Converter, uri: str, now: datetime) -> RawJson | Wire:
    """The lenses as ``convert.code_lenses`` makes them, made whole when the analysis has
    no incremental engine."""
    from snowauth import lenses  # (at the first request, as the outline's)

    placed = k.placed(a, conv.index)
    if placed is None:
        return convert.code_lenses(uri, conv, [(info, lenses.lens_actions(info, now)) for info in lenses.lenses(a)])
    out: list[bytes] = []
    append = out.append
    for name, c, line, p in placed:
        info, rng = p.info, p.rng
        if info is None or rng is None:
            a.connection(name)
            info = p.info = lenses.lens_info(c)
            rng = p.rng = range_template(conv, info.start, info.end, line)
            p.timed = info.has_token and info.expires_at is not None and not info.needs_client
        elif line == rng.line and (
            not p.timed or (p.made_at is not None and p.until is not None and p.made_at <= now < p.until)
        ):
            append(p.text)
            continue
        actions = lenses.lens_actions(info, now)
        # (an untimed piece comes here made or moved only: it keeps no titles to compare)
        titles = tuple((x.title, x.action) for x in actions) if p.timed else ()
        if not p.timed or titles != p.titles or line != rng.line or not p.text:
            p.text = lenses_text(uri, info, rng.at(line).decode(), actions)
            p.titles = titles
        if p.timed:
            p.made_at, p.until = now, lenses.titles_until(info, now)
        append(p.text)
    return RawJson(out)


def folding_ranges(store: dict[object, object], a: Analysis, conv: Converter, *, lines_only: bool) -> RawJson:
    """``convert.folding_ranges`` of ``folding.folding_ranges``, byte for byte, from the
    document's ``LineFolds`` for this client (in ``store``, which survives edits)."""
    from snowauth.folding import LineFolds  # at the first request, not at the start

    key = ("folds", lines_only, conv.encoding)
    folds = store.get(key)
    if not isinstance(folds, LineFolds):
        folds = store[key] = LineFolds(lines_only=lines_only)

    def printer(found: list[LineFold]) -> bytes:
        return convert.folding_piece(found, conv)

    return RawJson(folds.pieces(a.text, a.chunks, conv.index, printer))
