"""`snowauth register FILE --connection NAME`: create the connection's OAuth client on the
instance (:mod:`snowauth.register`, the workflow the editor shares), then offer to fetch
its first token. This module is the terminal's side of it.

The admin is asked for on the terminal (the user name as typed, the password hidden),
or is another connection's token (``--admin-connection``); without a terminal,
``SNOW_ADMIN_USER`` and ``SNOW_ADMIN_PASSWORD`` of the process environment. Questions,
progress and warnings go to stderr; the result (``ext.RegisterResult``'s fields, no
secret) goes to stdout as JSON.

Exit statuses: 0 registered (and fetched when asked), 1 a failure (nothing written when
the instance refused), 2 no value entered at a prompt, 130 Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from snowauth import connections as conns
from snowauth.analysis import analyze
from snowauth.check import plain_text
from snowauth.files import read_text
from snowauth.oauth.errors import OAuthError
from snowauth.register import Registered, Registration
from snowauth.secrets import Environment
from snowauth.terminal import printable
from snowauth.token_cli import NoValueEntered, Terminal, _write_file
from snowauth.token_edits import apply, key_edits, write_edits
from snowauth.workflow import TokenWorkflow


class RegisterTerminal(Terminal):
    """The terminal adapter of :class:`snowauth.register.RegisterUI`: the connection's
    new keys are written into the file as a text edit of its current text."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        # only a terminal is asked (the application user, the admin); without one the
        # admin comes from the process environment and the rest from the options
        self.can_ask = sys.stdin.isatty()

    async def write_connection(self, connection: str, values: Mapping[str, str]) -> None:
        text, problem = read_text(self.path)  # again: the file may have changed meanwhile
        if problem:
            raise conns.ConnectionProblem(f"{self.path}: {problem}")
        a = analyze(text)
        c = a.connections.get(connection)
        if c is None:
            raise conns.ConnectionProblem(f"the connection `{connection}` left the file meanwhile; it was not written")
        _write_file(self.path, apply(text, key_edits(a, c, dict(values))))

    def warn(self, message: str) -> None:
        print(f"snowauth: warning: {printable(plain_text(message))}", file=sys.stderr)


def _ask_fetch() -> bool:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.stderr.write("Fetch the first token now? [Y/n] ")
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer in ("", "y", "yes")


def _analysis(path: Path) -> tuple[str, Environment]:
    text, problem = read_text(path)
    if problem:
        raise conns.ConnectionProblem(f"{printable(str(path))}: {printable(problem)}")
    return text, Environment.of_process(path.resolve().parent)


async def _register(
    path: Path, connection: str | None, admin_connection: str | None, application_user: str | None
) -> Registered:
    text, env = _analysis(path)
    a = analyze(text, env)
    c = conns.select(a, connection, None)
    ui = RegisterTerminal(path)
    admin_workflow = None
    if admin_connection is not None:
        other = conns.select(a, admin_connection, None)
        if other.name == c.name:
            raise conns.ConnectionProblem("--admin-connection names the connection being registered: name another")
        admin_workflow = TokenWorkflow(a, other, env, ui)
    tty = sys.stdin.isatty()
    registration = Registration(
        a,
        c,
        env,
        ui,
        file_stem=path.name.split(".")[0] or path.stem,
        admin_workflow=admin_workflow,
        environ=None if tty else dict(os.environ),
        application_user=application_user,
    )
    return await registration.run()


async def _fetch(path: Path, name: str) -> None:
    """The first token, as `snowauth token --write` gets it (stored in the cache, or in
    the file for ``token_store = "file"``)."""
    text, env = _analysis(path)
    a = analyze(text, env)
    c = conns.select(a, name, None)
    ui = Terminal()
    tokens = await TokenWorkflow(a, c, env, ui).fetch()
    if ui.for_the_file is not None:
        fresh_text, _ = read_text(path)
        fresh = analyze(fresh_text)
        target = fresh.connections.get(name)
        if target is not None:
            _write_file(path, apply(fresh_text, write_edits(fresh, target, tokens)))


def run_register(
    file: str,
    connection: str | None,
    *,
    admin_connection: str | None,
    application_user: str | None,
    fetch: bool | None,
) -> int:
    path = Path(file)
    try:
        done = asyncio.run(_register(path, connection, admin_connection, application_user))
    except OSError as exc:
        print(f"snowauth: cannot read {printable(file)}: {printable(str(exc.strerror or exc))}", file=sys.stderr)
        return 1
    except (conns.ConnectionProblem, OAuthError) as exc:
        print(f"snowauth: {printable(plain_text(str(exc)))}", file=sys.stderr)
        return 1
    except NoValueEntered as exc:
        print(f"snowauth: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nsnowauth: cancelled", file=sys.stderr)
        return 130
    where = f"; its secret is in {printable(str(done.secret_file))}" if done.secret_file else " (a public client)"
    name, client_id = printable(done.connection), printable(done.client_id)
    print(f"snowauth: registered the OAuth client of `{name}`: client_id {client_id}{where}", file=sys.stderr)
    if fetch is None:
        fetch = sys.stdin.isatty() and _ask_fetch()
    fetched = False
    status = 0
    if fetch:
        try:
            asyncio.run(_fetch(path, done.connection))
            fetched = True
        except (conns.ConnectionProblem, OAuthError, NoValueEntered) as exc:
            why = printable(plain_text(str(exc)))
            print(f"snowauth: the client is registered, but no token was fetched: {why}", file=sys.stderr)
            status = 1
        except KeyboardInterrupt:
            print("\nsnowauth: cancelled", file=sys.stderr)
            status = 130
    result = {
        "connection": done.connection,
        "client_id": done.client_id,
        "sys_id": done.sys_id,
        "secret_file": str(done.secret_file) if done.secret_file else None,
        "fetched": fetched,
    }
    print(json.dumps(result, indent=2))
    return status
