"""A cloned repository must not make snowauth run its commands through git.

snowauth asks git whether a connection file holding tokens is tracked or ignored. git
obeys the configuration of the repository it finds, and a repository can name commands
there (`core.fsmonitor`, `core.pager`, hooks, filters, `include.path` pulling more of
it...). Each test below builds a hostile repository for real with git, runs the real CLI
and the real language server on a connection file inside it, and checks that the
attacker's command never ran: it would create the file `marker`.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.gitstate import SAFE, TRACKED, UNIGNORED, git_state
from tests.kit.git import REAL_GIT, git
from tests.kit.lsp import open_doc, session_fixture

TEXT = """[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_GIT_SECRET}"

[connections.dev.token]
access_token = "abc"
"""
NAME = "c.snowauth.toml"

# The language server runs with a `git` first on its PATH that records every call and
# then runs the real git; "." comes before it, so that a server which looked for git in
# a relative PATH entry from inside the repository would run the repository's `git`.
BASE = Path(os.environ.get("TMPDIR", "/tmp")) / f"snowauth-git-attack-{os.getpid()}"
WRAPPER_DIR = BASE / "bin"
CALLS = BASE / "git-calls.log"
WRAPPER_DIR.mkdir(parents=True, exist_ok=True)
(WRAPPER_DIR / "git").write_text(
    f'#!/bin/sh\nprintf "%s\\n" "$*" >> {shlex.quote(str(CALLS))}\nexec {shlex.quote(REAL_GIT)} "$@"\n',
    encoding="utf-8",
)
(WRAPPER_DIR / "git").chmod(0o755)
SERVER_PATH = os.pathsep.join([".", str(WRAPPER_DIR), os.environ.get("PATH", "")])

client = session_fixture(
    presets=("visual-studio-code", "visual-studio-code|untrusted"),
    env={"PATH": SERVER_PATH, "SNOWAUTH_CONFIG_DIR": str(BASE / "config")},
)

HOOKS = [
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "fsmonitor-watchman",
    "p4-changelist",
    "p4-prepare-changelist",
    "p4-post-changelist",
    "p4-pre-submit",
    "post-index-change",
]


def set_config(config: Path, *pairs: tuple[str, str]) -> None:
    """Write settings straight into a config file (`git config --file` runs nothing)."""
    for key, value in pairs:
        git(config.parent, "config", "--file", str(config), key, value)


def touch(marker: Path) -> str:
    return f"touch {shlex.quote(str(marker))}"


def script(path: Path, marker: Path) -> None:
    path.write_text(f"#!/bin/sh\n{touch(marker)}\n", encoding="utf-8")
    path.chmod(0o755)


@dataclass
class Attack:
    file: Path  # the connection file, holding a token
    marker: Path  # appears if the attacker's command ran
    expect: str  # what snowauth should say: "tracked", "unignored" or "unchecked"


def tracked_repo(tmp_path: Path, track: bool = True) -> tuple[Path, Path]:
    top = tmp_path / "repo"
    top.mkdir()
    (top / NAME).write_text(TEXT, encoding="utf-8")
    git(top, "init", "-q")
    if track:
        git(top, "add", NAME)
    return top, top / ".git" / "config"


def top_fsmonitor(tmp_path: Path, marker: Path) -> Attack:
    top, config = tracked_repo(tmp_path)
    set_config(config, ("core.fsmonitor", touch(marker)))
    return Attack(top / NAME, marker, "tracked")


def untracked_fsmonitor(tmp_path: Path, marker: Path) -> Attack:
    """Untracked: the ignore rules are asked too."""
    top, config = tracked_repo(tmp_path, track=False)
    set_config(config, ("core.fsmonitor", touch(marker)), ("core.untrackedCache", "true"))
    return Attack(top / NAME, marker, "unignored")


def pager(tmp_path: Path, marker: Path) -> Attack:
    top, config = tracked_repo(tmp_path)
    set_config(
        config,
        ("core.pager", touch(marker)),
        ("pager.ls-files", touch(marker)),
        ("pager.check-ignore", touch(marker)),
        ("pager.rev-parse", touch(marker)),
    )
    return Attack(top / NAME, marker, "tracked")


def commands_in_config(tmp_path: Path, marker: Path) -> Attack:
    """Every other setting that names a command."""
    top, config = tracked_repo(tmp_path)
    cmd = touch(marker)
    set_config(
        config,
        ("diff.external", cmd),
        ("core.editor", cmd),
        ("sequence.editor", cmd),
        ("core.askPass", cmd),
        ("core.sshCommand", cmd),
        ("core.alternateRefsCommand", cmd),
        ("credential.helper", f"!{cmd}"),
        ("gpg.program", cmd),
        ("alias.ls-files", f"!{cmd}"),
        ("alias.check-ignore", f"!{cmd}"),
        ("uploadpack.packObjectsHook", cmd),
    )
    return Attack(top / NAME, marker, "tracked")


def hooks(tmp_path: Path, marker: Path) -> Attack:
    top, _ = tracked_repo(tmp_path)
    for hook in HOOKS:
        script(top / ".git" / "hooks" / hook, marker)
    return Attack(top / NAME, marker, "tracked")


def hooks_path(tmp_path: Path, marker: Path) -> Attack:
    top, config = tracked_repo(tmp_path)
    (top / "tools").mkdir()
    for hook in HOOKS:
        script(top / "tools" / hook, marker)
    set_config(config, ("core.hooksPath", str(top / "tools")))
    return Attack(top / NAME, marker, "tracked")


def include(tmp_path: Path, marker: Path) -> Attack:
    """The config pulls in a file of the working tree (a file a clone does bring)."""
    top, config = tracked_repo(tmp_path)
    (top / "evil.gitconfig").write_text(f'[core]\n\tfsmonitor = "{touch(marker)}"\n', encoding="utf-8")
    set_config(config, ("include.path", "../evil.gitconfig"), ("includeIf.gitdir:/.path", "../evil.gitconfig"))
    return Attack(top / NAME, marker, "tracked")


def filters(tmp_path: Path, marker: Path) -> Attack:
    """`* filter=evil`: a filter runs when git reads a changed file's content."""
    top, config = tracked_repo(tmp_path)
    (top / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n", encoding="utf-8")
    git(top, "add", ".gitattributes")
    cmd = touch(marker)
    set_config(
        config,
        ("filter.evil.clean", cmd),
        ("filter.evil.smudge", cmd),
        ("filter.evil.process", cmd),
        ("filter.evil.required", "true"),
        ("diff.evil.textconv", cmd),
        ("diff.evil.command", cmd),
        ("merge.evil.driver", cmd),
    )
    (top / NAME).write_text(TEXT + "# edited after git add\n", encoding="utf-8")
    return Attack(top / NAME, marker, "tracked")


def fake_bare(folder: Path, marker: Path) -> None:
    """A folder that git takes for a repository of its own: HEAD, config, objects/,
    refs/ (ordinary files a clone brings), with a command in its config."""
    git(folder.parent, "init", "-q", "--bare", folder.name)
    set_config(
        folder / "config",
        ("core.bare", "false"),
        ("core.worktree", "."),
        ("core.fsmonitor", touch(marker)),
        ("core.pager", touch(marker)),
    )


def embedded_bare(tmp_path: Path, marker: Path) -> Attack:
    top, _ = tracked_repo(tmp_path, track=False)
    fake_bare(top / "evil", marker)
    (top / "evil" / NAME).write_text(TEXT, encoding="utf-8")
    return Attack(top / "evil" / NAME, marker, "unchecked")


def embedded_plain_bare(tmp_path: Path, marker: Path) -> Attack:
    """A bare repository as git makes it (no work tree), beside the connection file."""
    top, _ = tracked_repo(tmp_path, track=False)
    git(top, "init", "-q", "--bare", "evil")
    set_config(top / "evil" / "config", ("core.fsmonitor", touch(marker)), ("core.pager", touch(marker)))
    (top / "evil" / NAME).write_text(TEXT, encoding="utf-8")
    return Attack(top / "evil" / NAME, marker, "unchecked")


def gitfile(tmp_path: Path, marker: Path) -> Attack:
    """`.git` is a file sending git to a folder of the working tree."""
    top = tmp_path / "repo"
    top.mkdir()
    fake_bare(top / "evil", marker)
    (top / ".git").write_text("gitdir: evil\n", encoding="utf-8")
    (top / NAME).write_text(TEXT, encoding="utf-8")
    return Attack(top / NAME, marker, "unchecked")


def symlinked_dotgit(tmp_path: Path, marker: Path) -> Attack:
    top = tmp_path / "repo"
    top.mkdir()
    fake_bare(top / "evil", marker)
    (top / ".git").symlink_to("evil")
    (top / NAME).write_text(TEXT, encoding="utf-8")
    return Attack(top / NAME, marker, "unchecked")


def planted_git(tmp_path: Path, marker: Path) -> Attack:
    """An executable `git` in the repository, for a PATH with a relative entry (".")."""
    top, _ = tracked_repo(tmp_path)
    script(top / "git", marker)
    return Attack(top / NAME, marker, "tracked")


ATTACKS: dict[str, Callable[[Path, Path], Attack]] = {
    f.__name__: f
    for f in (
        top_fsmonitor,
        untracked_fsmonitor,
        pager,
        commands_in_config,
        hooks,
        hooks_path,
        include,
        filters,
        embedded_bare,
        embedded_plain_bare,
        gitfile,
        symlinked_dotgit,
        planted_git,
    )
}
EXPECTED = {
    "tracked": "This file is tracked by git",
    "unignored": "git does not ignore it",
    "unchecked": "did not ask git",
}


def build(name: str, tmp_path: Path) -> Attack:
    attack = ATTACKS[name](tmp_path, tmp_path / "marker")
    assert not attack.marker.exists()  # building it ran nothing
    return attack


@pytest.mark.parametrize("name", ATTACKS)
def test_cli_check_runs_no_repository_command(name: str, tmp_path: Path) -> None:
    attack = build(name, tmp_path)
    env = {**os.environ, "PATH": os.pathsep.join([".", os.environ.get("PATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "check", str(attack.file)],
        cwd=attack.file.parent,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert not attack.marker.exists(), f"the repository's command ran: {out.stdout}{out.stderr}"
    assert EXPECTED[attack.expect] in out.stdout, out.stdout + out.stderr
    assert "[tokens-in-git]" in out.stdout


def warnings_of(client: LanguageClient, uri: str) -> list[str]:
    return [d.message for d in client.diagnostics.get(uri, []) if d.code == "tokens-in-git"]


async def wait_for_warning(client: LanguageClient, uri: str, text: str, seconds: float = 15) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if any(text in m for m in warnings_of(client, uri)):
            return True
        await asyncio.sleep(0.05)
    return False


async def settle(client: LanguageClient, uri: str) -> None:
    """Wait until the server has handled the open (its diagnostics are out and a request
    after it is answered), then leave a background git check time to start."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while uri not in client.diagnostics and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert uri in client.diagnostics
    await client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(0, 1)),
    )
    await asyncio.sleep(1.5)


@pytest.mark.parametrize("name", ATTACKS)
async def test_language_server_runs_no_repository_command(name: str, client: LanguageClient, tmp_path: Path) -> None:
    attack = build(name, tmp_path)
    CALLS.unlink(missing_ok=True)
    uri = attack.file.as_uri()
    open_doc(client, uri, attack.file.read_text(encoding="utf-8"))
    if client.trusted_workspace:  # type: ignore[attr-defined]
        said = await wait_for_warning(client, uri, EXPECTED[attack.expect])
        assert not attack.marker.exists(), "the repository's command ran"
        assert said, warnings_of(client, uri)
        return
    # untrusted workspace: git is not even started
    await settle(client, uri)
    assert not attack.marker.exists(), "the repository's command ran"
    assert not CALLS.exists(), CALLS.read_text(encoding="utf-8")
    assert warnings_of(client, uri) == []


async def test_trusted_server_does_run_git_through_the_recording_wrapper(
    client: LanguageClient, tmp_path: Path
) -> None:
    """The wrapper does see the trusted server's git: so its silence in the untrusted
    workspace means something."""
    top, _ = tracked_repo(tmp_path)
    CALLS.unlink(missing_ok=True)
    uri = (top / NAME).as_uri()
    open_doc(client, uri, TEXT)
    if client.trusted_workspace:  # type: ignore[attr-defined]
        assert await wait_for_warning(client, uri, EXPECTED["tracked"])
        assert CALLS.exists() and "ls-files" in CALLS.read_text(encoding="utf-8")
    else:
        await settle(client, uri)
        assert not CALLS.exists() and warnings_of(client, uri) == []


def test_linked_worktree_is_still_checked(tmp_path: Path) -> None:
    """A `.git` file that a real `git worktree add` wrote points into the main
    repository's `.git/worktrees/`: that one is followed."""
    top, _ = tracked_repo(tmp_path)
    git(top, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "init")
    git(top, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    assert git_state(tmp_path / "wt" / NAME) == TRACKED
    (tmp_path / "wt" / "new.snowauth.toml").write_text(TEXT, encoding="utf-8")
    assert git_state(tmp_path / "wt" / "new.snowauth.toml") == UNIGNORED
    (tmp_path / "wt" / ".gitignore").write_text("new.*\n", encoding="utf-8")
    assert git_state(tmp_path / "wt" / "new.snowauth.toml") == SAFE


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_a_repository_of_another_user_is_refused_unless_safe_directory(tmp_path: Path) -> None:
    """git refuses a repository owned by someone else (unless `safe.directory` in the
    user's own configuration lists it): so does snowauth."""
    top, config = tracked_repo(tmp_path)
    marker = tmp_path / "marker"
    set_config(config, ("core.fsmonitor", touch(marker)))
    for folder, _, files in os.walk(top):
        os.chown(folder, 4242, 4242)
        for f in files:
            os.chown(os.path.join(folder, f), 4242, 4242)
    user_config = tmp_path / "user.gitconfig"
    user_config.write_text("", encoding="utf-8")
    run = [sys.executable, "-m", "snowauth", "check", str(top / NAME)]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(user_config)}
    out = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "belongs to another user" in out.stdout and "safe.directory" in out.stdout, out.stdout
    user_config.write_text(f"[safe]\n\tdirectory = {top}\n", encoding="utf-8")
    out = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert EXPECTED["tracked"] in out.stdout, out.stdout
    assert not marker.exists()


def test_file_names_are_not_pathspec_patterns(tmp_path: Path) -> None:
    """A file named `*.snowauth.toml` or `:(glob)*` is that file for git, not a pattern
    matching the tracked ones."""
    top, _ = tracked_repo(tmp_path)
    for name in ("*.snowauth.toml", ":(glob)*.snowauth.toml", "[c].snowauth.toml"):
        (top / name).write_text(TEXT, encoding="utf-8")
        assert git_state(top / name) == UNIGNORED, name
    (top / ".gitignore").write_text("/:(glob)*.snowauth.toml\n", encoding="utf-8")
    assert git_state(top / ":(glob)*.snowauth.toml") == SAFE
    assert git_state(top / NAME) == TRACKED
