"""The checks of a connection's values: secret references that do not resolve, secrets
written in plain text (with the quick fix that moves one to `.env`), values outside
their key's choices, and what the instance, redirect URI, client ID and key files must
look like. The codes are listed in docs/decisions.md."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snowauth import model
from snowauth.document import Connection
from snowauth.findings import ERROR, INFORMATION, WARNING, Edit, FileAppend, Fix
from snowauth.instance import InstanceError, check_redirect_uri, instance_url, pastes_code
from snowauth.secrets import (
    DOTENV,
    Environment,
    ReferenceSyntaxError,
    dotenv_append_refusal,
    dotenv_quote,
    env_name,
    parse_reference,
)
from snowauth.wording import suggest

if TYPE_CHECKING:
    from pathlib import Path

    from snowauth.checks import Checker
    from snowauth.syntax import Value

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


class Shared:
    """What the checkers of one analysis share (the same text, environment and time):
    ``values``, the findings of a (key, value, grant, client) that depend on nothing else,
    so that a value written in many connections is checked once (``check_values``); and why
    the .env beside the file is not appended to (``dotenv_refusal``), looked up once."""

    __slots__ = ("_refusal", "values")

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str | None, str | None], tuple[tuple[int, str, str], ...]] = {}
        self._refusal: tuple[str | None] | None = None

    def dotenv_refusal(self, env: Environment) -> str | None:
        """``secrets.dotenv_append_refusal`` of the environment's folder."""
        if self._refusal is None:
            self._refusal = (dotenv_append_refusal(env.folder) if env.folder is not None else None,)
        return self._refusal[0]


_IGNORED: dict[tuple[str | None, str | None], tuple[frozenset[str], frozenset[str]]] = {}


