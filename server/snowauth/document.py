"""From the scanned statements to connections: TOML's table rules, then our layout.

``build(parsed)`` resolves headers, dotted keys and inline tables into full paths,
reports what TOML forbids (duplicate keys and tables, a value used as a table), and
groups what is under ``connections.<name>`` into ``Connection`` objects that keep the
exact spans the diagnostics, edits and lenses need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from snowauth.syntax import Entry, Header, KeyPart, Parsed, Value

Span = tuple[int, int]


@dataclass(slots=True)
class Assign:
    """A scalar (or array) value at a path relative to its connection."""

    path: tuple[str, ...]
    key: KeyPart  # the last part of the key: where key diagnostics go
    key_span: Span  # the whole (possibly dotted) key as written
    value: Value
    entry: Entry  # the statement (an inline table's member for inline forms)
    line_entry: Entry  # the top-level statement that holds it (its line)


@dataclass(slots=True)
class Issue:
    """A TOML-level or layout problem found while building."""

    start: int
    end: int
    code: str
    message: str
    related: list[tuple[int, int, str]] = field(default_factory=list)
    suggestion: str | None = None


@dataclass(slots=True)
class Connection:
    name: str
    header: Span  # SPEC: the [connections.<name>] header, else the first introducer
    table_header: Header | None = None
    inline: Value | None = None  # `dev = { … }` form
    inline_entry: Entry | None = None
    keys: dict[str, Assign] = field(default_factory=dict)
    token: dict[str, Assign] = field(default_factory=dict)
    token_header: Header | None = None
    token_inline: Value | None = None
    token_inline_entry: Entry | None = None
    token_defined: bool = False
    token_value_problem: Issue | None = None
    unknown: list[tuple[KeyPart, str]] = field(default_factory=list)  # (part, where: "" | "token")
    wrong_tables: list[tuple[KeyPart, str]] = field(default_factory=list)  # key used as a table
    segments: list[Span] = field(default_factory=list)
    table_body_end: int | None = None  # end of the last key line of [connections.<name>]
    dotted_entries: list[Entry] = field(default_factory=list)

    def contains(self, offset: int) -> bool:
        return any(s <= offset <= e for s, e in self.segments)

    @property
    def extent(self) -> Span:
        return min(s for s, _ in self.segments), max(e for _, e in self.segments)


@dataclass(slots=True)
class Layout:
    connections: dict[str, Connection] = field(default_factory=dict)
    default: tuple[KeyPart, Value] | None = None
    issues: list[Issue] = field(default_factory=list)
    unknown_top: list[KeyPart] = field(default_factory=list)
    section_starts: list[int] = field(default_factory=list)  # offsets of every header


@dataclass(slots=True)
class _Def:
    kind: str  # "table" | "value"
    how: str  # "header" | "implicit" | "dotted" | "inline" | "value"
    start: int
    end: int


class _Builder:
    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.text = parsed.text
        self.defs: dict[tuple[str, ...], _Def] = {}
        self.out = Layout()

    def issue(self, start: int, end: int, code: str, message: str, **kw: object) -> None:
        self.out.issues.append(Issue(start, end, code, message, **kw))  # type: ignore[arg-type]

    def conn(self, name: str, intro: Span) -> Connection:
        c = self.out.connections.get(name)
        if c is None:
            c = Connection(name, intro)
            self.out.connections[name] = c
        return c

    def run(self) -> Layout:
        table: tuple[str, ...] | None = ()
        section: Header | None = None
        headers = [it for it in self.parsed.items if isinstance(it, Header)]
        self.out.section_starts = [h.start for h in headers]
        next_header = 0
        for item in self.parsed.items:
            if isinstance(item, Header):
                self._close_section(section, item.start)
                next_header += 1
                section = item
                table = self._header(item)
                continue
            if table is None or item.value is None:
                if table is not None and item.value is None:
                    self._classify_partial(table, item)
                continue
            self._entry(table, item)
        self._close_section(section, len(self.text))
        return self.out

    # -- headers --------------------------------------------------------------------

    def _header(self, h: Header) -> tuple[str, ...] | None:
        path = tuple(p.name for p in h.key)
        if h.is_array:
            self.issue(
                h.start,
                h.end,
                "array-of-tables",
                f"`[[{'.'.join(path)}]]` is an array of tables, which this file format does not use: "
                f"write `[{'.'.join(path)}]`",
            )
            return None
        for k in range(1, len(path)):
            d = self.defs.get(path[:k])
            if d is None:
                self.defs[path[:k]] = _Def("table", "implicit", h.key[k - 1].start, h.key[k - 1].end)
            elif d.kind == "value" or d.how == "inline":
                self._conflict(h.key[k - 1], path[:k], d)
                return None
        d = self.defs.get(path)
        part = h.key[-1]
        if d is None:
            self.defs[path] = _Def("table", "header", h.start, h.end)
        elif d.kind == "table" and d.how == "implicit":
            d.how, d.start, d.end = "header", h.start, h.end
        elif d.kind == "table" and d.how == "header":
            code = "duplicate-connection" if len(path) == 2 and path[0] == "connections" else "duplicate-table"
            what = f"connection `{path[1]}`" if code == "duplicate-connection" else f"table `[{'.'.join(path)}]`"
            self.issue(
                h.start,
                h.end,
                code,
                f"The {what} is defined twice: merge the two into one table",
                related=[(d.start, d.end, "first defined here")],
            )
        else:
            self._conflict(part, path, d)
            return None
        self._place_table(path, h)
        return path

    def _place_table(self, path: tuple[str, ...], h: Header) -> None:
        if path[0] != "connections":
            self.out.unknown_top.append(h.key[0])
            return
        if len(path) == 1:
            return
        name = path[1]
        c = self.conn(name, (h.start, h.end))
        if len(path) == 2:
            if c.table_header is None:
                c.table_header = h
                c.header = (h.start, h.end)
            return
        if path[2] == "token":
            if len(path) == 3:
                c.token_header = h
                c.token_defined = True
            else:
                c.unknown.append((h.key[3], "token"))
            return
        if path[2] in _connection_keys():
            c.wrong_tables.append((h.key[2], ""))
        else:
            c.unknown.append((h.key[2], ""))

    def _close_section(self, section: Header | None, end: int) -> None:
        if section is None or section.is_array:
            return
        path = tuple(p.name for p in section.key)
        if len(path) < 2 or path[0] != "connections":
            return
        c = self.out.connections.get(path[1])
        if c is not None:
            c.segments.append((section.start, end))

    # -- entries --------------------------------------------------------------------

    def _conflict(self, part: KeyPart, path: tuple[str, ...], d: _Def) -> None:
        what = "a value" if d.kind == "value" else "an inline table" if d.how == "inline" else "a table"
        self.issue(
            part.start,
            part.end,
            "duplicate-key",
            f"`{'.'.join(path)}` is already defined as {what}: TOML does not allow defining it again",
            related=[(d.start, d.end, "first defined here")],
        )

    def _define(self, base: tuple[str, ...], e: Entry, how: str) -> tuple[str, ...] | None:
        names = tuple(p.name for p in e.key)
        path = base + names
        for k in range(len(base) + 1, len(path)):
            d = self.defs.get(path[:k])
            part = e.key[k - len(base) - 1]
            if d is None:
                self.defs[path[:k]] = _Def("table", "dotted" if how != "inline" else "inline", part.start, part.end)
            elif d.kind == "value" or d.how == "header" or (d.how == "inline" and how != "inline"):
                # TOML: dotted keys cannot add to a table defined by a [header]
                self._conflict(part, path[:k], d)
                return None
        d = self.defs.get(path)
        if d is not None:
            code = "duplicate-connection" if len(path) == 2 and path[0] == "connections" else "duplicate-key"
            if code == "duplicate-connection":
                self.issue(
                    e.key[-1].start,
                    e.key[-1].end,
                    code,
                    f"The connection `{path[1]}` is defined twice: merge the two definitions",
                    related=[(d.start, d.end, "first defined here")],
                )
            else:
                self._conflict(e.key[-1], path, d)
            return None
        assert e.value is not None
        kind_how = ("table", "inline") if e.value.kind == "table" else ("value", "value")
        self.defs[path] = _Def(kind_how[0], kind_how[1], e.key[-1].start, e.key[-1].end)
        return path

    def _entry(self, table: tuple[str, ...], e: Entry, line: Entry | None = None) -> None:
        line = line or e
        path = self._define(table, e, "inline" if line is not e else "dotted")
        if path is None:
            return
        assert e.value is not None
        if e.value.kind == "table":
            for member in e.value.data:  # type: ignore[attr-defined]
                self._entry(path, member, line)
        self._place_value(table, path, e, line)

    def _place_value(self, base: tuple[str, ...], path: tuple[str, ...], e: Entry, line: Entry) -> None:
        value = e.value
        assert value is not None

        def part(i: int) -> KeyPart | None:
            """The key part of this entry that names path[i], if this entry names it."""
            return e.key[i - len(base)] if 0 <= i - len(base) < len(e.key) else None

        if path[0] != "connections":
            if path == ("default",):
                self.out.default = (e.key[-1], value)
            elif (p := part(0)) is not None and all(u.name != p.name for u in self.out.unknown_top):
                self.out.unknown_top.append(p)
            return
        if len(path) == 1:
            if value.kind != "table":
                self.issue(
                    value.start,
                    value.end,
                    "wrong-type",
                    "`connections` must be a table of connections, e.g. `[connections.dev]`",
                )
            return
        name = path[1]
        c = self.conn(name, (line.key[0].start, line.key[-1].end))
        if line is e and len(base) < 2:
            c.segments.append((e.start, e.end))
            if len(path) > 2:
                c.dotted_entries.append(e)
        if line is e and base == ("connections", name):
            c.table_body_end = max(c.table_body_end or 0, e.end)
        if len(path) == 2:
            if value.kind != "table":
                self.issue(
                    value.start,
                    value.end,
                    "wrong-type",
                    f"The connection `{name}` must be a table (`[connections.{name}]`), not a {value.kind}",
                )
            else:
                c.inline, c.inline_entry = value, e
            return
        rel = path[2:]
        if rel[0] == "token":
            self._place_token(c, rel, e, line, value, part(3))
            return
        named = part(2)
        if rel[0] not in _connection_keys():
            if named is not None and all(p is not named for p, _ in c.unknown):
                c.unknown.append((named, ""))
            return
        if len(rel) > 1 or value.kind == "table":
            if named is not None and all(p is not named for p, _ in c.wrong_tables):
                c.wrong_tables.append((named, ""))
            return
        span = (e.key[0].start, e.key[-1].end)
        c.keys.setdefault(rel[0], Assign(rel, e.key[-1], span, value, e, line))

    def _place_token(
        self,
        c: Connection,
        rel: tuple[str, ...],
        e: Entry,
        line: Entry,
        value: Value,
        named: KeyPart | None,
    ) -> None:
        from snowauth.model import TOKEN_KEYS

        c.token_defined = True
        if len(rel) == 1:
            if value.kind == "table":
                c.token_inline, c.token_inline_entry = value, e
            else:
                c.token_value_problem = Issue(
                    value.start,
                    value.end,
                    "wrong-type",
                    "`token` must be a table of token keys (written by Fetch token)",
                )
            return
        if rel[1] not in TOKEN_KEYS:
            if named is not None and all(p is not named for p, _ in c.unknown):
                c.unknown.append((named, "token"))
            return
        if len(rel) > 2 or value.kind == "table":
            if named is not None and all(p is not named for p, _ in c.wrong_tables):
                c.wrong_tables.append((named, "token"))
            return
        span = (e.key[0].start, e.key[-1].end)
        c.token.setdefault(rel[1], Assign(rel, e.key[-1], span, value, e, line))

    def _classify_partial(self, table: tuple[str, ...], e: Entry) -> None:
        """A key without a value (half typed): still attribute it to its connection."""
        path = table + tuple(p.name for p in e.key)
        if len(path) >= 3 and path[0] == "connections":
            c = self.out.connections.get(path[1])
            if c is not None and c.table_header is not None and len(table) == 2:
                c.table_body_end = max(c.table_body_end or 0, e.end)


def _connection_keys() -> frozenset[str]:
    from snowauth.model import CONNECTION_KEYS

    return frozenset(CONNECTION_KEYS)


def build(parsed: Parsed) -> Layout:
    return _Builder(parsed).run()
