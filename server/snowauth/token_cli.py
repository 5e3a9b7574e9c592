"""`snowauth token FILE`: reuse a stored token with at least 60 s left, refresh an expired
one, or run the connection's grant (the policy is :mod:`snowauth.workflow`'s); print it as
json, a header or an env line. `snowauth export FILE`: the same, then rewrite the files the
connection exports its token to. This module is the terminal's side of that workflow."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import shlex
import signal
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from snowauth import connections as conns
from snowauth.analysis import analyze
from snowauth.check import plain_text
from snowauth.document import Connection
from snowauth.exports import declared
from snowauth.files import read_text
from snowauth.oauth.errors import OAuthError
from snowauth.secrets import Environment
from snowauth.terminal import printable
from snowauth.token_edits import apply, toml_datetime, write_edits
from snowauth.token_text import is_b64token, token_problem
from snowauth.tokens import TokenSet
from snowauth.workflow import TokenWorkflow


async def _prompt(connection: str, key: str, *, password: bool = True, prompt: str | None = None) -> str | None:
    if not sys.stdin.isatty():
        raise conns.ConnectionProblem(
            f"`{key}` of `{connection}` is `${{prompt}}`, but there is no terminal to ask on: "
            f"run snowauth in a terminal, or use `${{env:NAME}}` for `{key}`",
            key,
        )
    label = key.replace("_", " ")
    # Read on the main thread, the event loop waiting (nothing else runs while a person
    # types), with Python's own SIGINT handler: Ctrl-C then interrupts the read itself.
    # asyncio.run's handler only cancels the main task on a first Ctrl-C, and a read in a
    # worker thread goes on after it: the program waited for another Enter.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if prompt is not None:
            sys.stderr.write(f"{printable(prompt)}\n")
            sys.stderr.flush()
        question = f"{label} for connection {printable(connection)}: "
        if not password:  # not secret (an admin's user name): shown as typed, on stderr
            sys.stderr.write(question)
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\r\n")
        return getpass.getpass(question)
    except EOFError:  # Ctrl-D: the terminal was closed for input without a value
        sys.stderr.write("\n")
        raise NoValueEntered(
            f"no {label} was entered for connection {printable(connection)} (end of input); nothing was sent"
        ) from None
    finally:
        signal.signal(signal.SIGINT, previous)


async def _ask_code(connection: str) -> str | None:
    """The code the browser shows after the sign-in (or the address it landed on), read
    hidden like a `${prompt}` value: it is a secret, never echoed."""
    if not sys.stdin.isatty():
        raise conns.ConnectionProblem(
            f"`{connection}` signs in by pasting the code the browser shows, but there is no terminal "
            "to paste it in: run snowauth in a terminal"
        )
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # see _prompt
    try:
        return getpass.getpass("Paste the code the browser shows after you sign in: ")
    except EOFError:
        sys.stderr.write("\n")
        return None
    finally:
        signal.signal(signal.SIGINT, previous)


class NoValueEntered(Exception):
    """Ctrl-D at a `${prompt}` question: no value, nothing sent (exit status 2)."""


async def _open_browser(url: str) -> None:
    print(f"Opening the browser to sign in; if it does not open, visit:\n  {printable(url)}", file=sys.stderr)
    await asyncio.to_thread(webbrowser.open, url)


def _progress(message: str) -> None:
    print(printable(message), file=sys.stderr)


def confirm_host(name: str, target: conns.Destination) -> bool:
    """Ask before the first send to a destination (see snowauth.trust); the workflow asks
    only when the destination was not confirmed before.

    The question goes to the terminal (stderr), never to stdout, where the token goes. It
    starts with the origin alone on its line; the connection name, text from the file, is
    shown escaped and cut short after it, so it cannot rewrite the `[y/N]` line."""
    from snowauth.trust import TRUSTED_VARIABLE, origin, question

    where = origin(target.base_url)
    if not sys.stdin.isatty():
        if target.trust.ca_bundle is not None:
            raise conns.ConnectionProblem(
                f"Nothing was sent: snowauth has not sent credentials to {where} with "
                f"{target.trust.describe()} before: run this once in a terminal to confirm the bundle "
                f"(${TRUSTED_VARIABLE} covers the system's certificate authorities only)",
                "ca_bundle",
            )
        raise conns.ConnectionProblem(
            f"Nothing was sent: snowauth has not sent credentials to {where} before: run this once in a "
            f"terminal to confirm the host, or list it in ${TRUSTED_VARIABLE}"
        )
    # Ctrl-C interrupts the read itself (see _prompt: asyncio.run's handler would only
    # cancel the task and leave the read waiting for Enter); set before the question shows
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.stderr.write(f"{question(name, target.base_url, target.trust)}\nSend to {where}? [y/N] ")
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer in ("y", "yes")


class Terminal:
    """The workflow's :class:`snowauth.workflow.TokenUI` on a terminal: questions and
    progress on stderr; tokens for the connection file are kept for :func:`run_token`,
    which writes them with ``--write`` once the token could be printed."""

    can_ask = True

    def __init__(self) -> None:
        self.for_the_file: TokenSet | None = None
        self.export_failures = 0

    async def ask_secret(
        self, connection: str, key: str, *, once: bool = False, password: bool = True, prompt: str | None = None
    ) -> str | None:
        # a terminal remembers nothing: every answer is a one-time answer
        return await _prompt(connection, key, password=password, prompt=prompt)

    async def confirm_host(self, name: str, target: conns.Destination) -> bool:
        return confirm_host(name, target)  # on the main thread: see confirm_host

    async def open_browser(self, url: str) -> None:
        await _open_browser(url)

    async def ask_code(self, connection: str) -> str | None:
        return await _ask_code(connection)

    @asynccontextmanager
    async def progress(self, title: str) -> AsyncIterator[Callable[[str], None]]:
        yield _progress

    def exchange_failed(self, exc: Exception) -> None:
        """Nothing to add: run_token prints the failure."""

    async def write_tokens(self, connection: str, tokens: TokenSet | None) -> None:
        self.for_the_file = tokens

    def export_failed(self, message: str) -> None:
        self.export_failures += 1
        print(f"snowauth: warning: {printable(plain_text(message))}", file=sys.stderr)


@dataclass(frozen=True)
class Got:
    """A token :func:`get_token` obtained: the file it was read from, the connection,
    the instance it was obtained from (base URL, no trailing slash) and whether it is new."""

    path: Path
    connection: Connection
    instance_url: str
    tokens: TokenSet
    new: bool
    workflow: TokenWorkflow


class NoToken(Exception):
    """No token could be had; the message says why (plain text, no secret) and
    ``status`` is the exit status of `snowauth token`: 1 a failure (the file, the
    connection, the instance), 2 no value entered at a prompt, 130 Ctrl-C."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def obtain(workflow: TokenWorkflow) -> tuple[TokenSet, bool, str]:
    """The token to use, whether it is new, and the instance it came from."""
    got = await workflow.obtain()
    assert workflow.target is not None  # obtain() confirmed the destination first
    return got.tokens, got.new, workflow.target.base_url