def ignored_keys(grant: str | None, client: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """The connection keys the ``client`` makes needless (``model.is_ignored`` with the
    client), and those the ``grant`` ignores otherwise: computed once per pair."""
    found = _IGNORED.get((grant, client))
    if found is None:
        keys = {*model.CONNECTION_KEYS, *model.SDK_IGNORED_KEYS}
        by_client = frozenset(k for k in keys if client is not None and model.is_ignored(k, grant, client))
        by_grant = frozenset(k for k in keys if k not in by_client and model.is_ignored(k, grant))
        found = _IGNORED[grant, client] = (by_client, by_grant)
    return found


def check_values(ch: Checker, c: Connection, grant: str | None) -> None:
    """The values of ``c`` (whose canonical grant is ``grant``), reported to ``ch``."""
    client = c.client
    by_client = ignored_keys(grant, client)[0]
    checked = ch.shared.values
    out = ch.out
    name = c.name
    for key, a in c.keys.items():
        v = a.value
        if v.kind != "string" or key in by_client:
            continue  # a key the client makes needless is reported once, as ignored
        value = str(v.data)
        seen = (key, value, grant, client)
        found = checked.get(seen)
        if found is not None:  # checked already in another connection: the same findings
            for severity, code, message in found:
                ch.add(v.start, v.end, severity, code, message, connection=name)
            continue
        n = len(out)
        _check_value(ch, c, key, v, value, grant)
        # a key that names a file depends on that file; the findings kept depend on the
        # value alone (no fix, nothing named after the connection)
        if key in _FILE_KEYS or "${file:" in value:
            continue
        if len(out) == n:  # (most values: nothing found)
            checked[seen] = ()
        elif all(f.code in _REPLAYED for f in out[n:]):
            checked[seen] = tuple((f.severity, f.code, f.message) for f in out[n:])
    _check_exports_and_timeout(ch, c)


_FILE_KEYS = frozenset(model.FILE_KEYS)
# the value checks' findings that depend on the value alone: on the value's span, with no
# fix and nothing named after the connection (Shared.values replays them)
_REPLAYED = frozenset(
    {"invalid-reference", "unresolved-reference", "client-id-shape", "paste-code", "invalid-redirect-uri"}
)


def _check_value(ch: Checker, c: Connection, key: str, v: Value, value: str, grant: str | None) -> None:
    """The string ``value`` of ``key`` (written at ``v``): found wrong when written in
    any connection, whatever its name (``c`` names the connection in messages)."""
    name = c.name
    try:
        ref = parse_reference(value)
    except ReferenceSyntaxError as exc:
        ch.add(v.start, v.end, WARNING, "invalid-reference", str(exc), connection=name)
        return
    if key == "otp" and (ref is None or ref.kind != "prompt") and not model.is_ignored(key, grant):
        ch.add(
            v.start,
            v.end,
            WARNING,
            "otp-not-prompt",
            '`otp` is a one-time code that changes every few seconds: use `"${prompt}"` so it is '
            "asked at each fetch (and never stored)",
            fixes=[Fix('Use "${prompt}"', [Edit(v.start, v.end, '"${prompt}"')], preferred=True)],
            connection=name,
        )
        return
    if ref is not None:
        problem = ch.env.problem(ref)
        if problem:
            ch.add(
                v.start,
                v.end,
                WARNING,
                "unresolved-reference",
                f"{problem}: set it before fetching a token",
                connection=name,
            )
        return
    spec = model.CONNECTION_KEYS[key]
    if spec.secret and value and not model.is_ignored(key, grant):
        var = env_name(name, key)
        message = f"`{key}` is written in plain text: move it to an environment variable, e.g. `${{env:{var}}}`"
        fixes = [
            Fix(
                f"Move `{key}` to ${{env:{var}}} (written to .env beside this file)",
                [Edit(v.start, v.end, f'"${{env:{var}}}"')],
                appends=[FileAppend(DOTENV, f"{var}={dotenv_quote(value)}\n")],
                preferred=True,
            )
        ]
        # the client writes the append wherever `.env` leads: never through a link
        # (a `.env` linked to `~/.bashrc` in a cloned repository), nor elsewhere
        refusal = ch.shared.dotenv_refusal(ch.env)
        if refusal is not None:
            message += f" (no quick fix: the .env beside this file is not written to, because {refusal})"
            fixes = []
        ch.add(v.start, v.end, WARNING, "literal-secret", message, fixes=fixes, connection=name)
    if spec.values is not None and value not in spec.values and key != "grant_type":
        guess = suggest(value, list(spec.values))
        msg = f"`{value}` is not a valid `{key}`: use one of {', '.join(f'`{x}`' for x in spec.values)}"
        fixes = [Fix(f'Use "{guess}"', [Edit(v.start, v.end, f'"{guess}"')], preferred=True)] if guess else []
        ch.add(v.start, v.end, ERROR, "invalid-value", msg, fixes=fixes, connection=name)
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
            ch.add(v.start, v.end, ERROR, exc.code, str(exc), fixes=fixes, connection=name)
    elif key == "redirect_uri":
        if pastes_code(value):
            ch.add(
                v.start,
                v.end,
                INFORMATION,
                "paste-code",
                "The browser does not come back to snowauth at this address: after you sign in, "
                "paste the code the page shows (or the whole address the browser landed on)",
                connection=name,
            )
        else:
            problem = check_redirect_uri(value)
            if problem:
                ch.add(v.start, v.end, ERROR, "invalid-redirect-uri", problem, connection=name)
    elif key == "client_id" and not _HEX32.fullmatch(value):
        ch.add(
            v.start,
            v.end,
            WARNING,
            "client-id-shape",
            "Client IDs generated by ServiceNow are 32 hexadecimal characters: check that this is "
            "the *Client ID* of the Application Registry record",
            connection=name,
        )
    elif key == "proxy":
        from snowauth.instance import check_proxy_url, proxy_has_password

        problem = check_proxy_url(value)
        if problem:
            ch.add(v.start, v.end, ERROR, "invalid-value", problem, connection=name)
        elif proxy_has_password(value):
            ch.add(
                v.start,
                v.end,
                WARNING,
                "literal-secret",
                "`proxy` holds a password in clear text: put the whole URL in an environment "
                'variable and write `proxy = "${env:NAME}"`',
                connection=name,
            )
    elif key in model.FILE_KEYS and ch.env.folder is not None:
        from snowauth.secrets import file_reference_path, outside_message, outside_roots

        roots = ch.env.roots
        path = file_reference_path(value, ch.env.folder)
        if key != "ca_bundle" and outside_roots(path, roots):
            # a cloned repository signing with the user's own key, say `~/.ssh/id_rsa`:
            # the fetch refuses it; say so where the value is written (a `ca_bundle`
            # anywhere is shown to the user to confirm before the first send instead)
            ch.add(
                v.start,
                v.end,
                WARNING,
                "file-outside-roots",
                outside_message(key, value, roots),
                connection=name,
            )
        elif not path.is_file():
            ch.add(
                v.start,
                v.end,
                WARNING,
                "missing-file",
                f"`{key}`: no such file `{value}` (paths are relative to this file's folder)",
                connection=name,
            )
        elif key in model.PEM_KEYS and not _looks_like_pem(path):
            ch.add(
                v.start,
                v.end,
                WARNING,
                "not-pem",
                f"`{key}`: `{value}` is not a PEM file (no `-----BEGIN` line); convert it, for "
                "example with `openssl x509 -inform der` or `openssl pkcs12 -nodes`",
                connection=name,
            )


def _check_exports_and_timeout(ch: Checker, c: Connection) -> None:
    """Where the connection's exports write, and its timeout."""
    name = c.name
    if c.export and ch.env.folder is not None:
        from snowauth.exports import outside_message
        from snowauth.secrets import file_reference_path, outside_roots

        for key, a in c.export.items():
            v = a.value
            if v.kind == "string" and outside_roots(file_reference_path(str(v.data), ch.env.folder), ch.env.roots):
                # a cloned repository's file must not make a fetch write the token over
                # `~/.bashrc` or into a folder it shares: refused like `${file:}` (SECURITY.md)
                ch.add(
                    v.start,
                    v.end,
                    WARNING,
                    "export-outside-roots",
                    outside_message(key, str(v.data), ch.env.roots),
                    connection=name,
                )
    timeout = c.keys.get("timeout")
    if timeout is not None and timeout.value.kind in ("integer", "float"):
        t = float(timeout.value.data)  # type: ignore[arg-type]
        if not 0 < t <= 600:
            ch.add(
                timeout.value.start,
                timeout.value.end,
                ERROR,
                "invalid-value",
                "`timeout` must be a number of seconds between 0 and 600",
                connection=name,
            )


def _looks_like_pem(path: Path) -> bool:
    """Whether a file has a PEM block (read through the one bounded reader)."""
    from snowauth import files

    try:
        data = files.read_bytes(path, files.SECRET_MAX_BYTES)
    except OSError:
        return True  # unreadable: the fetch says why; not this check's business
    return b"-----BEGIN " in data
