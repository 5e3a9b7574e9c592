"""The snowauth command line as a subprocess, as a user's shell runs it."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

CLI = [sys.executable, "-m", "snowauth"]


def run_snowauth(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    python: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """`snowauth ARGS` with ``env`` (default: this process's environment) and no terminal
    on stdin, its output captured as text. A non-zero exit is returned, not raised; a
    hang fails the test (TimeoutExpired). ``python``: options for the interpreter itself
    (``("-X", "importtime")``)."""
    return subprocess.run(
        [CLI[0], *python, *CLI[1:], *args],
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


class Pty:
    """`snowauth ARGS` (``env`` added to this process's environment, ``cache`` its token
    cache) with a pseudo-terminal as its controlling terminal and its
    stdin, stdout and stderr: keys typed at it go through the terminal's line discipline,
    so Ctrl-C is a SIGINT and Ctrl-D an end of file, as for a person."""

    def __init__(self, args: list[str], cache: Path, env: Mapping[str, str] | None = None) -> None:
        env = {**os.environ, **(env or {}), "SNOWAUTH_CACHE_DIR": str(cache), "TERM": "dumb"}
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (nothing of pytest may run here)
            try:
                os.execve(sys.executable, [sys.executable, "-m", "snowauth", *args], env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.shown = b""
        self.status: int | None = None

    def _pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # OSError: the child closed the terminal
                self.shown += os.read(self.fd, 65536)

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.shown:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{text!r} never shown; the terminal showed {self.shown!r}")
            self._pump(0.1)

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, timeout: float = 20) -> int:
        """The exit status, or a failure when the program is still running after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._pump(0.1)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                for _ in range(5):
                    self._pump(0.05)
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        self.kill()
        raise AssertionError(f"still running {timeout} s after the key; the terminal showed {self.shown!r}")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)

    def text(self) -> str:
        return self.shown.decode("utf-8", "replace").replace("\r\n", "\n")