def get_token(file: str, connection: str | None, ui: Terminal | None = None, *, exports_needed: bool = False) -> Got:
    """Read ``file``, pick the connection and obtain its token through the token workflow
    on this terminal (questions and progress on stderr); :class:`NoToken` when none can
    be had (status 2 when ``exports_needed`` and the connection exports nothing). Shared
    by `snowauth token`, `snowauth exec` and `snowauth export`."""
    path = Path(file)
    try:
        text, problem = read_text(path)
    except OSError as exc:
        raise NoToken(f"cannot read {printable(file)}: {printable(str(exc.strerror or exc))}", 1) from None
    if problem:
        raise NoToken(f"{printable(file)}: {printable(problem)}", 1)
    folder = path.resolve().parent
    a = analyze(text, Environment.of_process(folder))
    try:
        c = conns.select(a, connection, None)
        if exports_needed and not declared(c):
            raise NoToken(
                f"the connection `{printable(c.name)}` exports its token nowhere: add "
                f"[connections.{printable(c.name)}.export] with dotenv, http_client or postman (docs/reference.md)",
                2,
            )
        workflow = TokenWorkflow(a, c, Environment.of_process(folder), ui or Terminal())
        tokens, new, instance_url = asyncio.run(obtain(workflow))
    except (conns.ConnectionProblem, OAuthError) as exc:
        raise NoToken(printable(plain_text(str(exc))), 1) from None
    except NoValueEntered as exc:
        raise NoToken(str(exc), 2) from None
    except KeyboardInterrupt:
        raise NoToken("cancelled", 130) from None
    return Got(path, c, instance_url, tokens, new, workflow)


