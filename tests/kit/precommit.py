"""The real pre-commit (from PyPI, the dev extra) over throwaway git repositories: this
repository as a hook source, a project that uses it, a commit through the hook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.kit.git import REAL_GIT, git

ROOT = Path(__file__).resolve().parents[2]
WHO = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "SNOW"))}
    env["PRE_COMMIT_HOME"] = str(home)
    env["PRE_COMMIT_COLOR"] = "never"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def snapshot(dest: Path) -> tuple[Path, str]:
    """A repository at ``dest`` with one commit: this working tree as it is now (tracked
    and new files, without what .gitignore leaves out), so the hooks are tested as
    written, committed or not. Returns the repository and the commit's sha."""
    git(dest.parent, "init", "-q", str(dest))
    base = [REAL_GIT, f"--git-dir={dest / '.git'}", f"--work-tree={ROOT}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run([*base, "add", "-A"], check=True, timeout=120, env=env, capture_output=True)
    subprocess.run([*base, *WHO, "commit", "-q", "-m", "snapshot"], check=True, timeout=60, env=env)
    return dest, git(dest, "rev-parse", "HEAD").stdout.strip()


def pre_commit(*args: str, cwd: Path, home: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`pre-commit ARGS` in ``cwd`` with ``home`` as its PRE_COMMIT_HOME (where it keeps
    the hook repositories and their environments)."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=_env(home),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def project(path: Path, source: Path, rev: str, hooks: list[str], home: Path) -> Path:
    """A new repository at ``path`` whose `.pre-commit-config.yaml` takes ``hooks`` from
    ``source`` at ``rev``, staged, with pre-commit installed as its git hook."""
    git(path.parent, "init", "-q", str(path))
    lines = ["repos:", f"  - repo: {source}", f"    rev: {rev}", "    hooks:"]
    lines += [f"      - id: {h}" for h in hooks]
    (path / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    git(path, "add", ".pre-commit-config.yaml")
    done = pre_commit("install", cwd=path, home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def commit(repo: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """Stage ``files`` and `git commit` them: the pre-commit hook runs as for a person."""
    git(repo, "add", "--", *files)
    return subprocess.run(
        [REAL_GIT, "-C", str(repo), *WHO, "commit", "-m", "change"],
        env=_env(home),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def head(repo: Path) -> str | None:
    """The sha of HEAD, None before the first commit."""
    done = git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return done.stdout.strip() or None
