"""The language server's analysis of a document, kept current edit by edit: only the
connections whose statements an edit touches are built and checked again.

The text is kept as chunks of statements (``syntax.Chunks``); each connection, and the
file level, is a group built and checked from the chunks that hold its statements
(``document.build_connection``). An edit scans again only the chunks it can change;
the groups with statements there are built and checked again, the others keep their
findings, moved by as much as their chunks moved.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from snowauth import model
from snowauth.analysis import Analysis
from snowauth.checks import Checker, link_repeated_unknown_keys
from snowauth.collector import gc_paused
from snowauth.document import (
    Connection,
    Issue,
    Layout,
    attribute,
    build,
    build_connection,
    needs_whole_file,
    owned_statements,
)
from snowauth.findings import ERROR, Edit, Finding, Fix
from snowauth.plain_build import plain_connection
from snowauth.positions import LineIndex, newline_of
from snowauth.secrets import DOTENV, Environment
from snowauth.syntax import Chunk, Chunks, Entry, Header, KeyPart, Value, flatten
from snowauth.value_checks import Shared
from snowauth.wording import humanized_until

_PARSE, _ISSUE, _UNKNOWN, _DEFAULT, _CONNECTION = range(5)  # the order of the findings' kinds
_MANY = 32  # groups to build at once past which the sections' ends are found in one pass


@dataclass(slots=True, eq=False)
class _Group:
    name: str | None  # None: the file level
    chunks: list[Chunk] = field(default_factory=list)  # in the order of the text
    base: int = 0  # chunks[0].start for which the offsets of conn, issues and created are right
    conn: Connection | None = None
    created: int = 0  # where the statement that created the connection starts
    issues: list[Issue] = field(default_factory=list)
    unknown_top: list[KeyPart] = field(default_factory=list)
    default: tuple[KeyPart, Value] | None = None
    out: list[tuple[int, Finding]] = field(default_factory=list)  # (kind, finding)
    starts: list[int] = field(default_factory=list)  # the chunks' starts when ``out`` was made
    checked_at: datetime | None = None
    valid_until: datetime | None = None  # ``out`` depends on the time until then
    volatile: bool = False  # ``out`` depends on files: check it every time


class Incremental:
    """One document's analysis, kept current edit by edit.

    ``edit()`` each change as it comes (cheap), then ``analysis()`` when the findings are
    wanted. The result equals ``analyze()`` of the text (a test checks it)."""

    def __init__(self, text: str) -> None:
        with gc_paused():  # a million small objects and none to collect (analysis.gc_paused)
            self.text = text
            self.version = 0
            self.chunks = Chunks(text)
            self.groups: dict[str | None, _Group] = {}
            self.dirty: set[_Group] = set()  # to build and check again
            self.multi: set[_Group] = set()  # groups of several chunks: did they move apart?
            self.timed: set[_Group] = set()
            self.volatile: set[_Group] = set()
            self.with_findings: set[_Group] = set()
            self.error_chunks: set[Chunk] = {c for c in self.chunks.list if c.errors}
            self.env_key: object = None
            self.newline = newline_of(text)
            self.whole = False  # the file level decides how connections read: analyse all at once
            self._ends: dict[int, int] | None = None  # _section_ends while building many groups
            gov: Header | None = None
            for c in self.chunks.list:
                gov = attribute(c, gov)
                self._join(c)

    # -- edits ------------------------------------------------------------------------------

    def edit(self, text: str, start: int, end: int, inserted: int) -> None:
        """[start, end) of the previous text became ``inserted`` characters: ``text``."""
        k, removed, added = self.chunks.edit(text, start, end, inserted)
        self.text = text
        self.version += 1
        for c in removed:
            self._leave(c)
            self.error_chunks.discard(c)
        chunks = self.chunks.list
        gov = _gov_after(chunks[k - 1]) if k > 0 else None
        for c in added:
            gov = attribute(c, gov)
            self._join(c)
            if c.errors:
                self.error_chunks.add(c)
        # the chunks after may now be under another header
        for c in chunks[k + len(added) :]:
            if c.gov is gov:
                break
            if c.items and type(c.items[0]) is Header:
                c.gov = gov
                break
            self._leave(c)
            attribute(c, gov)
            self._join(c)

    def _join(self, c: Chunk) -> None:
        for o in c.owners:
            g = self.groups.get(o)
            if g is None:
                g = self.groups[o] = _Group(o)
            chunks = g.chunks
            if not chunks or chunks[-1].start < c.start:
                chunks.append(c)  # (the common case: a file read from the top)
            else:
                chunks.insert(bisect_right(chunks, c.start, key=_chunk_start), c)
            if len(g.chunks) > 1:
                self.multi.add(g)
            self.dirty.add(g)

    def _leave(self, c: Chunk) -> None:
        for o in c.owners:
            g = self.groups[o]
            g.chunks.remove(c)
            if len(g.chunks) < 2:
                self.multi.discard(g)
            self.dirty.add(g)

    # -- analysis ---------------------------------------------------------------------------

    def environment_changed(self) -> None:
        """A file the checks read (the .env, a `${file:}` target, a key file) changed on
        disk: check every connection again at the next ``analysis()``, even when the
        .env's stat (``_env_key``) looks the same (a rewrite within the clock's
        resolution, same size and inode)."""
        self.env_key = None

    def analysis(self, env: Environment, now: datetime, index: LineIndex | None = None) -> Analysis:
        with gc_paused():
            key = _env_key(env)
            recheck_all = key != self.env_key
            self.env_key = key
            newline = newline_of(self.text)
            if newline != self.newline:
                self.newline, recheck_all = newline, True
            if needs_whole_file(self._top_items(), self._file_level_headers()):
                self.whole = True
                parsed = flatten(self.text, self.chunks.list)
                layout = build(parsed)
                findings = Checker(self.text, env, now).run(parsed, layout)
                return Analysis(self.text, parsed, layout, findings, index)
            if self.whole:
                self.whole, recheck_all = False, True
                self.dirty.update(self.groups.values())
            for g in self.multi:
                if g not in self.dirty and not _moved_together(g):
                    self.dirty.add(g)
            dirty, self.dirty = self.dirty, set()
            # many to build (a file just opened): every section's end in one pass
            self._ends = self._section_ends() if len(dirty) > _MANY else None
            for g in dirty:
                if not g.chunks:
                    self._forget(g)
                    continue
                self._build(g)
            self._ends = None
            if recheck_all:
                again = set(self.groups.values())
            else:
                again = dirty | self.volatile
                for g in self.timed:
                    assert g.checked_at is not None and g.valid_until is not None
                    if not g.checked_at <= now < g.valid_until:
                        again.add(g)
            shared = Shared()  # by the groups' checkers
            for g in again:
                if g.chunks:
                    self._check(g, env, now, shared)
            findings = self._findings(env, now)
        return Analysis(self.text, None, None, findings, index, self)

    def _forget(self, g: _Group) -> None:
        del self.groups[g.name]
        for s in (self.multi, self.timed, self.volatile, self.with_findings):
            s.discard(g)

    def _top_items(self) -> Iterator[Header | Entry]:
        for c in self.chunks.list:
            for it in c.items:
                if type(it) is Header:
                    return
                yield it

    def _file_level_headers(self) -> Iterator[Header]:
        g = self.groups.get(None)
        for c in g.chunks if g is not None else ():
            h = c.items[0] if c.items else None
            if type(h) is Header:
                yield h

    def _section_ends(self) -> dict[int, int]:
        """``_section_end`` of every header (by id): one pass from the end."""
        ends: dict[int, int] = {}
        end = len(self.text)
        for c in reversed(self.chunks.list):
            if c.items and type(first := c.items[0]) is Header:
                ends[id(first)] = end
                end = first.start + c.start - c.origin
        return ends

    def _section_end(self, h: Header) -> int:
        """Where the section of ``h`` (in a rebased chunk) ends: at the next header."""
        if self._ends is not None and (end := self._ends.get(id(h))) is not None:
            return end
        chunks = self.chunks.list
        # by index: a slice would copy the rest of the list for every header (quadratic)
        for k in range(bisect_right(chunks, h.start, key=_chunk_start), len(chunks)):
            c = chunks[k]
            if c.items and type(first := c.items[0]) is Header:
                return first.start + c.start - c.origin
        return len(self.text)

    def _build(self, g: _Group) -> None:
        for c in g.chunks:
            c.rebase()
        g.base = g.chunks[0].start
        plain = plain_connection(g.name, g.chunks, self._section_end) if g.name is not None else None
        if plain is not None:  # written the plain way: no table rules to apply (plain_build)
            g.conn, g.created = plain
            g.issues, g.unknown_top, g.default = [], [], None
        else:
            b = build_connection(g.name, g.chunks, self._section_end, len(self.text))
            out = b.out
            g.conn = out.connections.get(g.name) if g.name is not None else None
            g.created = b.created.get(g.name, 0) if g.name is not None else 0
            g.issues, g.unknown_top, g.default = out.issues, out.unknown_top, out.default
        conn = g.conn
        g.volatile = conn is not None and (not _FILE_KEYS.isdisjoint(conn.keys) or _reads_a_file(conn))
        (self.volatile.add if g.volatile else self.volatile.discard)(g)

    def _rebase(self, g: _Group) -> None:
        """Move the group's statements, connection and issues to where its chunks are."""
        for c in g.chunks:
            c.rebase()
        d = g.chunks[0].start - g.base
        if d:
            if g.conn is not None:
                _shift_connection(g.conn, d)
            for issue in g.issues:
                _shift_issue(issue, d)
            g.created += d
            g.base += d

    def _check(self, g: _Group, env: Environment, now: datetime, shared: Shared) -> None:
        self._rebase(g)
        ch = Checker(self.text, env, now, shared)
        if g.issues:
            ch.issues(g.issues)
        n_issues = len(ch.out)
        if g.unknown_top:
            ch.unknown_top(g.unknown_top)
        n_unknown = len(ch.out)
        conn = g.conn
        if conn is not None:
            ch.connection(conn)
        g.out = (
            [(_ISSUE if i < n_issues else _UNKNOWN if i < n_unknown else _CONNECTION, f) for i, f in enumerate(ch.out)]
            if ch.out
            else []
        )
        chunks = g.chunks
        g.starts = [chunks[0].start] if len(chunks) == 1 else [c.start for c in chunks]
        g.checked_at = now
        g.valid_until = _valid_until(conn, now) if conn is not None else None
        (self.timed.add if g.valid_until is not None else self.timed.discard)(g)
        (self.with_findings.add if g.out else self.with_findings.discard)(g)

    def _findings(self, env: Environment, now: datetime) -> list[Finding]:
        rows: list[tuple[int, int, int, Finding]] = []
        for c in self.error_chunks:
            d = c.start - c.origin
            for p in c.errors:
                rows.append((p.start + d, p.end + d, _PARSE, Finding(p.start + d, p.end + d, ERROR, p.code, p.message)))
        for g in self.with_findings:
            d = g.chunks[0].start - g.starts[0]
            for kind, f in g.out:
                rows.append((f.start + d, f.end + d, kind, _moved(f, d) if d else f))
        top = self.groups.get(None)
        if top is not None and top.default is not None:
            self._rebase(top)
            ch = Checker(self.text, env, now)
            ch.default(top.default, self._defines, self.connection_names)
            rows.extend((f.start, f.end, _DEFAULT, f) for f in ch.out)
        rows.sort(key=_row_key)
        findings = [r[3] for r in rows]
        link_repeated_unknown_keys(self.text, findings)  # across connections: the whole file's rule
        return findings

    def _defines(self, name: str) -> bool:
        g = self.groups.get(name)
        return g is not None and g.conn is not None

    # -- what an Analysis asks ----------------------------------------------------------------

    def connection(self, name: str) -> Connection | None:
        g = self.groups.get(name)
        if g is None or g.conn is None:
            return None
        self._rebase(g)
        return g.conn

    def connection_names(self) -> list[str]:
        found = [(g.created + g.chunks[0].start - g.base, g.name) for g in self.groups.values() if g.conn is not None]
        found.sort(key=lambda x: x[0])
        return [name for _, name in found if name is not None]

    def placed_connections(self) -> list[tuple[str, Connection, int]]:
        """Every connection in the file's order, none moved: (name, connection, how far its
        offsets lag behind the text). A connection keeps its object until an edit touches
        it (``connection(name)`` moves it), so answers made per connection can be kept."""
        found = [(g.created + g.chunks[0].start - g.base, g) for g in self.groups.values() if g.conn is not None]
        found.sort(key=_first)
        return [(g.name, g.conn, g.chunks[0].start - g.base) for _, g in found]  # type: ignore[misc]

    def default(self) -> tuple[KeyPart, Value] | None:
        top = self.groups.get(None)
        if top is None:
            return None
        self._rebase(top)
        return top.default

    def connection_headers(self) -> list[tuple[Connection, int]]:
        """Every connection with where its ``header`` span starts in the current text,
        without moving the connections there (``_rebase`` moves every span of a
        connection: for all of them after an edit near the top, that is the file's work)."""
        return [(g.conn, g.conn.header[0] + g.chunks[0].start - g.base) for g in self.groups.values() if g.conn]

    def statements_of(self, name: str) -> list[tuple[Header | None, Header | Entry]]:
        """The statements that belong to connection ``name``, each with the header it is
        under (None for a header, or at the top), at their place in the text."""
        g = self.groups.get(name)
        if g is None:
            return []
        out: list[tuple[Header | None, Header | Entry]] = []
        for c in g.chunks:
            c.rebase()
            out += owned_statements(c.items, c.gov, name)
        return out

    def connections_between(self, start: int, end: int) -> list[Connection]:
        """The connections with statements in the chunks that hold [start, end]."""
        chunks = self.chunks.list
        i = max(0, bisect_right(chunks, start, key=_chunk_start) - 1)
        j = bisect_right(chunks, end, key=_chunk_start)
        names = dict.fromkeys(o for c in chunks[i:j] for o in c.owners if o is not None)
        return [c for n in names if (c := self.connection(n)) is not None]

    def items_near(self, offset: int) -> list[Header | Entry]:
        """The statements of the chunk that holds ``offset`` (no other can hold it)."""
        chunks = self.chunks.list
        c = chunks[max(0, bisect_right(chunks, offset, key=_chunk_start) - 1)]
        c.rebase()
        return c.items

    def table_at(self, offset: int) -> tuple[str, ...] | None:
        chunks = self.chunks.list
        c = chunks[max(0, bisect_right(chunks, offset, key=_chunk_start) - 1)]
        c.rebase()
        h = c.items[0] if c.items and type(c.items[0]) is Header else None
        if h is None or h.start > offset or h.end > offset:
            h = c.gov  # a header on the cursor's own line does not open its section before its end
        if h is None:
            return ()
        return None if h.is_array else tuple(p.name for p in h.key)

    def layout(self) -> Layout:
        """Every connection and issue at its place in the current text."""
        for g in self.groups.values():
            self._rebase(g)
        for c in self.chunks.list:
            c.rebase()
        out = Layout()
        for g in sorted((g for g in self.groups.values() if g.conn is not None), key=lambda g: g.created):
            assert g.name is not None and g.conn is not None
            out.connections[g.name] = g.conn
        issues = [i for g in self.groups.values() for i in g.issues]
        issues.sort(key=lambda i: (i.start, i.end))
        out.issues = issues
        top = self.groups.get(None)
        if top is not None:
            out.default, out.unknown_top = top.default, list(top.unknown_top)
        out.section_starts = [c.items[0].start for c in self.chunks.list if c.items and type(c.items[0]) is Header]
        return out


