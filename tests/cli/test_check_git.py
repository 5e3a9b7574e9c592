"""A file holding tokens that git tracks (or does not ignore) gets a warning."""

from __future__ import annotations

from pathlib import Path

from snowauth.analysis import analyze
from snowauth.gitstate import SAFE, TRACKED, UNIGNORED, git_state, token_findings
from tests.kit.cli import run_snowauth
from tests.kit.git import git

TEXT = """[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${file:secret.txt}"

[connections.dev.token]
access_token = "abc"
"""


def test_tracked_unignored_and_ignored(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "a.snowauth.toml"
    path.write_text(TEXT, encoding="utf-8")
    (repo / "secret.txt").write_text("x\n", encoding="utf-8")
    assert git_state(path) == SAFE  # not a repository yet
    git(repo, "init", "-q")
    assert git_state(path) == UNIGNORED
    git(repo, "add", "a.snowauth.toml")
    assert git_state(path) == TRACKED
    found = token_findings(analyze(TEXT), TRACKED)
    assert [f.code for f in found] == ["tokens-in-git"] and "tracked by git" in found[0].message
    out = run_snowauth("check", str(path))
    assert f"{path}:8:1: warning: This file is tracked by git" in out.stdout and out.returncode == 0
    git(repo, "rm", "-q", "--cached", "a.snowauth.toml")
    (repo / ".gitignore").write_text("*.snowauth.toml\n", encoding="utf-8")
    assert git_state(path) == SAFE
    assert token_findings(analyze(TEXT), SAFE) == []
