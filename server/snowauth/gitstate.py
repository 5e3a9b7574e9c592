"""Is a connection file about to leak its tokens into git? (tracked, or not ignored)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from snowauth.analysis import WARNING, Analysis, Finding

TRACKED, UNIGNORED, SAFE = "tracked", "unignored", "safe"


def git_state(path: Path) -> str:
    """TRACKED, UNIGNORED (in a repository, untracked, not ignored) or SAFE (ignored,
    outside any repository, or git is not installed)."""
    folder, name = str(path.parent), path.name

    def git(*args: str) -> int:
        try:
            return subprocess.run(["git", "-C", folder, *args], capture_output=True, timeout=5, check=False).returncode
        except (OSError, subprocess.SubprocessError):
            return -1

    if git("rev-parse", "--is-inside-work-tree") != 0:
        return SAFE
    if git("ls-files", "--error-unmatch", "--", name) == 0:
        return TRACKED
    return SAFE if git("check-ignore", "-q", "--", name) == 0 else UNIGNORED


async def git_state_async(path: Path) -> str:
    """git_state for the language server. The processes start from the event loop's
    thread, so never while that thread is writing a message to stdout: started from a
    worker thread (vfork) during a large write, they made the pipe lose bytes (found by
    tests/hardening/test_chaos_lsp.py)."""
    import asyncio

    folder, name = str(path.parent), path.name

    async def git(*args: str) -> int:
        try:
            proc = await asyncio.create_subprocess_exec(
                "git",
                "-C",
                folder,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            return await asyncio.wait_for(proc.wait(), 5)
        except (OSError, TimeoutError):
            return -1

    if await git("rev-parse", "--is-inside-work-tree") != 0:
        return SAFE
    if await git("ls-files", "--error-unmatch", "--", name) == 0:
        return TRACKED
    return SAFE if await git("check-ignore", "-q", "--", name) == 0 else UNIGNORED


def token_findings(a: Analysis, state: str) -> list[Finding]:
    """A warning on each stored token when the file is (or may be) committed."""
    if state == SAFE:
        return []
    out = []
    for c in a.connections.values():
        access = c.token.get("access_token")
        if access is None:
            continue
        if state == TRACKED:
            message = (
                f"This file is tracked by git and holds the token of `{c.name}`: a commit would publish it. "
                'Use `token_store = "cache"`, or stop tracking the file (`git rm --cached`) and ignore it'
            )
        else:
            message = (
                f"This file holds the token of `{c.name}` and git does not ignore it: add it to .gitignore "
                'or use `token_store = "cache"`'
            )
        out.append(Finding(access.key.start, access.key.end, WARNING, "tokens-in-git", message, connection=c.name))
    return out
