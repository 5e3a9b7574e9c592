"""Finding a workspace's connection files (bounded, links out of it refused), the cache of
their analyses, the cross-file findings and the workspace symbol filter. Real folders,
files and symbolic links in tmp_path."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from snowauth import workspace
from snowauth.analysis import analyze
from snowauth.workspace import Index, cross_file, facts, matches, walk

CONNECTION = """[connections.{name}]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_SECRET}}"
"""


def write(path: Path, text: str = CONNECTION.format(name="dev")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_walk_skips_heavy_and_hidden_folders(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    kept = [write(root / "a.snowauth.toml"), write(root / "sub" / "deep" / "b.snowauth.toml")]
    for skipped in (".git", "node_modules", ".venv", "venv", "__pycache__", ".hidden"):
        write(root / skipped / "x.snowauth.toml")
    write(root / "sub" / "other.toml")
    assert walk([root]).files == kept
    assert walk([root]).stopped is None


def test_walk_does_not_follow_a_linked_folder_or_a_linked_file_out_of_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    secret = write(outside / "victim.snowauth.toml", CONNECTION.format(name="victim"))
    write(root / "a.snowauth.toml")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "evil.snowauth.toml").symlink_to(secret)
    inside = write(root / "real" / "in.snowauth.toml")
    (root / "alias.snowauth.toml").symlink_to(inside)  # a link inside the workspace is fine
    found = walk([root]).files
    assert found == [root / "a.snowauth.toml", root / "alias.snowauth.toml", inside]
    assert all(p.resolve().is_relative_to(root.resolve()) for p in found)


def test_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    for i in range(5):
        write(root / f"f{i}.snowauth.toml")
    monkeypatch.setattr(workspace, "MAX_FILES", 3)
    w = walk([root])
    assert (len(w.files), w.stopped) == (3, "more than 3 connection files")
    monkeypatch.setattr(workspace, "MAX_FILES", 100)
    monkeypatch.setattr(workspace, "MAX_ENTRIES", 4)
    assert walk([root]).stopped == "more than 4 files and folders"
    monkeypatch.setattr(workspace, "MAX_ENTRIES", 100)
    deep = root / "1" / "2" / "3"
    write(deep / "deep.snowauth.toml")
    monkeypatch.setattr(workspace, "MAX_DEPTH", 2)
    assert deep / "deep.snowauth.toml" not in walk([root]).files
    monkeypatch.setattr(workspace, "MAX_DEPTH", 3)
    assert deep / "deep.snowauth.toml" in walk([root]).files


def test_walk_reads_a_huge_folder_no_further_than_its_entry_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder with more entries than the cap is not listed in full (a repository can
    hold a folder of millions of files): the walk stops reading at the cap."""
    root = tmp_path / "ws"
    root.mkdir()
    for i in range(300):
        (root / f"junk{i:03}.txt").touch()
    read: list[str] = []
    real_scandir = os.scandir

    class Counting:
        def __init__(self, path: Path) -> None:
            self.inner = real_scandir(path)

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.inner.close()

        def __iter__(self) -> Counting:
            return self

        def __next__(self) -> os.DirEntry[str]:
            entry = next(self.inner)
            read.append(entry.name)
            return entry

    monkeypatch.setattr(workspace.os, "scandir", Counting)
    monkeypatch.setattr(workspace, "MAX_ENTRIES", 10)
    assert walk([root]).stopped == "more than 10 files and folders"
    assert len(read) == 11


