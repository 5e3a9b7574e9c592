"""The snowauth command line as a subprocess, as a user's shell runs it."""

from __future__ import annotations

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
