"""Text -> findings: every check of SPEC §2 that needs no network (pure; no LSP types).

``analyze(text, env, now)`` returns an ``Analysis``: the scanned statements, the
connections and the findings, each with an exact span, a stable code and its quick
fixes as plain text edits.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from snowauth import model
from snowauth.document import Assign, Connection, Layout, build
from snowauth.instance import InstanceError, check_redirect_uri, instance_url
from snowauth.positions import LineIndex
from snowauth.secrets import Environment, ReferenceSyntaxError, parse_reference
from snowauth.syntax import Parsed, Value, parse

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


@dataclass(slots=True)
class Analysis:
    text: str
    parsed: Parsed
    layout: Layout
    findings: list[Finding]
    _index: LineIndex | None = None

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


def suggest(word: str, candidates: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return found[0] if found else None


def analyze(text: str, env: Environment | None = None, now: datetime | None = None) -> Analysis:
    parsed = parse(text)
    layout = build(parsed)
    checker = _Checker(text, env or Environment({}, None), now or datetime.now(UTC))
    findings = checker.run(parsed, layout)
    return Analysis(text, parsed, layout, findings)


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
            self.add(p.start, p.end, ERROR, "toml-syntax", p.message)
        for issue in layout.issues:
            self.add(issue.start, issue.end, ERROR, issue.code, issue.message, related=issue.related)
        for part in layout.unknown_top:
            self._unknown(
                part.start,
                part.end,
                part.name,
                [*model.TOP_KEYS, model.CONNECTIONS_TABLE],
                "at the top level",
            )
        self._default(layout)
        for c in layout.connections.values():
            self._connection(c)
        self.out.sort(key=lambda f: (f.start, f.end))
        return self.out

    # -- helpers --------------------------------------------------------------------

    def _unknown(
        self,
        start: int,
        end: int,
        name: str,
        known: Sequence[str],
        where: str,
        connection: str | None = None,
    ) -> None:
        guess = suggest(name, known)
        message = f"Unknown key `{name}` {where}"
        fixes = []
        if guess:
            message += f": did you mean `{guess}`?"
            fixes.append(Fix(f"Replace with `{guess}`", [Edit(start, end, guess)], preferred=True))
        else:
            message += f" (known keys: {', '.join(known)})"
        self.add(start, end, ERROR, "unknown-key", message, fixes=fixes, connection=connection)

    def _string(self, a: Assign | None) -> str | None:
        return a.value.data if a is not None and a.value.kind == "string" else None  # type: ignore[return-value]

    def _default(self, layout: Layout) -> None:
        if layout.default is None:
            return
        _, value = layout.default
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
        if name not in layout.connections:
            names = list(layout.connections)
            guess = suggest(name, names)
            hint = f": did you mean `{guess}`?" if guess else f" (connections here: {', '.join(names) or 'none'})"
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

    def _connection(self, c: Connection) -> None:
        name = c.name
        for part, where in c.unknown:
            known = list(model.TOKEN_KEYS) if where == "token" else [*model.CONNECTION_KEYS, model.TOKEN_TABLE]
            place = f"in the token of `{name}`" if where == "token" else f"in the connection `{name}`"
            self._unknown(part.start, part.end, part.name, known, place, name)
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
        grant_label = {model.GRANT_JWT_BEARER: "JWT bearer"}.get(grant or "", grant or "")
        for key in model.required_keys(grant, pkce=bool(pkce)):
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
        ok = {
            "string": v.kind == "string",
            "boolean": v.kind == "boolean",
            "number": v.kind in ("integer", "float"),
            "datetime": v.kind == "datetime",
        }[spec.type]
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
                self.add(
                    v.start,
                    v.end,
                    WARNING,
                    "literal-secret",
                    f"`{key}` is written in plain text: move it to an environment variable, e.g. `${{env:{var}}}`",
                    fixes=[
                        Fix(
                            f"Move `{key}` to ${{env:{var}}} (written to .env beside this file)",
                            [Edit(v.start, v.end, f'"${{env:{var}}}"')],
                            appends=[FileAppend(".env", f"{var}={_dotenv_quote(value)}\n")],
                            preferred=True,
                        )
                    ],
                    connection=name,
                )
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
                from snowauth.secrets import file_reference_path

                if not file_reference_path(value, self.env.folder).is_file():
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

    def _insert_key_fix(self, c: Connection, key: str) -> Fix | None:
        spec = model.CONNECTION_KEYS[key]
        line = f"{key} = {spec.placeholder}"
        title = f"Add `{key}`"
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
    if re.fullmatch(r"[A-Za-z0-9_./+:@-]*", value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


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