def test_index_caches_by_mtime_and_size_and_forgets_on_dotenv(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    path = write(root / "a.snowauth.toml")
    index = Index({})
    index.set_roots([root])
    assert index.files() == [path]
    first = index.entry(path)
    assert first is not None and index.entry(path) is first  # unchanged: the same analysis
    codes = [f.code for f in first.analysis.findings]
    assert "unresolved-reference" in codes
    write(root / ".env", "SNOW_SECRET=from-dotenv\n")
    assert index.entry(path) is first  # the .env is not the file: only an event tells
    index.forget_below(root / ".env")
    again = index.entry(path)
    assert again is not None and again.stamp != first.stamp
    assert "unresolved-reference" not in [f.code for f in again.analysis.findings]
    stat = path.stat()
    write(path, CONNECTION.format(name="prod"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed = index.entry(path)
    assert changed is not None and list(changed.facts.names) == ["prod"]
    # a file made after the walk is found once a walk is asked for
    b = write(root / "b.snowauth.toml")
    assert index.files() == [path]
    index.rewalk()
    assert index.files() == [path, b]
    assert index.label(b) == "b.snowauth.toml"
    path.unlink()
    assert index.entry(path) is None


def test_index_refuses_a_fifo(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    os.mkfifo(root / "pipe.snowauth.toml")
    index = Index({})
    index.set_roots([root])
    start = time.monotonic()
    assert index.files() == []  # not a regular file: never opened
    assert index.entry(root / "pipe.snowauth.toml") is None
    assert time.monotonic() - start < 5


def test_cross_file_findings_point_to_the_other_files(tmp_path: Path) -> None:
    a_text = 'default = "dev"\n' + CONNECTION.format(name="dev")
    b_text = "# café ✓ 😀\n" + CONNECTION.format(name="dev") + CONNECTION.format(name="qa")
    c_text = 'default = "qa"\n' + CONNECTION.format(name="qa")
    a, b, c = tmp_path / "a.snowauth.toml", tmp_path / "b.snowauth.toml", tmp_path / "c.snowauth.toml"
    found = cross_file(
        [facts(a, analyze(a_text)), facts(b, analyze(b_text)), facts(c, analyze(c_text))],
        lambda p: p.name,
    )
    header_b = b_text.index("[connections.dev]")
    header_a = a_text.index("[connections.dev]")
    [default_a, dup_a] = found[a]
    assert (dup_a.finding.code, dup_a.finding.severity, dup_a.finding.start) == (
        "duplicate-connection-across-files",
        2,
        header_a,
    )
    assert dup_a.elsewhere == [(b, header_b, header_b + 17, "`dev` is also defined here")]
    assert "`b.snowauth.toml` (line 2)" in dup_a.finding.message
    assert (default_a.finding.code, default_a.finding.severity) == ("default-across-files", 4)
    assert (default_a.finding.start, default_a.finding.end) == (0, 15)
    assert default_a.elsewhere == [(c, 0, 14, "another `default`")]
    assert [x.finding.code for x in found[b]] == ["duplicate-connection-across-files"] * 2
    assert [x.finding.connection for x in found[b]] == ["dev", "qa"]
    assert [x.finding.code for x in found[c]] == ["default-across-files", "duplicate-connection-across-files"]
    assert cross_file([facts(a, analyze(a_text))], lambda p: p.name) == {}


def test_symbol_query_is_a_case_insensitive_subsequence() -> None:
    assert matches("", "anything")
    assert matches("dv", "Dev")
    assert matches("PRD", "prod-eu")
    assert not matches("ved", "dev")
    assert not matches("devx", "dev")


def test_index_forgets_a_file_whose_token_expired_since_its_analysis(tmp_path: Path) -> None:
    path = tmp_path / "a.snowauth.toml"
    path.write_text(
        '[connections.dev]\ninstance = "dev12345"\n'
        'token = { access_token = "AT", expires_at = 2030-01-01T00:00:00Z, '
        "refresh_expires_at = 2031-01-01T00:00:00Z }\n",
        encoding="utf-8",
    )
    index = Index({})
    analysed = datetime(2029, 1, 1, tzinfo=UTC)
    first = index.entry(path, analysed)
    assert first is not None
    access, refresh = datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)
    assert first.expiries == (access, refresh)
    assert index.next_expiry(analysed) == access and index.next_expiry(access) == refresh
    assert index.next_expiry(refresh) is None
    assert index.expired(access - timedelta(seconds=1)) == [] and index.cached(path) is first
    assert index.expired(access) == [path] and index.cached(path) is None
    again = index.entry(path, access)
    assert again is not None and again.stamp > first.stamp
    assert "token-expired" in [f.code for f in again.analysis.findings]
    assert index.expired(access) == []  # analysed after that expiry: nothing turns over again
