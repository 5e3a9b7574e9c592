"""The hooks of .pre-commit-hooks.yaml run by the real pre-commit on a throwaway project
whose `.pre-commit-config.yaml` takes them from this repository: pre-commit clones it and
installs snowauth into its own environment (once for the module), then `git commit` runs
the hook as for a person."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.precommit import commit, head, pre_commit, project, snapshot

# the first test builds the hook's environment (about a minute here, from PyPI)
pytestmark = pytest.mark.timeout(600)

GOOD = """[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${prompt}"
"""

BAD = """[connections.dev]
instance = "http://example.com"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${prompt}"
"""

ACCESS = "tok3n-do-not-print"
WITH_TOKEN = f"""{GOOD}token_store = "file"

[connections.dev.token]
access_token = "{ACCESS}"
"""


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """This working tree as a hook source at a commit, and a PRE_COMMIT_HOME where the
    hook's environment is built once for the module (the time it takes is printed)."""
    base = tmp_path_factory.mktemp("pre-commit")
    source, rev = snapshot(base / "source")
    home = base / "home"
    warm = project(base / "warm", source, rev, ["snowauth-check"], home)
    started = time.monotonic()
    done = pre_commit("install-hooks", cwd=warm, home=home)
    print(f"\npre-commit install-hooks (clone, venv, pip install snowauth): {time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    yield source, rev, home


def test_a_bad_file_blocks_the_commit_and_shows_the_findings(hooks: tuple[Path, str, Path], tmp_path: Path) -> None:
    source, rev, home = hooks
    repo = project(tmp_path / "p", source, rev, ["snowauth-check"], home)
    (repo / "dev.snowauth.toml").write_text(BAD, encoding="utf-8")
    done = commit(repo, home, "dev.snowauth.toml")
    assert done.returncode != 0
    assert head(repo) is None  # nothing was committed
    out = done.stdout + done.stderr
    assert "snowauth check" in out and "Failed" in out
    assert "dev.snowauth.toml:2:12: error: http:// sends credentials in clear text" in out
    assert "[insecure-instance]" in out


def test_a_good_file_passes(hooks: tuple[Path, str, Path], tmp_path: Path) -> None:
    source, rev, home = hooks
    repo = project(tmp_path / "p", source, rev, ["snowauth-check"], home)
    (repo / "dev.snowauth.toml").write_text(GOOD, encoding="utf-8")
    done = commit(repo, home, "dev.snowauth.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "snowauth check" in out and "Passed" in out
    assert head(repo) is not None


def test_a_token_git_would_publish_blocks_the_commit(hooks: tuple[Path, str, Path], tmp_path: Path) -> None:
    source, rev, home = hooks
    repo = project(tmp_path / "p", source, rev, ["snowauth-check"], home)
    (repo / "dev.snowauth.toml").write_text(WITH_TOKEN, encoding="utf-8")
    done = commit(repo, home, "dev.snowauth.toml")
    out = done.stdout + done.stderr
    assert done.returncode != 0 and head(repo) is None
    assert "dev.snowauth.toml:9:1: warning: This file is tracked by git and holds the token of dev" in out
    assert "[tokens-in-git]" in out
    assert ACCESS not in out


UNFORMATTED = """[connections.dev]
grant_type   =  "client_credentials"
instance = "dev12345"

client_secret = "${prompt}"
client_id = "0123456789abcdef0123456789abcdef"
"""


def test_the_fmt_hook_rewrites_the_file_and_blocks_the_commit_once(
    hooks: tuple[Path, str, Path], tmp_path: Path
) -> None:
    source, rev, home = hooks
    repo = project(tmp_path / "p", source, rev, ["snowauth-fmt", "snowauth-check"], home)
    path = repo / "dev.snowauth.toml"
    path.write_text(UNFORMATTED, encoding="utf-8")
    done = commit(repo, home, "dev.snowauth.toml")
    out = done.stdout + done.stderr
    assert done.returncode != 0 and head(repo) is None  # a fixer changed the file: commit again
    assert "snowauth fmt" in out and "files were modified by this hook" in out
    assert path.read_text(encoding="utf-8") == GOOD
    done = commit(repo, home, "dev.snowauth.toml")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert out.count("Passed") == 2 and head(repo) is not None
    assert path.read_text(encoding="utf-8") == GOOD
