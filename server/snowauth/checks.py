"""The checks of one file, or of one connection, that need no network: the file level
(`default`, unknown top-level keys, TOML's table rules as ``document`` reports them) and
each connection's structure (unknown keys, types, the grant, missing and ignored keys),
with the quick fixes that add, set or remove a key. A connection's values and its stored
token are checked in ``value_checks`` and ``token_checks``. The codes are listed in
docs/decisions.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

from snowauth import model
from snowauth.document import Assign, Connection, Issue, Layout
from snowauth.findings import ERROR, INFORMATION, TAG_UNNECESSARY, WARNING, Edit, Finding, Fix
from snowauth.positions import newline_of
from snowauth.secrets import Environment, env_name
from snowauth.syntax import KeyPart, Parsed, Value
from snowauth.token_checks import check_token
from snowauth.value_checks import Shared, check_values, ignored_keys
from snowauth.wording import suggest

_LINE_BREAK = re.compile(r"\r\n|\n|\r")

# "Did you mean" is a fuzzy match against every candidate (about 0.2 ms a word against
# the known keys): a file of 200,000 unknown keys, or a `default` among 200,000
# connections on every keystroke, would take minutes. So the first SUGGEST_LIMIT
# unknown keys of each list get a suggestion (the others list the known keys), and a
# connection name is looked for among the first SUGGEST_LIMIT connections.
SUGGEST_LIMIT = 100
NAMES_SHOWN = 20  # connection names listed in a message at most


class Checker:
    """Collects the findings of a text (``out``), check by check."""

    def __init__(self, text: str, env: Environment, now: datetime, shared: Shared | None = None) -> None:
        self.text = text
        self.env = env
        self.now = now
        self.out: list[Finding] = []
        self.shared = shared if shared is not None else Shared()  # the checkers of one analysis may share one

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
        link_repeated_unknown_keys(self.text, self.out)
        return self.out

    def issues(self, issues: list[Issue]) -> None:
        for issue in issues:
            self.add(issue.start, issue.end, ERROR, issue.code, issue.message, related=list(issue.related))

    def unknown_top(self, parts: list[KeyPart]) -> None:
        if not parts:
            return
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
            known = list(_SUB_KEYS[where]) if where else [*model.CONNECTION_KEYS, model.TOKEN_TABLE, model.EXPORT_TABLE]
            place = (
                f"in the token of `{name}`"
                if where == model.TOKEN_TABLE
                else f"in the {where} table of `{name}`"
                if where
                else f"in the connection `{name}`"
            )
            self._unknown(part.start, part.end, part.name, known, place, name, guess=k < SUGGEST_LIMIT)
        for part, where in c.wrong_tables:
            specs = _SUB_KEYS[where] if where else model.CONNECTION_KEYS
            spec = specs[part.name]
            self.add(
                part.start,
                part.end,
                ERROR,
                "wrong-type",
                f"`{part.name}` must be a {_type_name(spec)}, not a table",
                connection=name,
            )
        if c.token_value_problem is not None or c.export_value_problem is not None:
            for p in (c.token_value_problem, c.export_value_problem):
                if p is not None:
                    self.add(p.start, p.end, ERROR, p.code, p.message, connection=name)
        for key, a in c.export.items():
            self.check_type(a, model.EXPORT_KEYS[key], name)

        kinds = _CONNECTION_KINDS
        for key, a in c.keys.items():
            if a.value.kind not in kinds[key]:
                self.check_type(a, model.CONNECTION_KEYS[key], name)
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

        client = c.client
        if client == model.CLIENT_SDK:
            self._sdk_grant(c, grant)
            grant = model.GRANT_AUTHORIZATION_CODE  # whatever is written: one error, not a cascade
        pkce_assign = c.keys.get("pkce")
        pkce = pkce_assign.value.data if pkce_assign and pkce_assign.value.kind == "boolean" else True
        grant_label = "JWT bearer" if grant == model.GRANT_JWT_BEARER else grant or ""
        algorithm = c.keys.get("jwt_algorithm")
        shared = algorithm is not None and model.jwt_shared(algorithm.value.data)
        for key in _required_keys(grant, bool(pkce), client, shared):
            if key not in c.keys:
                why = (
                    f"required for the `{grant_label}` grant"
                    if grant and key not in ("instance", "grant_type", "client_id")
                    else "required"
                )
                if key == "grant_type":
                    fixes = self._grant_fixes(c)
                else:
                    fix = self._insert_key_fix(c, key)
                    fixes = [fix] if fix else []
                    if key == "client_id" and grant in _SDK_INSTEAD:
                        sdk = self._sdk_fix(c)
                        fixes += [sdk] if sdk else []
                    if key == "client_id" and grant in model.REGISTERABLE_GRANTS:
                        fixes.append(Fix(REGISTER_TITLE, action="register", connection=name))
                self.add(
                    c.header[0],
                    c.header[1],
                    ERROR,
                    "missing-key",
                    f"The connection `{name}` is missing `{key}` ({why})",
                    fixes=fixes,
                    connection=name,
                )

        by_client, by_grant = ignored_keys(grant, client)
        keys = c.keys
        needless = not (by_client.isdisjoint(keys) and by_grant.isdisjoint(keys))
        for key, a in keys.items() if needless else ():
            if key in by_client:
                self.add(
                    a.key.start,
                    a.key.end,
                    WARNING,
                    "ignored-key",
                    f'`{key}` is ignored with client = "{client}" (the client brings its own ID and '
                    "redirect, and has no secret)",
                    tags=(TAG_UNNECESSARY,),
                    fixes=self._remove_fix(a, key),
                    connection=name,
                )
            elif key in by_grant:
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
        if name == model.CONNECTIONS_TABLE:
            self._named_connections(c)
        check_values(self, c, grant)
        check_token(self, c)

    def _sdk_grant(self, c: Connection, grant: str | None) -> None:
        """With `client = "servicenow-sdk"` the grant is the authorization code: left out,
        or written as such (an unknown grant is reported already)."""
        a = c.keys.get("grant_type")
        if a is None or grant is None or grant == model.GRANT_AUTHORIZATION_CODE:
            return
        code = model.GRANT_AUTHORIZATION_CODE
        fixes = [Fix(f'Use "{code}"', [Edit(a.value.start, a.value.end, f'"{code}"')], preferred=True)]
        fixes += self._remove_fix(a, "grant_type")
        self.add(
            a.value.start,
            a.value.end,
            ERROR,
            "client-grant",
            f'`client = "{model.CLIENT_SDK}"` signs in with the authorization code grant: write '
            f'`grant_type = "{code}"` or leave `grant_type` out',
            fixes=fixes,
            connection=c.name,
        )

    def _sdk_fix(self, c: Connection) -> Fix | None:
        """The fix "Sign in with the ServiceNow SDK client instead": it writes
        `client = "servicenow-sdk"` (over the `grant_type` line when there is one, else as a
        new line) and removes `client_secret` and `redirect_uri`; None when the connection's
        form gives no place to write it."""
        line = f'client = "{model.CLIENT_SDK}"'
        title = "Sign in with the ServiceNow SDK client instead"
        grant = c.keys.get("grant_type")
        edits: list[Edit] = []
        if grant is not None:
            # over the key and its value: a dotted prefix (`connections.dev.`) stays
            edits.append(Edit(grant.key.start, grant.value.end, line))
        else:
            fix = self._insert_key_fix(c, "client", f'"{model.CLIENT_SDK}"', title)
            if fix is None:
                return None
            edits += fix.edits
        for key in ("client_secret", "redirect_uri"):
            a = c.keys.get(key)
            if a is not None:
                edits += [e for f in self._remove_fix(a, key) for e in f.edits]
        return Fix(title, _merge_touching(edits))

    def _named_connections(self, c: Connection) -> None:
        """`connections.x.key` under a `[connections]` header: a connection named
        `connections` (valid TOML), hardly what was meant. Under the header the key's
        first part names the connection; at the top level its second part does."""
        for e in c.dotted_entries:
            key = e.key
            if len(key) < 3 or key[0].name != c.name or key[1].name == c.name:
                continue
            rest = self.text[key[1].start : key[-1].end]
            whole = self.text[key[0].start : key[-1].end]
            table = self.text[key[1].start : key[1].end]
            self.add(
                key[0].start,
                key[-1].end,
                INFORMATION,
                "connection-named-connections",
                f"Under [connections], `{whole}` makes a connection named `connections`; "
                f"write `{rest}` or use `[connections.{table}]`",
                fixes=[Fix(f"Write `{rest}`", [Edit(key[0].start, key[1].start, "")], preferred=True)],
                connection=c.name,
            )

    def check_type(self, a: Assign, spec: model.KeySpec, connection: str) -> bool:
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

    def _grant_fixes(self, c: Connection) -> list[Fix]:
        """One `grant_type` fix per grant the keys present make plausible, the most
        plausible first and preferred; every grant, none preferred, when none is."""
        fixes: list[Fix] = []
        ranked = plausible_grants(c.keys)
        for grant in ranked or model.GRANTS:
            fix = self._insert_key_fix(c, "grant_type", f'"{grant}"', f'Add `grant_type = "{grant}"`')
            if fix is not None:
                fix.preferred = bool(ranked) and not fixes
                fixes.append(fix)
        return fixes

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
    fix = Checker(text, Environment({}, None), datetime.now(UTC))._insert_key_fix(c, key, value, title)
    if fix is not None:
        fix.preferred = False
    return fix


def plausible_grants(keys: Collection[str]) -> list[str]:
    """The grants the keys written make plausible, the most plausible first: a grant
    counts the keys only it uses (`username`, `jwt_key_file`, `redirect_uri`, …); with
    none of those, a `client_secret` means client credentials."""
    scores = {g: sum(1 for k in keys if g in (model.CONNECTION_KEYS[k].grants or ())) for g in model.GRANTS}
    ranked = sorted((g for g in model.GRANTS if scores[g]), key=lambda g: -scores[g])
    if not ranked and "client_secret" in keys:
        ranked = [model.GRANT_CLIENT_CREDENTIALS]
    return ranked


RELATED_LIMIT = 20  # the other occurrences an unknown key's finding links at most


def link_repeated_unknown_keys(text: str, findings: Sequence[Finding]) -> None:
    """Give each `unknown-key` finding whose key is written on other lines too related
    information pointing at those (at most RELATED_LIMIT of them): one pass, whatever
    the number of findings. Sets ``related`` afresh, so it may run again on the same
    findings (the incremental engine keeps them from one analysis to the next)."""
    by_name: dict[str, list[Finding]] = {}
    for f in findings:
        if f.code == "unknown-key":
            by_name.setdefault(_key_name(text[f.start : f.end]), []).append(f)
    for name, same in by_name.items():
        if len(same) == 1:
            same[0].related = []
            continue
        # the first RELATED_LIMIT + 1 occurrences, each described once
        here = f"`{name}` is also written here"
        first = [
            (g, (g.start, g.end, here + (f" (in `{g.connection}`)" if g.connection else "")))
            for g in same[: RELATED_LIMIT + 1]
        ]
        for f in same:
            f.related = [r for g, r in first if g is not f][:RELATED_LIMIT]


def _key_name(written: str) -> str:
    return written[1:-1] if len(written) >= 2 and written[0] == written[-1] and written[0] in "\"'" else written


_SUB_KEYS: dict[str, Mapping[str, model.KeySpec]] = {
    model.TOKEN_TABLE: model.TOKEN_KEYS,
    model.EXPORT_TABLE: model.EXPORT_KEYS,
}
_KINDS = {"string": ("string",), "boolean": ("boolean",), "number": ("integer", "float"), "datetime": ("datetime",)}
_CONNECTION_KINDS = {key: _KINDS[spec.type] for key, spec in model.CONNECTION_KEYS.items()}
_REQUIRED: dict[tuple[str | None, bool, str | None, bool], tuple[str, ...]] = {}
# the grants whose connection without a `client_id` may sign in with the SDK client
# instead (client credentials and JWT bearer act as no person: the SDK client cannot)
_SDK_INSTEAD = frozenset({None, model.GRANT_PASSWORD, model.GRANT_AUTHORIZATION_CODE})
#: the quick fix on a missing `client_id` that runs Register OAuth Client
REGISTER_TITLE = "Register an OAuth client on the instance"


def _required_keys(grant: str | None, pkce: bool, client: str | None = None, shared: bool = False) -> tuple[str, ...]:
    found = _REQUIRED.get((grant, pkce, client, shared))
    if found is None:
        algorithm = "HS256" if shared else None
        found = model.required_keys(grant, pkce=pkce, client=client, jwt_algorithm=algorithm)
        _REQUIRED[grant, pkce, client, shared] = found
    return found


def _merge_touching(edits: list[Edit]) -> list[Edit]:
    """The edits in order, an insertion at the very end of a removal folded into it: one
    edit each place, so no client has to order two edits at one offset."""
    out: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if out and e.start == e.end == out[-1].end and out[-1].start < out[-1].end:
            out[-1] = Edit(out[-1].start, out[-1].end, out[-1].text + e.text)
        else:
            out.append(e)
    return out


def _after_line(text: str, offset: int) -> tuple[int, int]:
    """The offset just after the line holding ``offset`` (a zero-width insert point).

    When the file ends without a line break the insertion starts with one."""
    m = _LINE_BREAK.search(text, offset)
    at = m.end() if m else len(text)
    return at, at


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
