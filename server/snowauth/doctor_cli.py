"""`snowauth doctor FILE`: the live diagnosis of a connection (:mod:`snowauth.doctor`) on
a terminal: the checklist (✓ passed, ✗ failed, – skipped) or JSON on stdout, questions on
stderr (the host question, `${prompt}` secrets, the admin's credentials, asked once).

Exit status: 0 every check passed or was skipped, 1 a check failed (or the connection
cannot be used, the message on stderr), 2 a usage error or no value entered at a prompt,
130 Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from snowauth import connections as conns
from snowauth.analysis import analyze
from snowauth.check import plain_text
from snowauth.doctor import AdminAccess, ask_admin, diagnose
from snowauth.doctor_report import Report
from snowauth.files import read_text
from snowauth.oauth.errors import OAuthError
from snowauth.secrets import Environment
from snowauth.terminal import printable
from snowauth.token_cli import NoValueEntered, Terminal
from snowauth.workflow import TokenWorkflow


def _fail(message: str, status: int = 1) -> int:
    print(f"snowauth: {message}", file=sys.stderr)
    return status


def run_doctor(file: str, connection: str | None, fmt: str, admin_connection: str | None, no_admin: bool) -> int:
    path = Path(file)
    try:
        text, problem = read_text(path)
    except OSError as exc:
        return _fail(f"cannot read {printable(file)}: {printable(str(exc.strerror or exc))}")
    if problem:
        return _fail(f"{printable(file)}: {printable(problem)}")
    folder = path.resolve().parent
    a = analyze(text, Environment.of_process(folder))
    ui = Terminal()
    try:
        c = conns.select(a, connection, None)
        workflow = TokenWorkflow(a, c, Environment.of_process(folder), ui)
        admin_workflow = None
        if admin_connection is not None and not no_admin:
            other = conns.select(a, admin_connection, None)
            admin_workflow = TokenWorkflow(a, other, Environment.of_process(folder), ui)
        environ = None if sys.stdin.isatty() else dict(os.environ)

        async def admin() -> AdminAccess:
            if no_admin:
                return AdminAccess(None, "--no-admin")
            return await ask_admin(ui, c.name, admin_workflow=admin_workflow, environ=environ)

        report: Report = asyncio.run(diagnose(workflow, admin))
    except (conns.ConnectionProblem, OAuthError) as exc:
        return _fail(printable(plain_text(str(exc))))
    except NoValueEntered as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return _fail("cancelled", 130)
    sys.stdout.write(report.json() if fmt == "json" else report.text())
    return 0 if report.ok else 1
