"""Is a connection file, or a file it exports its token to, about to leak tokens into git?
(tracked, or not ignored)

A repository is untrusted input too. git obeys the configuration of the repository it
works in, and that configuration can name commands: `core.fsmonitor` runs one each time
git reads the index, and an `include.path` can pull such a setting from a file of the
working tree. A folder holding HEAD, config, objects/ and refs/ (files any repository can
contain) is taken by git for a repository of its own, with its config. So snowauth:

- finds the repository itself, as git would, but refuses a folder that looks like the
  inside of a repository, a `.git` that is a symbolic link, and a `.git` file sending git
  to a folder that is neither inside a `.git` folder nor a linked work tree pointing back;
- refuses, like git, a repository that belongs to another user unless `safe.directory`
  in the user's own configuration lists it;
- names the repository to git (GIT_DIR, GIT_WORK_TREE), so that git looks for no other;
- runs only `git ls-files --error-unmatch` and `git check-ignore`, which read the index
  and the ignore rules but never a file's content (so no filter runs), run no hook,
  never page and never reach a remote;
- and still overrides on git's command line, which beats the repository's config and
  everything it includes, each setting that could make them run something.

The user's own global and system configuration stay in force: they are the user's (and
the administrator's), not the repository's, and `core.excludesFile` there decides what
is ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path

from snowauth.analysis import Analysis
from snowauth.checks import set_key_fix
from snowauth.document import Connection
from snowauth.findings import WARNING, FileAppend, Finding, Fix

TRACKED, UNIGNORED, SAFE = "tracked", "unignored", "safe"
# A state that starts with UNCHECKED says why git was not asked (the rest is the reason).
UNCHECKED = "unchecked: "

# On git's command line: these win over the repository's config and its includes.
OVERRIDES = (
    "core.fsmonitor=false",  # a command run whenever git reads the index
    "core.untrackedCache=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "pager.ls-files=false",
    "pager.check-ignore=false",
    "core.editor=false",
    "sequence.editor=false",
    "core.askPass=",
    "core.sshCommand=false",
    "core.alternateRefsCommand=",
    "credential.helper=",
    "diff.external=",
    "gpg.program=false",
    "protocol.allow=never",  # a lazy fetch of a partial clone would run a transport
    "submodule.recurse=false",
    "gc.auto=0",
    "maintenance.auto=false",
)
# The user's own choices of configuration files; every other GIT_* variable is dropped.
KEPT_VARIABLES = {"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"}
TIMEOUT = 5.0


def unchecked(reason: str) -> str:
    return UNCHECKED + reason


@dataclass(frozen=True)
class _Command:
    """One git command: its arguments, folder and environment."""

    argv: list[str]
    cwd: str
    env: dict[str, str]


@dataclass(frozen=True)
class _Repository:
    """A repository found for a file: its work tree, its `.git` file if any, its git folder."""

    top: Path  # the work tree
    gitfile: Path | None  # `.git` when it is a file
    git_dir: Path


def _git_program() -> str | None:
    """git, looked up in the absolute PATH entries only: a relative entry (".") would be
    looked up in the repository, where git runs, and find the repository's own `git`."""
    entries = [e for e in os.environ.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(e)]
    # shutil.which's test, without importing shutil (and its compression modules) on
    # `snowauth check`'s path
    for entry in dict.fromkeys(entries):
        name = os.path.join(entry, "git")
        if os.path.exists(name) and os.access(name, os.F_OK | os.X_OK) and not os.path.isdir(name):
            return name
    return None


