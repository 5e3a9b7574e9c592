"""From the scanned statements to connections: TOML's table rules, then our layout.

``build(parsed)`` resolves headers, dotted keys and inline tables into full paths,
reports what TOML forbids (duplicate keys and tables, a value used as a table), and
groups what is under ``connections.<name>`` into ``Connection`` objects that keep the
exact spans the diagnostics, edits and lenses need.

One module on purpose (a little over the usual size): the table rules and the layout
are one pass over the statements, and the incremental analysis builds a connection
with the same builder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from snowauth.model import (
    CLIENT_VALUES,
    CONNECTION_KEYS,
    EXPORT_KEYS,
    EXPORT_TABLE,
    TOKEN_KEYS,
    canonical_grant,
    effective_grant,
)
from snowauth.syntax import Chunk, Entry, Header, KeyPart, Parsed, Value

Span = tuple[int, int]

# The codes of what makes a file invalid TOML, that any TOML parser rejects: the
# scanner's and the table rules'. (`snowauth check` adds `encoding`: not UTF-8.) A file
# has none of them exactly when TOML 1.0.0 accepts it (docs/decisions.md); the other
# codes are about the snowauth format, `nesting-too-deep` about a limit of snowauth.
TOML_VALIDITY_CODES = frozenset({"toml-syntax", "duplicate-key", "duplicate-table", "duplicate-connection", "encoding"})


_KEY_PATHS = {key: (key,) for key in CONNECTION_KEYS}  # Assign.path of a connection's own key


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
    """One connection of a file: its keys, stored token and exports (each an ``Assign``),
    and the spans of every statement that defines it."""

    name: str
    header: Span  # the [connections.<name>] header, else the first introducer (docs/decisions.md)
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
    export: dict[str, Assign] = field(default_factory=dict)  # [connections.<name>.export]
    export_header: Header | None = None
    export_inline: Value | None = None
    export_defined: bool = False
    export_value_problem: Issue | None = None
    unknown: list[tuple[KeyPart, str]] = field(default_factory=list)  # (part, where: "" | "token" | "export")
    wrong_tables: list[tuple[KeyPart, str]] = field(default_factory=list)  # key used as a table
    segments: list[Span] = field(default_factory=list)
    table_body_end: int | None = None  # end of the last key line of [connections.<name>]
    dotted_entries: list[Entry] = field(default_factory=list)

    def contains(self, offset: int) -> bool:
        return any(s <= offset <= e for s, e in self.segments)

    @property
    def extent(self) -> Span:
        return min(s for s, _ in self.segments), max(e for _, e in self.segments)

    # -- what the connection says, read when asked (never while the file is built) ---------

    def grant_and_pkce(self) -> tuple[str | None, bool]:
        """The canonical grant (None: missing or unknown; the one `client` implies when
        `grant_type` is left out) and whether PKCE is on (the default)."""
        g, p = self.keys.get("grant_type"), self.keys.get("pkce")
        grant = canonical_grant(str(g.value.data)) if g and g.value.kind == "string" else None
        grant = effective_grant(grant, self.client)
        return grant, bool(p.value.data) if p and p.value.kind == "boolean" else True

    @property
    def client(self) -> str | None:
        """The known client `client` names (`servicenow-sdk`), or None."""
        a = self.keys.get("client")
        value = a.value.data if a is not None and a.value.kind == "string" else None
        return value if isinstance(value, str) and value in CLIENT_VALUES else None

    @property
    def has_token(self) -> bool:
        """An access token is stored in the file."""
        return "access_token" in self.token

    @property
    def has_refresh_token(self) -> bool:
        return "refresh_token" in self.token

    @property
    def token_expiry(self) -> datetime | None:
        """When the stored access token expires: `expires_at` if an offset date-time."""
        return _aware(self.token.get("expires_at"))

    @property
    def refresh_expiry(self) -> datetime | None:
        """When the stored refresh token expires: `refresh_expires_at` if an offset date-time."""
        return _aware(self.token.get("refresh_expires_at"))

    def refresh_expired(self, now: datetime) -> bool:
        until = self.refresh_expiry
        return until is not None and until <= now

    def can_refresh(self, now: datetime) -> bool:
        return self.has_refresh_token and not self.refresh_expired(now)

    @property
    def auto_refresh(self) -> bool:
        """`auto_refresh = true` (docs/reference.md)."""
        a = self.keys.get("auto_refresh")
        return a is not None and a.value.kind == "boolean" and a.value.data is True

    @property
    def has_exports(self) -> bool:
        """The connection declares an `export` sub-table, in any form (`[connections.<name>.export]`,
        `export.<key> = …`, `export = { … }`)."""
        return self.export_defined


def _aware(a: Assign | None) -> datetime | None:
    d = a.value.data if a is not None else None
    return d if isinstance(d, datetime) and d.tzinfo is not None else None


@dataclass(slots=True)
class Layout:
    """What the table rules make of a file: its connections in order, ``default``, the
    problems they found, the unknown top-level names and every header's offset."""

    connections: dict[str, Connection] = field(default_factory=dict)
    default: tuple[KeyPart, Value] | None = None
    issues: list[Issue] = field(default_factory=list)
    unknown_top: list[KeyPart] = field(default_factory=list)
    section_starts: list[int] = field(default_factory=list)  # offsets of every header


