"""The snowauth command line as a subprocess, as a user's shell runs it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

CLI = [sys.executable, "-m", "snowauth"]


def run_snowauth(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`snowauth ARGS` with ``env`` (default: this process's environment) and no terminal
    on stdin, its output captured as text. A non-zero exit is returned, not raised; a
    hang fails the test (TimeoutExpired)."""
    return subprocess.run(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def start_snowauth(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[str]:
    """`snowauth ARGS` started and left running (to send it signals), its output captured
    as text, no terminal on stdin. It starts with SIGINT at its default action, as from a
    terminal, even when the test run itself was started in the background (where a shell
    ignores SIGINT and every process started from there inherits that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # reset to default at exec
    try:
        return subprocess.Popen(
            [*CLI, *args],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