def _looks_like_git_dir(folder: Path) -> bool:
    """Wider than git's own test (which also wants a valid HEAD): whatever git could take
    for a repository's inside, we do too."""
    return all(os.path.lexists(folder / name) for name in ("HEAD", "objects", "refs"))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _gitfile_target(gitfile: Path, top: Path) -> Path | str:
    """The git dir a `.git` file names, when it is one git itself would have written: a
    submodule's (inside the superproject's `.git`) or a linked work tree's (whose git dir
    names this `.git` file back, from outside this work tree)."""
    try:
        with open(gitfile, "rb") as f:
            data = f.read(4097)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return unchecked(f"`{gitfile}` cannot be read as a `.git` file")
    if len(data) > 4096 or not text.startswith("gitdir: "):
        return unchecked(f"`{gitfile}` is not a `.git` file git wrote")
    target = Path(os.path.realpath(top / text[len("gitdir: ") :].rstrip("\r\n")))
    refusal = unchecked(
        f"`{gitfile}` sends git to `{target}`, which is neither inside a `.git` folder nor a linked "
        "work tree of a repository, so its settings may come from the repository's own files"
    )
    if not target.is_dir():
        return refusal
    if ".git" in target.parts:
        return target
    try:
        back = (target / "gitdir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return refusal
    if os.path.realpath(target / back) == os.path.realpath(gitfile) and not _inside(target, top):
        return target
    return refusal


def _find_repository(folder: Path) -> _Repository | str:
    """The repository git would work in from ``folder`` (a real path), SAFE when there is
    none, or an UNCHECKED reason when git would take a layout that a repository's own
    files can fake."""
    ceilings = {
        os.path.realpath(c) for c in os.environ.get("GIT_CEILING_DIRECTORIES", "").split(os.pathsep) if os.path.isabs(c)
    }
    across = os.environ.get("GIT_DISCOVERY_ACROSS_FILESYSTEM", "").lower() in {"1", "true", "yes", "on"}
    try:
        device = os.stat(folder).st_dev
    except OSError:
        return SAFE
    d = folder
    while True:
        dotgit = d / ".git"
        try:
            mode = os.lstat(dotgit).st_mode
        except OSError:
            mode = None
        if mode is not None:
            if stat.S_ISDIR(mode):
                return _Repository(d, None, dotgit)
            if stat.S_ISREG(mode):
                target = _gitfile_target(dotgit, d)
                return target if isinstance(target, str) else _Repository(d, dotgit, target)
            return unchecked(
                f"`{dotgit}` is a symbolic link or a special file, and git would follow it to a "
                "configuration the repository can choose"
            )
        if _looks_like_git_dir(d):
            return unchecked(
                f"`{d}` looks like the inside of a git repository (it has HEAD, objects and refs), and git "
                "would obey the settings stored in it, which can run commands; keep connection files out of "
                "such folders"
            )
        parent = d.parent
        if parent == d or str(parent) in ceilings:
            return SAFE
        try:
            if not across and os.stat(parent).st_dev != device:
                return SAFE
        except OSError:
            return SAFE
        d = parent


def _owned(path: Path) -> bool:
    """git's ownership test: the current user's (root acting through sudo: SUDO_UID's)."""
    if not hasattr(os, "geteuid"):
        return True
    try:
        uid = os.lstat(path).st_uid
    except OSError:
        return False
    euid = os.geteuid()
    if euid == 0 and uid != 0:
        sudo = os.environ.get("SUDO_UID", "")
        return sudo.isdigit() and int(sudo) == uid
    return uid == euid


def _safe_listed(values: list[str], top: Path) -> bool:
    """`safe.directory` as git reads it: an empty value clears the list, `*` allows all,
    `path/*` a folder's descendants."""
    safe = False
    for value in values:
        if not value:
            safe = False
        elif value == "*":
            safe = True
        elif value.endswith("/*"):
            prefix = os.path.realpath(os.path.expanduser(value[:-2]))
            safe = safe or str(top).startswith(prefix.rstrip("/") + "/")
        else:
            safe = safe or os.path.realpath(os.path.expanduser(value)) == str(top)
    return safe


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in KEPT_VARIABLES}
    env.pop("SSH_ASKPASS", None)
    env.update(
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_EDITOR="false",
        GIT_SEQUENCE_EDITOR="false",
        GIT_ASKPASS="",
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL="none",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",
    )
    env.update(extra)
    return env