_FILE_KEYS = frozenset(model.FILE_KEYS)


def _reads_a_file(c: Connection) -> bool:
    """A value of ``c`` is a `${file:}` reference."""
    for a in c.keys.values():
        v = a.value
        if v.kind == "string" and "${file:" in str(v.data):
            return True
    return False


def _chunk_start(c: Chunk) -> int:
    return c.start


def _first(x: tuple[int, _Group]) -> int:
    return x[0]


def _row_key(r: tuple[int, int, int, Finding]) -> tuple[int, int, int]:
    return r[0], r[1], r[2]


def _gov_after(c: Chunk) -> Header | None:
    """The header whose table the statements after ``c`` are in."""
    return c.items[0] if c.items and type(c.items[0]) is Header else c.gov


def _moved_together(g: _Group) -> bool:
    if len(g.starts) != len(g.chunks):
        return False
    d = g.chunks[0].start - g.starts[0]
    return all(c.start - s == d for c, s in zip(g.chunks, g.starts, strict=True))


def _env_key(env: Environment) -> object:
    """What the checks read besides the text: the variables, the folder, its .env."""
    stat: tuple[int, ...] | None = None
    if env.folder is not None:
        path = env.folder / DOTENV
        try:  # the link itself and what it leads to: either changes what may be read
            link = path.lstat()
            stat = (link.st_mode, link.st_ino, link.st_mtime_ns, link.st_nlink)
            st = path.stat()
            stat += (st.st_mode, st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            pass
    return frozenset(env.env.items()), env.folder, stat


def _valid_until(c: Connection, now: datetime) -> datetime | None:
    """Until when the connection's findings hold as time passes (its token expires, or
    "expired 3 min ago" becomes "4 min"); None: forever."""
    if not c.token:  # both times are the stored token's: most connections have none
        return None
    out: datetime | None = None
    for dt in (c.token_expiry, c.refresh_expiry):
        if dt is None:
            continue
        until = dt if dt > now else humanized_until(dt, now)
        out = until if out is None else min(out, until)
    return out


def _moved(f: Finding, d: int) -> Finding:
    return Finding(
        f.start + d,
        f.end + d,
        f.severity,
        f.code,
        f.message,
        [(s + d, e + d, m) for s, e, m in f.related],
        [
            Fix(
                x.title,
                [Edit(e.start + d, e.end + d, e.text) for e in x.edits],
                x.appends,
                x.action,
                x.connection,
                x.preferred,
            )
            for x in f.fixes
        ],
        f.tags,
        f.connection,
    )


def _shift_issue(i: Issue, d: int) -> None:
    i.start += d
    i.end += d
    i.related = [(s + d, e + d, m) for s, e, m in i.related]


def _shift_connection(c: Connection, d: int) -> None:
    c.header = (c.header[0] + d, c.header[1] + d)
    c.segments = [(s + d, e + d) for s, e in c.segments]
    if c.table_body_end is not None:
        c.table_body_end += d
    for a in c.keys.values():
        a.key_span = (a.key_span[0] + d, a.key_span[1] + d)
    for a in c.token.values():
        a.key_span = (a.key_span[0] + d, a.key_span[1] + d)
    if c.token_value_problem is not None:
        _shift_issue(c.token_value_problem, d)
    for a in c.export.values():
        a.key_span = (a.key_span[0] + d, a.key_span[1] + d)
    if c.export_value_problem is not None:
        _shift_issue(c.export_value_problem, d)
