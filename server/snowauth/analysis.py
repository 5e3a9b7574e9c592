"""Text -> findings: every check of the connection file that needs no network (pure; no
LSP types). The codes are listed in docs/decisions.md.

``analyze(text, env, now)`` returns an ``Analysis``: the scanned statements, the
connections and the findings, each with an exact span, a stable code and its quick
fixes as plain text edits.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from snowauth import model
from snowauth.document import Assign, Connection, Issue, Layout, attribute, build, build_connection, needs_whole_file
from snowauth.instance import InstanceError, check_redirect_uri, instance_url
from snowauth.positions import LineIndex
from snowauth.secrets import (
    DOTENV,
    Environment,
    ReferenceSyntaxError,
    dotenv_append_refusal,
    dotenv_quote,
    parse_reference,
)
from snowauth.syntax import Chunk, Chunks, Entry, Header, KeyPart, Parsed, Value, flatten, parse
from snowauth.token_text import CHECKED_KEYS as TOKEN_TEXT_KEYS
from snowauth.token_text import token_problem

ERROR, WARNING, INFORMATION, HINT = 1, 2, 3, 4
SEVERITY_NAMES = {ERROR: "error", WARNING: "warning", INFORMATION: "information", HINT: "hint"}
TAG_UNNECESSARY = 1

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")


@dataclass(slots=True)
class Edit:
    start: int
    end: int
    text: str


@dataclass(slots=True)
class FileAppend:
    """Append ``text`` to a file beside the document (created when missing)."""

    name: str
    text: str


@dataclass(slots=True)
class Fix:
    title: str
    edits: list[Edit] = field(default_factory=list)
    appends: list[FileAppend] = field(default_factory=list)
    command: str | None = None  # a snowauth.* command run with {"uri", "connection"}
    connection: str | None = None
    preferred: bool = False


@dataclass(slots=True)
class Finding:
    start: int
    end: int
    severity: int
    code: str
    message: str
    related: list[tuple[int, int, str]] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    tags: tuple[int, ...] = ()
    connection: str | None = None


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

    @property
    def default(self) -> tuple[KeyPart, Value] | None:
        e = self._live()
        return e.default() if e is not None else self.layout.default

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


# "Did you mean" is a fuzzy match against every candidate (about 0.2 ms a word against
# the known keys): a file of 200,000 unknown keys, or a `default` among 200,000
# connections on every keystroke, would take minutes. So the first SUGGEST_LIMIT
# unknown keys of each list get a suggestion (the others list the known keys), and a
# connection name is looked for among the first SUGGEST_LIMIT connections.
SUGGEST_LIMIT = 100
NAMES_SHOWN = 20  # connection names listed in a message at most


def suggest(word: str, candidates: Sequence[str]) -> str | None:
    import difflib  # only a mistake needs it

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return found[0] if found else None


def analyze(
    text: str, env: Environment | None = None, now: datetime | None = None, *, index: LineIndex | None = None
) -> Analysis:
    with gc_paused():
        parsed = parse(text)
        layout = build(parsed)
        checker = _Checker(text, env or Environment({}, None), now or datetime.now(UTC))
        findings = checker.run(parsed, layout)
    return Analysis(text, parsed, layout, findings, index)


@contextmanager
def gc_paused() -> Iterator[None]:
    """For work that allocates many small objects and frees none (an analysis, a long
    file's outline): the collector's passes over them (a good part of the time) would
    find nothing to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Checker:
    def __init__(self, text: str, env: Environment, now: datetime) -> None:
        self.text = text
        self.env = env
        self.now = now
        self.out: list[Finding] = []

    def add(self, start: int, end: int, severity: int, code: str, message: str, **kw: object) -> Finding:
        f = Finding(start, end, severity, code, message, **kw)  # type: ignore[arg-type]
        self.out.append(f)
        return f

    def run(self, parsed: Parsed, layout: Layout) -> list[Finding]:
        for p in parsed.errors:
            self.add(p.start, p.end, ERROR, p.code, p.message)
        self.issues(layout.issues)
        self.unknown_top(layout.unknown_top)
        self.default(layout.default, layout.connections.__contains__, lambda: list(layout.connections))
        for c in layout.connections.values():
            self.connection(c)
        self.out.sort(key=lambda f: (f.start, f.end))
        return self.out

    def issues(self, issues: list[Issue]) -> None:
        for issue in issues:
            self.add(issue.start, issue.end, ERROR, issue.code, issue.message, related=list(issue.related))

    def unknown_top(self, parts: list[KeyPart]) -> None:
        known = [*model.TOP_KEYS, model.CONNECTIONS_TABLE]
        for k, part in enumerate(parts):
            self._unknown(part.start, part.end, part.name, known, "at the top level", guess=k < SUGGEST_LIMIT)

    # -- helpers --------------------------------------------------------------------

    def _unknown(
        self,
        start: int,
        end: int,
        name: str,
        known: Sequence[str],
        where: str,
        connection: str | None = None,
        *,
        guess: bool = True,
    ) -> None:
        """``guess``: look for a close known key (see SUGGEST_LIMIT)."""
        found = suggest(name, known) if guess else None
        message = f"Unknown key `{name}` {where}"
        fixes = []
        if found:
            message += f": did you mean `{found}`?"
            fixes.append(Fix(f"Replace with `{found}`", [Edit(start, end, found)], preferred=True))
        else:
            message += f" (known keys: {', '.join(known)})"
        self.add(start, end, ERROR, "unknown-key", message, fixes=fixes, connection=connection)

    def _string(self, a: Assign | None) -> str | None:
        return a.value.data if a is not None and a.value.kind == "string" else None  # type: ignore[return-value]

    def default(
        self,
        default: tuple[KeyPart, Value] | None,
        defined: Callable[[str], bool],
        names: Callable[[], list[str]],
    ) -> None:
        """`default` must name a connection (``defined``; ``names`` in the file's order)."""
        if default is None:
            return
        _, value = default
        if value.kind != "string":
            self.add(
                value.start,
                value.end,
                ERROR,
                "wrong-type",
                f"`default` must be a string naming a connection, not a {_kind(value)}",
            )
            return
        name = value.data
        assert isinstance(name, str)
        if not defined(name):
            known = names()
            guess = suggest(name, known[:SUGGEST_LIMIT])
            shown = ", ".join(known[:NAMES_SHOWN]) + (
                f" and {len(known) - NAMES_SHOWN} more" if len(known) > NAMES_SHOWN else ""
            )
            hint = f": did you mean `{guess}`?" if guess else f" (connections here: {shown or 'none'})"
            fixes = (
                [
                    Fix(
                        f"Use `{guess}`",
                        [Edit(value.start, value.end, f'"{guess}"')],
                        preferred=True,
                    )
                ]
                if guess
                else []
            )
            self.add(
                value.start,
                value.end,
                ERROR,
                "unknown-connection",
                f"`default` names the connection `{name}`, which is not defined{hint}",
                fixes=fixes,
            )

    # -- one connection -------------------------------------------------------------

    def connection(self, c: Connection) -> None:
        name = c.name
        for k, (part, where) in enumerate(c.unknown):
            known = list(model.TOKEN_KEYS) if where == "token" else [*model.CONNECTION_KEYS, model.TOKEN_TABLE]
            place = f"in the token of `{name}`" if where == "token" else f"in the connection `{name}`"
            self._unknown(part.start, part.end, part.name, known, place, name, guess=k < SUGGEST_LIMIT)
        for part, where in c.wrong_tables:
            specs = model.TOKEN_KEYS if where == "token" else model.CONNECTION_KEYS
            spec = specs[part.name]
            self.add(
                part.start,
                part.end,
                ERROR,
                "wrong-type",
                f"`{part.name}` must be a {_type_name(spec)}, not a table",
                connection=name,
            )
        if c.token_value_problem is not None:
            p = c.token_value_problem
            self.add(p.start, p.end, ERROR, p.code, p.message, connection=name)

        for key, a in c.keys.items():
            self._type(a, model.CONNECTION_KEYS[key], name)
        grant_assign = c.keys.get("grant_type")
        grant_raw = self._string(grant_assign)
        grant = model.canonical_grant(grant_raw) if grant_raw is not None else None
        if grant_raw is not None and grant is None and grant_assign is not None:
            v = grant_assign.value
            choices = [*model.GRANTS, model.JWT_BEARER_ALIAS]
            guess = suggest(grant_raw, choices)
            msg = f"Unknown grant type `{grant_raw}`: use one of {', '.join(f'`{g}`' for g in model.GRANTS)}"
            if guess:
                msg = f"Unknown grant type `{grant_raw}`: did you mean `{guess}`?"
            fixes = [Fix(f'Use "{guess}"', [Edit(v.start, v.end, f'"{guess}"')], preferred=True)] if guess else []
            self.add(v.start, v.end, ERROR, "invalid-grant-type", msg, fixes=fixes, connection=name)

        pkce_assign = c.keys.get("pkce")
        pkce = pkce_assign.value.data if pkce_assign and pkce_assign.value.kind == "boolean" else True
        grant_label = "JWT bearer" if grant == model.GRANT_JWT_BEARER else grant or ""
        for key in _required_keys(grant, bool(pkce)):
            if key not in c.keys:
                why = (
                    f"required for the `{grant_label}` grant"
                    if grant and key not in ("instance", "grant_type", "client_id")
                    else "required"
                )
                fix = self._insert_key_fix(c, key)
                self.add(
                    c.header[0],
                    c.header[1],
                    ERROR,
                    "missing-key",
                    f"The connection `{name}` is missing `{key}` ({why})",
                    fixes=[fix] if fix else [],
                    connection=name,
                )

        for key, a in c.keys.items():
            if model.is_ignored(key, grant):
                self.add(
                    a.key.start,
                    a.key.end,
                    WARNING,
                    "ignored-key",
                    f"`{key}` is ignored by the `{grant_label}` grant (it is used only by "
                    f"{', '.join(sorted(model.CONNECTION_KEYS[key].grants or ()))})",
                    tags=(TAG_UNNECESSARY,),
                    fixes=self._remove_fix(a, key),
                    connection=name,
                )
        self._values(c, grant)
        self._token(c)

    def _type(self, a: Assign, spec: model.KeySpec, connection: str) -> bool:
        v = a.value
        ok = v.kind in _KINDS[spec.type]
        if not ok:
            self.add(
                v.start,
                v.end,
                ERROR,
                "wrong-type",
                f"`{spec.name}` must be a {_type_name(spec)}, not a {_kind(v)}",
                connection=connection,
            )
        return ok

    def _values(self, c: Connection, grant: str | None) -> None:
        name = c.name
        for key, a in c.keys.items():
            v = a.value
            if v.kind != "string":
                continue
            value = str(v.data)
            try:
                ref = parse_reference(value)
            except ReferenceSyntaxError as exc:
                self.add(v.start, v.end, WARNING, "invalid-reference", str(exc), connection=name)
                continue
            if ref is not None:
                problem = self.env.problem(ref)
                if problem:
                    self.add(
                        v.start,
                        v.end,
                        WARNING,
                        "unresolved-reference",
                        f"{problem}: set it before fetching a token",
                        connection=name,
                    )
                continue
            spec = model.CONNECTION_KEYS[key]
            if spec.secret and value and not model.is_ignored(key, grant):
                var = env_name(name, key)
                message = f"`{key}` is written in plain text: move it to an environment variable, e.g. `${{env:{var}}}`"
                fixes = [
                    Fix(
                        f"Move `{key}` to ${{env:{var}}} (written to .env beside this file)",
                        [Edit(v.start, v.end, f'"${{env:{var}}}"')],
                        appends=[FileAppend(DOTENV, f"{var}={_dotenv_quote(value)}\n")],
                        preferred=True,
                    )
                ]
                # the client writes the append wherever `.env` leads: never through a link
                # (a `.env` linked to `~/.bashrc` in a cloned repository), nor elsewhere
                refusal = dotenv_append_refusal(self.env.folder) if self.env.folder is not None else None
                if refusal is not None:
                    message += f" (no quick fix: the .env beside this file is not written to, because {refusal})"
                    fixes = []
                self.add(v.start, v.end, WARNING, "literal-secret", message, fixes=fixes, connection=name)
            if spec.values is not None and value not in spec.values and key != "grant_type":
                guess = suggest(value, list(spec.values))
                msg = f"`{value}` is not a valid `{key}`: use one of {', '.join(f'`{x}`' for x in spec.values)}"
                fixes = [Fix(f'Use "{guess}"', [Edit(v.start, v.end, f'"{guess}"')], preferred=True)] if guess else []
                self.add(v.start, v.end, ERROR, "invalid-value", msg, fixes=fixes, connection=name)
            if key == "instance":
                try:
                    instance_url(value)
                except InstanceError as exc:
                    fixes = (
                        [
                            Fix(
                                f'Use "{exc.suggestion}"',
                                [Edit(v.start, v.end, f'"{exc.suggestion}"')],
                                preferred=True,
                            )
                        ]
                        if exc.suggestion
                        else []
                    )
                    self.add(v.start, v.end, ERROR, exc.code, str(exc), fixes=fixes, connection=name)
            elif key == "redirect_uri":
                problem = check_redirect_uri(value)
                if problem:
                    self.add(v.start, v.end, ERROR, "invalid-redirect-uri", problem, connection=name)
            elif key == "client_id" and not _HEX32.fullmatch(value):
                self.add(
                    v.start,
                    v.end,
                    WARNING,
                    "client-id-shape",
                    "Client IDs generated by ServiceNow are 32 hexadecimal characters: check that this is "
                    "the *Client ID* of the Application Registry record",
                    connection=name,
                )
            elif key in ("jwt_key_file", "ca_bundle") and self.env.folder is not None:
                from snowauth.secrets import file_reference_path, outside_message, outside_roots

                roots = self.env.roots
                if key == "jwt_key_file" and outside_roots(file_reference_path(value, self.env.folder), roots):
                    # a cloned repository signing with the user's own key, say `~/.ssh/id_rsa`:
                    # the fetch refuses it; say so where the value is written (a `ca_bundle`
                    # anywhere is shown to the user to confirm before the first send instead)
                    self.add(
                        v.start,
                        v.end,
                        WARNING,
                        "file-outside-roots",
                        outside_message(key, value, roots),
                        connection=name,
                    )
                elif not file_reference_path(value, self.env.folder).is_file():
                    self.add(
                        v.start,
                        v.end,
                        WARNING,
                        "missing-file",
                        f"`{key}`: no such file `{value}` (paths are relative to this file's folder)",
                        connection=name,
                    )
        timeout = c.keys.get("timeout")
        if timeout is not None and timeout.value.kind in ("integer", "float"):
            t = float(timeout.value.data)  # type: ignore[arg-type]
            if not 0 < t <= 600:
                self.add(
                    timeout.value.start,
                    timeout.value.end,
                    ERROR,
                    "invalid-value",
                    "`timeout` must be a number of seconds between 0 and 600",
                    connection=name,
                )

    def _token(self, c: Connection) -> None:
        for key, a in c.token.items():
            spec = model.TOKEN_KEYS[key]
            if not self._type(a, spec, c.name):
                continue
            if spec.type == "datetime":
                dt = a.value.data
                assert isinstance(dt, datetime)
                if dt.tzinfo is None:
                    self.add(
                        a.value.start,
                        a.value.end,
                        ERROR,
                        "wrong-type",
                        f"`{key}` must be an offset date-time in UTC, e.g. `2026-11-28T10:29:59Z`",
                        connection=c.name,
                    )
            elif key in TOKEN_TEXT_KEYS and isinstance(a.value.data, str):
                # a "token" with a line break would be pasted into a shell or a header
                bad = token_problem(key, a.value.data) if a.value.data or key.endswith("_token") else None
                if bad is not None:
                    self.add(
                        a.value.start,
                        a.value.end,
                        ERROR,
                        "invalid-token",
                        f"The stored {bad}. snowauth does not use it: delete the token and fetch a new one",
                        connection=c.name,
                    )
        expires = c.token.get("expires_at")
        if expires is None or expires.value.kind != "datetime":
            return
        dt = expires.value.data
        assert isinstance(dt, datetime)
        if dt.tzinfo is None or dt > self.now:
            return
        refresh_exp = c.token.get("refresh_expires_at")
        refresh_dead = (
            refresh_exp is not None
            and isinstance(refresh_exp.value.data, datetime)
            and refresh_exp.value.data.tzinfo is not None
            and refresh_exp.value.data <= self.now
        )
        has_refresh = "refresh_token" in c.token and not refresh_dead
        ago = humanize(self.now - dt)
        if has_refresh:
            msg = f"The access token of `{c.name}` expired {ago} ago: refresh it"
            fix = Fix("Refresh token", command="snowauth.refreshToken", connection=c.name, preferred=True)
        else:
            msg = f"The access token of `{c.name}` expired {ago} ago and cannot be refreshed: fetch a new one"
            fix = Fix("Fetch token", command="snowauth.fetchToken", connection=c.name, preferred=True)
        self.add(
            expires.value.start,
            expires.value.end,
            INFORMATION,
            "token-expired",
            msg,
            fixes=[fix],
            connection=c.name,
        )

    # -- fixes ----------------------------------------------------------------------

    def _insert_key_fix(
        self, c: Connection, key: str, value: str | None = None, title: str | None = None
    ) -> Fix | None:
        spec = model.CONNECTION_KEYS[key]
        if value is None:
            # a secret reference is named as completion and the move-to-.env fix name it
            value = f'"${{env:{env_name(c.name, key)}}}"' if "${env:" in spec.placeholder else spec.placeholder
        line = f"{key} = {value}"
        title = title or f"Add `{key}`"
        if c.inline is not None:
            close = c.inline.end - 1
            before = self.text[c.inline.start + 1 : close].strip()
            return Fix(title, [Edit(close, close, (", " if before else " ") + line + " ")], preferred=True)
        if c.table_header is not None:
            at = c.table_body_end if c.table_body_end is not None else c.table_header.end
            return Fix(title, [self._line_insert(at, line)], preferred=True)
        if c.dotted_entries:
            last = c.dotted_entries[-1]
            prefix = self.text[last.key[0].start : last.key[-1].start]
            return Fix(title, [self._line_insert(last.end, prefix + line)], preferred=True)
        return None

    def _line_insert(self, offset: int, line: str) -> Edit:
        """Insert ``line`` as a new line after the line holding ``offset``."""
        nl = newline_of(self.text)
        at, _ = _after_line(self.text, offset)
        if at == len(self.text) and self.text and self.text[-1] not in "\r\n":
            return Edit(at, at, nl + line + nl)
        return Edit(at, at, line + nl)

    def _remove_fix(self, a: Assign, key: str) -> list[Fix]:
        if a.line_entry is not a.entry:
            return []
        start = max(self.text.rfind("\n", 0, a.entry.start), self.text.rfind("\r", 0, a.entry.start)) + 1
        end, _ = _after_line(self.text, a.entry.end)
        return [Fix(f"Remove `{key}`", [Edit(start, end, "")])]


def set_key_fix(text: str, c: Connection, key: str, value: str, title: str) -> Fix | None:
    """A fix that gives the connection's ``key`` the TOML ``value``: the value replaced
    when the key is there, else a line (or inline member) added."""
    a = c.keys.get(key)
    if a is not None:
        return Fix(title, [Edit(a.value.start, a.value.end, value)])
    fix = _Checker(text, Environment({}, None), datetime.now(UTC))._insert_key_fix(c, key, value, title)
    if fix is not None:
        fix.preferred = False
    return fix


_KINDS = {"string": ("string",), "boolean": ("boolean",), "number": ("integer", "float"), "datetime": ("datetime",)}
_REQUIRED: dict[tuple[str | None, bool], tuple[str, ...]] = {}


def _required_keys(grant: str | None, pkce: bool) -> tuple[str, ...]:
    found = _REQUIRED.get((grant, pkce))
    if found is None:
        found = _REQUIRED[grant, pkce] = model.required_keys(grant, pkce=pkce)
    return found


def _after_line(text: str, offset: int) -> tuple[int, int]:
    """The offset just after the line holding ``offset`` (a zero-width insert point).

    When the file ends without a line break the insertion starts with one."""
    m = _LINE_BREAK.search(text, offset)
    at = m.end() if m else len(text)
    return at, at


def newline_of(text: str) -> str:
    """The document's line break style: that of its first line break (\\n in a file without)."""
    m = _LINE_BREAK.search(text)
    return m.group() if m else "\n"


def _kind(v: Value) -> str:
    return {
        "table": "table",
        "array": "array",
        "integer": "number",
        "float": "number",
        "datetime": "date-time",
    }.get(v.kind, v.kind)


def _type_name(spec: model.KeySpec) -> str:
    return {"datetime": "date-time (e.g. 2026-11-28T10:29:59Z)", "number": "number"}.get(spec.type, spec.type)


def env_name(connection: str, key: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9]+", "_", connection).strip("_").upper() or "CONNECTION"
    return f"SNOW_{clean}_{key.upper()}"


def _dotenv_quote(value: str) -> str:
    """``value`` as the right-hand side of a .env line that shells run nothing in."""
    return dotenv_quote(value)


def humanize(delta: object) -> str:
    """ "23 min", "2 h", "3 days" for a timedelta (absolute value)."""
    from datetime import timedelta

    assert isinstance(delta, timedelta)
    s = abs(delta.total_seconds())
    if s < 60:
        return f"{int(s)} s"
    if s < 3600:
        return f"{int(s // 60)} min"
    if s < 86400 * 2:
        return f"{int(s // 3600)} h"
    return f"{int(s // 86400)} days"


# -- the incremental analysis (the language server's) ------------------------------------------
#
# The text is kept as chunks of statements (``syntax.Chunks``); each connection, and the
# file level, is a group built and checked from the chunks that hold its statements
# (``document.build_connection``). An edit scans again only the chunks it can change;
# the groups with statements there are built and checked again, the others keep their
# findings, moved by as much as their chunks moved.

_PARSE, _ISSUE, _UNKNOWN, _DEFAULT, _CONNECTION = range(5)  # the order of the findings' kinds


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
            g.chunks.insert(bisect_right(g.chunks, c.start, key=_chunk_start), c)
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
                findings = _Checker(self.text, env, now).run(parsed, layout)
                return Analysis(self.text, parsed, layout, findings, index)
            if self.whole:
                self.whole, recheck_all = False, True
                self.dirty.update(self.groups.values())
            for g in self.multi:
                if g not in self.dirty and not _moved_together(g):
                    self.dirty.add(g)
            dirty, self.dirty = self.dirty, set()
            for g in dirty:
                if not g.chunks:
                    self._forget(g)
                    continue
                self._build(g)
            if recheck_all:
                again = set(self.groups.values())
            else:
                again = dirty | self.volatile
                for g in self.timed:
                    assert g.checked_at is not None and g.valid_until is not None
                    if not g.checked_at <= now < g.valid_until:
                        again.add(g)
            for g in again:
                if g.chunks:
                    self._check(g, env, now)
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

    def _section_end(self, h: Header) -> int:
        """Where the section of ``h`` (in a rebased chunk) ends: at the next header."""
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
        b = build_connection(g.name, g.chunks, self._section_end, len(self.text))
        out = b.out
        g.base = g.chunks[0].start
        g.conn = out.connections.get(g.name) if g.name is not None else None
        g.created = b.created.get(g.name, 0) if g.name is not None else 0
        g.issues, g.unknown_top, g.default = out.issues, out.unknown_top, out.default
        conn = g.conn
        g.volatile = conn is not None and (
            "jwt_key_file" in conn.keys
            or "ca_bundle" in conn.keys
            or any(a.value.kind == "string" and "${file:" in str(a.value.data) for a in conn.keys.values())
        )
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

    def _check(self, g: _Group, env: Environment, now: datetime) -> None:
        self._rebase(g)
        ch = _Checker(self.text, env, now)
        ch.issues(g.issues)
        n_issues = len(ch.out)
        ch.unknown_top(g.unknown_top)
        n_unknown = len(ch.out)
        if g.conn is not None:
            ch.connection(g.conn)
        g.out = [
            (_ISSUE if i < n_issues else _UNKNOWN if i < n_unknown else _CONNECTION, f) for i, f in enumerate(ch.out)
        ]
        g.starts = [c.start for c in g.chunks]
        g.checked_at = now
        g.valid_until = _valid_until(g.conn, now) if g.conn is not None else None
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
            ch = _Checker(self.text, env, now)
            ch.default(top.default, self._defines, self.connection_names)
            rows.extend((f.start, f.end, _DEFAULT, f) for f in ch.out)
        rows.sort(key=_row_key)
        return [r[3] for r in rows]

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

    def default(self) -> tuple[KeyPart, Value] | None:
        top = self.groups.get(None)
        if top is None:
            return None
        self._rebase(top)
        return top.default

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


def _chunk_start(c: Chunk) -> int:
    return c.start


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
    out: datetime | None = None
    for key in ("expires_at", "refresh_expires_at"):
        a = c.token.get(key)
        dt = a.value.data if a is not None else None
        if not isinstance(dt, datetime) or dt.tzinfo is None:
            continue
        if dt > now:
            until = dt
        else:
            ago = (now - dt).total_seconds()
            unit = 1 if ago < 60 else 60 if ago < 3600 else 3600 if ago < 2 * 86400 else 86400
            step = (ago // unit + 1) * unit
            if unit == 3600:
                step = min(step, 2 * 86400)
            until = dt + timedelta(seconds=step)
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
                x.command,
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