def _steps(path: Path) -> Generator[_Command, tuple[int, bytes], str]:
    """The decision, yielding the git commands it needs and receiving (exit code,
    output) for each: shared by the blocking and the asyncio drivers."""
    git = _git_program()
    if git is None:
        return SAFE
    folder = Path(os.path.realpath(path.parent))
    repo = _find_repository(folder)
    if isinstance(repo, str):
        return repo
    owner_checked = [p for p in (repo.top, repo.gitfile, repo.git_dir) if p is not None]
    if not all(_owned(p) for p in owner_checked):
        import tempfile  # rare: loaded only here

        with tempfile.TemporaryDirectory(prefix="snowauth-git-") as empty:
            # read the user's and the system's settings from a folder in no repository
            env = _environment({"GIT_CEILING_DIRECTORIES": str(Path(empty).parent)})
            code, out = yield _Command([git, "config", "--null", "--get-all", "safe.directory"], empty, env)
        values = out.decode("utf-8", "replace").split("\0")[:-1] if code == 0 else []
        if not _safe_listed(values, repo.top):
            return unchecked(
                f"the repository `{repo.top}` belongs to another user, and git refuses to work in it; "
                f"if you trust it, run `git config --global --add safe.directory {repo.top}`"
            )
    env = _environment(
        {
            "GIT_DIR": str(repo.git_dir),
            "GIT_WORK_TREE": str(repo.top),
            "GIT_CEILING_DIRECTORIES": str(repo.top.parent),
        }
    )
    base = [git, "--no-pager", "--no-optional-locks"]
    for setting in OVERRIDES:
        base += ["-c", setting]
    relative = (folder / path.name).relative_to(repo.top).as_posix()
    # a file named "*.toml" or ":(glob)x" is that file, not a pattern (check-ignore refuses
    # the literal magic, and takes "./:(glob)x" for a file)
    literal = {**env, "GIT_LITERAL_PATHSPECS": "1"}
    code, _ = yield _Command([*base, "ls-files", "--error-unmatch", "--", relative], str(repo.top), literal)
    if code == 0:
        return TRACKED
    if code != 1:  # git failed (a damaged or unsupported repository): say nothing
        return SAFE
    code, _ = yield _Command([*base, "check-ignore", "-q", "--", f"./{relative}"], str(repo.top), env)
    return UNIGNORED if code == 1 else SAFE


def _run(command: _Command) -> tuple[int, bytes]:
    try:
        done = subprocess.run(
            command.argv,
            cwd=command.cwd,
            env=command.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return -1, b""
    return done.returncode, done.stdout


def git_state(path: Path) -> str:
    """TRACKED, UNIGNORED (in a repository, untracked, not ignored), SAFE (ignored,
    outside any repository, or git is not installed or fails), or UNCHECKED + the reason
    git was not asked."""
    steps = _steps(path)
    try:
        command = next(steps)
        while True:
            command = steps.send(_run(command))
    except StopIteration as stop:
        return str(stop.value)


async def git_state_async(path: Path) -> str:
    """git_state for the language server. The processes start from the event loop's
    thread, so never while that thread is writing a message to stdout: started from a
    worker thread (vfork) during a large write, they made the pipe lose bytes (found by
    tests/hardening/test_chaos_lsp.py)."""
    import asyncio

    async def run(command: _Command) -> tuple[int, bytes]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *command.argv,
                cwd=command.cwd,
                env=command.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError:
            return -1, b""
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        except TimeoutError:
            return -1, b""
        finally:
            if proc.returncode is None:  # timed out or cancelled: do not leave it running
                proc.kill()
                # bounded: at the server's exit the wait for the killed child could hang
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 1)
        return (-1 if proc.returncode is None else proc.returncode), out

    steps = _steps(path)
    try:
        command = next(steps)
        while True:
            command = steps.send(await run(command))
    except StopIteration as stop:
        return str(stop.value)


def in_repository(folder: Path) -> bool:
    """Whether git would take ``folder`` for part of a repository (or something that may
    be one): looked up in the file system like git does, without running git."""
    try:
        real = Path(os.path.realpath(folder))
    except (OSError, ValueError):
        return True
    return _find_repository(real) != SAFE


def gitignore_entry(name: str) -> str | None:
    """The `.gitignore` line (beside the file) that ignores the file ``name`` and no
    other: anchored, with git's pattern characters escaped; None when no line can."""
    if not name or any(ch in name for ch in "\n\r/\0"):
        return None
    escaped = "".join("\\" + ch if ch in "\\*?[" else ch for ch in name)
    trailing = len(escaped) - len(escaped.rstrip(" "))
    if trailing:  # git drops trailing spaces unless escaped
        escaped = escaped.rstrip(" ") + "\\ " * trailing
    return "/" + escaped


def gitignore_lists(folder: Path, line: str) -> bool:
    """Whether the `.gitignore` in ``folder`` has ``line`` (or it anchored) as a line of
    its own (a plain text look, no git): False when it cannot be read."""
    from snowauth import files

    try:
        data = files.read_bytes(folder / GITIGNORE, files.SECRET_MAX_BYTES, follow_links=False)
    except OSError:
        return False
    wanted = {line, "/" + line.lstrip("/")}
    return any(row.strip() in wanted for row in data.decode("utf-8", "replace").splitlines())


GITIGNORE = ".gitignore"
CACHE_FIX_TITLE = 'Store tokens in the cache instead (token_store = "cache"; the next fetch writes there)'


def _uses_cache(c: Connection) -> bool:
    a = c.keys.get("token_store")
    return a is not None and a.value.data == "cache"


