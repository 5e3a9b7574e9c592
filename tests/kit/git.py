"""Real git for the tests that build repositories: run it in a folder, make a repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REAL_GIT = shutil.which("git") or "/usr/bin/git"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real git in ``repo`` (without the test process's GIT_* variables);
    ``check`` raises on a non-zero exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        [REAL_GIT, "-C", str(repo), *args], capture_output=True, text=True, timeout=20, check=check, env=env
    )


def make_repo(path: Path) -> Path:
    """A new, empty repository at ``path`` (created if missing)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    return path