def print_failure(failure: NoToken) -> None:
    """The reason no token could be had, on stderr, as `snowauth token` prints it."""
    lead = "\n" if failure.status == 130 else ""  # after the ^C the terminal shows
    print(f"{lead}snowauth: {failure}", file=sys.stderr)


def _write_file(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CannotPrint(Exception):
    """The token cannot be printed in the asked format; the message says what to do."""


def render(tokens: TokenSet, name: str, fmt: str) -> str:
    """The token as json, an `Authorization` header line or a shell assignment.

    The token may come from the connection file or the token cache: it is checked again
    here, because the header and env lines are pasted into HTTP requests and `eval`."""
    problem = token_problem("access_token", tokens.access_token)
    if problem is not None and fmt != "json":
        raise CannotPrint(f"the stored token of `{name}` cannot be printed: {problem}; fetch a new token")
    if fmt == "header":
        if not is_b64token(tokens.access_token):
            raise CannotPrint(
                f"the access token of `{name}` holds characters an `Authorization: Bearer` header cannot "
                "carry (RFC 6750 allows letters, digits, -._~+/ and trailing =): use --format json"
            )
        return f"Authorization: Bearer {tokens.access_token}"
    if fmt == "env":
        # single-quoted when it holds anything but [A-Za-z0-9@%+=:,./_-]: `eval` of the
        # line sets the variable and runs nothing
        return f"SNOW_ACCESS_TOKEN={shlex.quote(tokens.access_token)}"
    exp = tokens.expires_at
    return json.dumps(
        {
            "connection": name,
            "access_token": tokens.access_token,
            "token_type": tokens.token_type,
            "scope": tokens.scope,
            "expires_at": toml_datetime(exp) if exp else None,
        },
        indent=2,
    )


def run_export(file: str, connection: str | None, write: bool) -> int:
    """`snowauth export`: a token as `snowauth token` gets it, then every file declared in
    `[connections.<name>.export]` rewritten; their paths on stdout (never the token)."""
    ui = Terminal()
    try:
        got = get_token(file, connection, ui, exports_needed=True)
    except NoToken as failure:
        print_failure(failure)
        return failure.status
    if not got.new:  # a new token was exported when it was stored
        asyncio.run(got.workflow.export(got.tokens))
    if write and got.new and conns.token_store(got.connection) == "file":
        status = _write_to_file(got.path, file, got.connection, got.tokens)
        if status:
            return status
    for t in got.workflow.exported:
        print(printable(t.argument))
    return 1 if ui.export_failures else 0


def run_token(file: str, connection: str | None, fmt: str, write: bool) -> int:
    try:
        got = get_token(file, connection)
    except NoToken as failure:
        print_failure(failure)
        return failure.status
    path, c, tokens, new = got.path, got.connection, got.tokens, got.new
    try:
        output = render(tokens, c.name, fmt)  # before writing: a token that cannot be printed is not stored
    except CannotPrint as exc:
        print(f"snowauth: {printable(plain_text(str(exc)))}", file=sys.stderr)
        return 1
    if write and new and conns.token_store(c) == "file":
        status = _write_to_file(path, file, c, tokens)
        if status:
            return status
    print(output)
    return 0


def _write_to_file(path: Path, file: str, c: Connection, tokens: TokenSet) -> int:
    """``--write``: the new token stored in the connection file; 0, or the exit status
    after saying why not."""
    # the file may have changed while we waited for the instance: recompute on it
    try:
        fresh_text, _ = read_text(path)
    except OSError as exc:
        print(f"snowauth: cannot read {file} again to write the token: {exc.strerror or exc}", file=sys.stderr)
        return 1
    fresh = analyze(fresh_text)
    target = fresh.connections.get(c.name)
    if target is None:
        print(
            f"snowauth: the connection `{printable(c.name)}` left the file meanwhile; not written",
            file=sys.stderr,
        )
        return 1
    _write_file(path, apply(fresh_text, write_edits(fresh, target, tokens)))
    return 0