def _token_fixes(a: Analysis, c: Connection, state: str, name: str | None) -> list[Fix]:
    out: list[Fix] = []
    entry = gitignore_entry(name) if name is not None and state != TRACKED else None
    if entry is not None:  # (a tracked file stays tracked when ignored: no help there)
        out.append(Fix(f"Add {name} to .gitignore", appends=[FileAppend(GITIGNORE, entry + "\n")]))
    if _uses_cache(c):
        from snowauth.token_edits import remove_edits  # (and the token values: not for `check`)

        edits = remove_edits(a, c)
        if edits:
            out.append(Fix(f"Remove the token table of `{c.name}` (tokens now go to the cache)", edits))
    else:
        fix = set_key_fix(a.text, c, "token_store", '"cache"', CACHE_FIX_TITLE)
        if fix is not None:
            out.append(fix)
    return out


def token_findings(a: Analysis, state: str, name: str | None = None, *, fixes: bool = False) -> list[Finding]:
    """A warning on each stored token when the file is (or may be) committed; with
    ``fixes``, its quick fixes: add the file (``name``, beside the `.gitignore`) to
    `.gitignore`, and keep tokens in the cache (then remove the table left in the file)."""
    if state == SAFE:
        return []
    out = []
    for c in a.connections.values():
        access = c.token.get("access_token")
        if access is None:
            continue
        if _uses_cache(c):
            message = (
                f'`{c.name}` keeps its tokens in the cache (`token_store = "cache"`), but this file still '
                "holds a token table that a commit would publish: remove it (the next fetch writes to the cache)"
            )
        elif state == TRACKED:
            message = (
                f"This file is tracked by git and holds the token of `{c.name}`: a commit would publish it. "
                'Use `token_store = "cache"`, or stop tracking the file (`git rm --cached`) and ignore it'
            )
        elif state.startswith(UNCHECKED):
            message = (
                f"This file holds the token of `{c.name}`, and SnowAuth did not ask git whether a commit would "
                f"publish it: {state[len(UNCHECKED) :]}. Make sure yourself that the file is not committed, "
                'or use `token_store = "cache"`'
            )
        else:
            message = (
                f"This file holds the token of `{c.name}` and git does not ignore it: add it to .gitignore "
                'or use `token_store = "cache"`'
            )
        found = Finding(access.key.start, access.key.end, WARNING, "tokens-in-git", message, connection=c.name)
        if fixes:
            found.fixes = _token_fixes(a, c, state, name)
        out.append(found)
    return out


def export_gitignore_entry(relative: str) -> str | None:
    """The `.gitignore` line (beside the connection file) that ignores the export target
    at ``relative`` (a path below that folder, `/`-separated) and no other file."""
    parts = [gitignore_entry(p) for p in relative.split("/")]
    if not parts or any(p is None or p in ("/.", "/..") for p in parts):
        return None
    return "".join(p for p in parts if p is not None)


def export_findings(
    a: Analysis, states: Mapping[Path, str], folder: Path | None, *, fixes: bool = False
) -> list[Finding]:
    """A warning on each `export` path whose target git would publish (``states``: git's
    answer for each target, by the path `exports.target` gives it); with ``fixes``, the
    quick fix that adds the target to the `.gitignore` beside the connection file."""
    from snowauth.secrets import file_reference_path

    out = []
    for c in a.connections.values():
        for key, assign in c.export.items():
            v = assign.value
            if v.kind != "string" or folder is None:
                continue
            path = file_reference_path(str(v.data), folder)
            state = states.get(path, SAFE)
            if state == SAFE:
                continue
            shown = f"`export.{key}` of `{c.name}` writes the token to `{v.data}`"
            if state == TRACKED:
                message = (
                    f"{shown}, which git tracks: a commit would publish it. "
                    "Stop tracking it (`git rm --cached`) and ignore it"
                )
            elif state.startswith(UNCHECKED):
                why = state[len(UNCHECKED) :]
                message = f"{shown}, and SnowAuth did not ask git whether a commit would publish it: {why}"
            else:
                message = f"{shown}, which git does not ignore: add it to .gitignore"
            found = Finding(v.start, v.end, WARNING, "export-in-git", message, connection=c.name)
            try:
                relative = Path(os.path.normpath(path)).relative_to(folder).as_posix()
            except ValueError:
                relative = ""
            entry = export_gitignore_entry(relative) if relative and state != TRACKED else None
            if fixes and entry is not None and not gitignore_lists(folder, entry):
                found.fixes = [Fix(f"Add {relative} to .gitignore", appends=[FileAppend(GITIGNORE, entry + "\n")])]
            out.append(found)
    return out