# what defined a path: (kind, how, start, end); kind is "table", "value" or "array" (an
# array of tables); how is "header", "implicit" (a header's prefix), "dotted", "inline"
# (an inline table's braces: complete there), "inline-dotted" (a dotted key inside an
# inline table made it) or "value"
_Def = tuple[str, str, int, int]
# A path as the table rules see it: after the name of an array of tables comes the index
# of its element (so each `[[a]]` element has its own `[a.b]`). Paths with no array of
# tables in them are plain names, which is what the layout is built from.
Path = tuple[str | int, ...]
Names = tuple[str, ...]


class _Builder:
    def __init__(self, text_length: int) -> None:
        self.text_length = text_length
        self.defs: dict[Path, _Def] = {}
        self.elements: dict[Path, int] = {}  # array of tables -> index of its last element
        self._unplaced: set[int] = set()  # ids of the [headers] inside an array of tables
        self._placing = True  # False: only the table rules (an inline table in an array)
        self.out = Layout()
        self.created: dict[str, int] = {}  # connection -> offset of the item that created it
        self._at = 0
        # what is already listed, so that listing one more costs the same however many
        # there are (a file with 200,000 unknown keys must not take quadratic time)
        self._top_names: set[str] = set()  # names in out.unknown_top
        self._listed: set[tuple[str, int, str]] = set()  # (list, id of the part, connection)

    def issue(self, start: int, end: int, code: str, message: str, **kw: object) -> None:
        self.out.issues.append(Issue(start, end, code, message, **kw))  # type: ignore[arg-type]

    def conn(self, name: str, start: int, end: int) -> Connection:
        c = self.out.connections.get(name)
        if c is None:
            c = Connection(name, (start, end))
            self.out.connections[name] = c
            self.created[name] = self._at
        return c

    def run(self, items: Iterable[Header | Entry]) -> Layout:
        """Every statement of a file, in order."""
        table: Path | None = ()
        section: Header | None = None
        starts = self.out.section_starts
        for item in items:
            if type(item) is Header:
                self._close_section(section, item.start)
                starts.append(item.start)
                section = item
                table = self.header(item)
            else:
                self.entry(table, item)  # type: ignore[arg-type]
        self._close_section(section, self.text_length)
        return self.out

    def header(self, h: Header) -> Path | None:
        """The table a header opens (None: its entries are not placed)."""
        self._at = h.start
        return self._header(h)

    def entry(self, table: Path | None, e: Entry) -> None:
        if table is None:
            return
        self._at = e.start
        if e.value is None:
            self._classify_partial(table, e)
        else:
            self._entry(table, e)

    def close(self, h: Header, end: int) -> None:
        self._close_section(h, end)

    # -- headers --------------------------------------------------------------------

    def _header(self, h: Header) -> Path | None:
        names = tuple(p.name for p in h.key)
        defs = self.defs
        path: Path = ()
        for k in range(len(names) - 1):
            path = (*path, names[k])
            d = defs.get(path)
            if d is None:
                defs[path] = ("table", "implicit", h.key[k].start, h.key[k].end)
            elif d[0] == "array":
                path = (*path, self.elements[path])  # into its last element
            elif d[0] == "value" or d[1] in ("inline", "inline-dotted"):
                if not h.is_array:
                    self._conflict(h.key[k], names[: k + 1], d)
                    return None
                self._conflict(h.key[k], names[: k + 1], d, (h.start, h.end))
                self._array_advice(h, names)
                return None
        path = (*path, names[-1])
        d = defs.get(path)
        if h.is_array:
            # TOML's rules first, then the format's advice (it has no arrays of tables)
            if d is None:
                defs[path] = ("array", "header", h.start, h.end)
                self.elements[path] = 0
            elif d[0] == "array":
                self.elements[path] += 1
            else:
                self._conflict(h.key[-1], names, d, (h.start, h.end))
                self._array_advice(h, names)
                return None
            self._array_advice(h, names)
            return (*path, self.elements[path])
        if d is None or (d[0] == "table" and d[1] == "implicit"):
            defs[path] = ("table", "header", h.start, h.end)
        elif d[0] == "table" and d[1] == "header":
            code = "duplicate-connection" if len(path) == 2 and path[0] == "connections" else "duplicate-table"
            what = f"connection `{path[1]}`" if code == "duplicate-connection" else f"table `[{'.'.join(names)}]`"
            self.issue(
                h.start,
                h.end,
                code,
                f"The {what} is defined twice: merge the two into one table",
                related=[(d[2], d[3], "first defined here")],
            )
        else:
            self._conflict(h.key[-1], names, d)
            return None
        if len(path) == len(names):
            self._place_table(names, h)
        else:  # inside an array of tables, which the layout leaves out
            self._unplaced.add(id(h))
        return path

    def _array_advice(self, h: Header, names: Names) -> None:
        self.issue(
            h.start,
            h.end,
            "array-of-tables",
            f"`[[{'.'.join(names)}]]` is an array of tables, which this file format does not use: "
            f"write `[{'.'.join(names)}]`",
        )

    def _place_table(self, path: tuple[str, ...], h: Header) -> None:
        if path[0] != "connections":
            self.out.unknown_top.append(h.key[0])
            self._top_names.add(h.key[0].name)
            return
        if len(path) == 1:
            return
        name = path[1]
        c = self.conn(name, h.start, h.end)
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
        if path[2] == EXPORT_TABLE:
            if len(path) == 3:
                c.export_header = h
                c.export_defined = True
            else:
                c.unknown.append((h.key[3], EXPORT_TABLE))
            return
        if path[2] in CONNECTION_KEYS:
            c.wrong_tables.append((h.key[2], ""))
        else:
            c.unknown.append((h.key[2], ""))

    def _close_section(self, section: Header | None, end: int) -> None:
        if section is None or section.is_array or id(section) in self._unplaced:
            return
        key = section.key
        if len(key) < 2 or key[0].name != "connections":
            return
        c = self.out.connections.get(key[1].name)
        if c is not None:
            c.segments.append((section.start, end))

    # -- entries --------------------------------------------------------------------

    def _conflict(self, part: KeyPart, path: Names, d: _Def, span: Span | None = None) -> None:
        what = (
            "a value"
            if d[0] == "value"
            else "an array of tables"
            if d[0] == "array"
            else "an inline table"
            if d[1] == "inline"
            else "a table"
        )
        start, end = span or (part.start, part.end)
        self.issue(
            start,
            end,
            "duplicate-key",
            f"`{'.'.join(path)}` is already defined as {what}: TOML does not allow defining it again",
            related=[(d[2], d[3], "first defined here")],
        )

    def _define(self, base: Path, e: Entry, how: str) -> Path | None:
        key = e.key
        defs = self.defs
        if len(key) == 1:
            path: Path = (*base, key[0].name)
        else:
            path = base + tuple(p.name for p in key)
            for k in range(len(base) + 1, len(path)):
                d = defs.get(path[:k])
                part = key[k - len(base) - 1]
                if d is None:
                    defs[path[:k]] = ("table", "dotted" if how != "inline" else "inline-dotted", part.start, part.end)
                elif d[0] != "table" or d[1] in ("header", "inline") or (d[1] == "inline-dotted" and how != "inline"):
                    # TOML: dotted keys cannot add to a table defined by a [header], to an
                    # inline table (complete at its `}`) nor to an array of tables
                    self._conflict(part, self._names(path[:k]), d)
                    return None
                elif d[1] == "implicit":
                    # a table only a header's prefix made: this key defines it now, so no
                    # [header] may define it later
                    defs[path[:k]] = ("table", "dotted", d[2], d[3])
        d = defs.get(path)
        if d is not None:
            code = "duplicate-connection" if len(path) == 2 and path[0] == "connections" else "duplicate-key"
            if code == "duplicate-connection":
                self.issue(
                    e.key[-1].start,
                    e.key[-1].end,
                    code,
                    f"The connection `{path[1]}` is defined twice: merge the two definitions",
                    related=[(d[2], d[3], "first defined here")],
                )
            else:
                self._conflict(e.key[-1], self._names(path), d)
            return None
        assert e.value is not None
        last = key[-1]
        defs[path] = (
            ("table", "inline", last.start, last.end)
            if e.value.kind == "table"
            else (
                "value",
                "value",
                last.start,
                last.end,
            )
        )
        return path

    def _names(self, path: Path) -> Names:
        """The names of a path (without the indexes of array elements)."""
        return tuple(p for p in path if type(p) is str)

    def _entry(self, table: Path, e: Entry, line: Entry | None = None) -> None:
        line = line or e
        path = self._define(table, e, "inline" if line is not e else "dotted")
        if path is None:
            return
        assert e.value is not None
        if e.value.kind == "table":
            for member in e.value.data:  # type: ignore[attr-defined]
                self._entry(path, member, line)
        elif e.value.kind == "array":
            self._inline_tables_in(path, e.value, line)
        if not self._placing or (self.elements and any(type(p) is int for p in path)):
            return  # inside an array (of tables, or a value): not part of the layout
        self._place_value(cast(Names, table), cast(Names, path), e, line)

    def _inline_tables_in(self, path: Path, array: Value, line: Entry) -> None:
        """The inline tables in an array value, at any depth: each is a namespace of its
        own, under the same rules (no key twice, complete at its `}`)."""
        items = cast(list[Value], array.data)
        for k, item in enumerate(items):
            if item.kind == "array":
                self._inline_tables_in((*path, k), item, line)
            elif item.kind == "table":
                rules = _Builder(self.text_length)
                rules._placing = False
                for member in cast(list[Entry], item.data):
                    rules._entry((*path, k), member, line)
                self.out.issues.extend(rules.out.issues)

    def _place_value(self, base: Names, path: Names, e: Entry, line: Entry) -> None:
        value = e.value
        assert value is not None
        nbase = len(base)
        key = e.key
        # key[i - nbase] names path[i] when 0 <= i - nbase < len(key)
        if path[0] != "connections":
            if path == ("default",):
                self.out.default = (key[-1], value)
            elif nbase == 0 and key[0].name not in self._top_names:
                self.out.unknown_top.append(key[0])
                self._top_names.add(key[0].name)
            return
        npath = len(path)
        if npath == 1:
            if value.kind != "table":
                self.issue(
                    value.start,
                    value.end,
                    "wrong-type",
                    "`connections` must be a table of connections, e.g. `[connections.dev]`",
                )
            return
        name = path[1]
        c = self.out.connections.get(name)
        if c is None:
            c = self.conn(name, line.key[0].start, line.key[-1].end)
        if line is e:
            if nbase < 2:
                c.segments.append((e.start, e.end))
                if npath > 2:
                    c.dotted_entries.append(e)
            elif nbase == 2 and base[1] == name and base[0] == "connections":
                c.table_body_end = max(c.table_body_end or 0, e.end)
        if npath == 2:
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
        first = path[2]
        if first == "token":
            self._place_token(c, path[2:], e, line, value, key[3 - nbase] if 0 <= 3 - nbase < len(key) else None)
            return
        if first == EXPORT_TABLE:
            self._place_export(c, path[2:], e, line, value, key[3 - nbase] if 0 <= 3 - nbase < len(key) else None)
            return
        if first not in CONNECTION_KEYS:
            named = key[2 - nbase] if 0 <= 2 - nbase < len(key) else None
            if named is not None and self._first("unknown", named, c):
                c.unknown.append((named, ""))
            return
        if npath > 3 or value.kind == "table":
            named = key[2 - nbase] if 0 <= 2 - nbase < len(key) else None
            if named is not None and self._first("wrong", named, c):
                c.wrong_tables.append((named, ""))
            return
        if first not in c.keys:  # path is (connections, name, first): one shared (first,)
            c.keys[first] = Assign(_KEY_PATHS[first], key[-1], (key[0].start, key[-1].end), value, e, line)

    def _place_token(
        self,
        c: Connection,
        rel: tuple[str, ...],
        e: Entry,
        line: Entry,
        value: Value,
        named: KeyPart | None,
    ) -> None:
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
        self._place_sub_key(c, "token", TOKEN_KEYS, c.token, rel, e, line, value, named)

    def _place_export(
        self,
        c: Connection,
        rel: tuple[str, ...],
        e: Entry,
        line: Entry,
        value: Value,
        named: KeyPart | None,
    ) -> None:
        """A key of `[connections.<name>.export]`, in any form (its table, dotted keys, an
        inline table): the same rules as the token table's."""
        c.export_defined = True
        if len(rel) == 1:
            if value.kind == "table":
                c.export_inline = value
            else:
                c.export_value_problem = Issue(
                    value.start,
                    value.end,
                    "wrong-type",
                    '`export` must be a table of files to keep fresh, e.g. `export = { dotenv = ".env" }`',
                )
            return
        self._place_sub_key(c, EXPORT_TABLE, EXPORT_KEYS, c.export, rel, e, line, value, named)

    def _place_sub_key(
        self,
        c: Connection,
        where: str,
        known: Mapping[str, object],
        into: dict[str, Assign],
        rel: tuple[str, ...],
        e: Entry,
        line: Entry,
        value: Value,
        named: KeyPart | None,
    ) -> None:
        """A key of a connection's sub-table ``where`` (`token`, `export`): an unknown key or
        a nested table is listed once, the first of a known key kept."""
        if rel[1] not in known:
            if named is not None and self._first("unknown", named, c):
                c.unknown.append((named, where))
            return
        if len(rel) > 2 or value.kind == "table":
            if named is not None and self._first("wrong", named, c):
                c.wrong_tables.append((named, where))
            return
        span = (e.key[0].start, e.key[-1].end)
        into.setdefault(rel[1], Assign(rel, e.key[-1], span, value, e, line))

    def _first(self, which: str, part: KeyPart, c: Connection) -> bool:
        """True the first time ``part`` is listed in ``c``'s ``which`` list (an inline
        table's members reach the same key part more than once)."""
        mark = (which, id(part), c.name)
        if mark in self._listed:
            return False
        self._listed.add(mark)
        return True

    def _classify_partial(self, table: Path, e: Entry) -> None:
        """A key without a value (half typed): still attribute it to its connection."""
        if self.elements and any(type(p) is int for p in table):
            return
        path = cast(Names, table) + tuple(p.name for p in e.key)
        if len(path) >= 3 and path[0] == "connections":
            c = self.out.connections.get(path[1])
            if c is not None and c.table_header is not None and len(table) == 2:
                c.table_body_end = max(c.table_body_end or 0, e.end)


def build(parsed: Parsed) -> Layout:
    return _Builder(len(parsed.text)).run(parsed.items)


# -- one connection at a time (the incremental analysis) --------------------------------------
#
# Every statement belongs to one connection or to the file level (None): its owner. The
# statements of a connection touch only the definitions under `connections.<name>`, so
# its layout can be built from them alone (``build_connection``), as long as the file
# level does not decide how they are read: that is so unless `connections` itself is
# assigned at the top, dotted `connections.*` keys at the top meet a `[connections]`
# header, or an array of tables is named `connections…` (then ``needs_whole_file``).


def header_owner(h: Header) -> str | None:
    key = h.key
    if not h.is_array and len(key) >= 2 and key[0].name == "connections":
        return key[1].name
    return None


def entry_owner(gov: Header | None, e: Entry) -> str | None:
    """The connection a statement under the header ``gov`` (None: the top) belongs to."""
    if gov is None:
        key = e.key
        return key[1].name if len(key) >= 2 and key[0].name == "connections" else None
    g = gov.key
    if gov.is_array or g[0].name != "connections":
        return None
    return g[1].name if len(g) >= 2 else e.key[0].name


def owned_statements(
    items: Iterable[Header | Entry], gov: Header | None, name: str
) -> list[tuple[Header | None, Header | Entry]]:
    """The statements of ``items`` (the first under the header ``gov``) that belong to the
    connection ``name``, each with the header it is under (None for a header itself)."""
    out: list[tuple[Header | None, Header | Entry]] = []
    for it in items:
        if type(it) is Header:
            gov = it
            if header_owner(it) == name:
                out.append((None, it))
        elif entry_owner(gov, it) == name:  # type: ignore[arg-type]
            out.append((gov, it))
    return out


def attribute(chunk: Chunk, gov: Header | None) -> Header | None:
    """Set the chunk's governing header and owners; the governing header after it."""
    chunk.gov = gov
    items = chunk.items
    # only the first item of a chunk can be a header: under `[connections.<name>…]`
    # every statement is the connection's
    h = items[0] if items and type(items[0]) is Header else gov
    if h is not None and not h.is_array and len(key := h.key) >= 2 and key[0].name == "connections":
        chunk.owners = frozenset((key[1].name,))
        return h
    owners: set[str | None] = set()
    continues = not items or type(items[0]) is not Header
    if continues and gov is not None and (o := header_owner(gov)) is not None:
        owners.add(o)  # a section that goes on here: its end moves with this chunk
    for it in items:
        if type(it) is Header:
            gov = it
            owners.add(header_owner(it))
        else:
            owners.add(entry_owner(gov, it))  # type: ignore[arg-type]
    chunk.owners = frozenset(owners)
    return gov


def needs_whole_file(root: Iterable[Header | Entry], headers: Iterable[Header]) -> bool:
    """True when the file level decides how connections' statements are read (see above).
    ``root``: the statements before the first header; ``headers``: the file level's."""
    has_connections_header = False
    for h in headers:
        if h.key[0].name == "connections":
            if h.is_array:  # `[[connections…]]` changes what every later header names
                return True
            has_connections_header = has_connections_header or len(h.key) == 1
    dotted = False
    for it in root:
        if type(it) is Entry and it.key[0].name == "connections":
            if len(it.key) == 1:
                return True
            dotted = True
    return dotted and has_connections_header


def build_connection(
    name: str | None, chunks: Iterable[Chunk], section_end: Callable[[Header], int], text_length: int
) -> _Builder:
    """The layout of one connection (or of the file level, ``name`` None) from the chunks
    that hold its statements, in order. Chunks must be rebased."""
    b = _Builder(text_length)
    tables: dict[int, Path | None] = {}
    open_section: Header | None = None
    for ch in chunks:
        gov = ch.gov
        if open_section is not None and gov is not open_section:
            b.close(open_section, section_end(open_section))
            open_section = None
        for it in ch.items:
            if type(it) is Header:
                if open_section is not None:
                    b.close(open_section, section_end(open_section))
                    open_section = None
                gov = it
                if header_owner(it) == name:
                    tables[id(it)] = b.header(it)
                    if name is not None:
                        open_section = it
                continue
            if entry_owner(gov, it) != name:  # type: ignore[arg-type]
                continue
            if gov is None:
                table: Path | None = ()
            elif (found := tables.get(id(gov), False)) is not False:
                table = found  # type: ignore[assignment]
            else:  # a `[connections]` section, whose header is the file level's
                table = ("connections",)
            b.entry(table, it)  # type: ignore[arg-type]
    if open_section is not None:
        b.close(open_section, section_end(open_section))
    return b
