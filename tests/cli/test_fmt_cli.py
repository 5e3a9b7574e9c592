"""`snowauth fmt` run as a subprocess: files formatted in place (atomic, permissions
kept), `--check` exit codes, folders walked without following links, links out of the
folder and files with syntax errors left alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from snowauth.formatting import format_text
from tests.kit.cli import run_snowauth

MESSY = (
    "# café ✓ 😀\r\n\r\n\r\n"
    "[connections.a.token]\r\n"
    'access_token = "x"\r\n'
    "[connections.a]\r\n"
    'scope="s"   # kept\r\n'
    '  instance = "dev1"\r\n'
)
FORMATTED = (
    "# café ✓ 😀\r\n\r\n"
    "[connections.a]\r\n"
    'instance = "dev1"\r\n'
    'scope = "s" # kept\r\n'
    "\r\n"
    "[connections.a.token]\r\n"
    'access_token = "x"\r\n'
)
BROKEN = '[connections.a]\ninstance = "unterminated\n'


def write(path: Path, text: str, mode: int = 0o640) -> Path:
    path.write_bytes(text.encode("utf-8"))
    path.chmod(mode)
    return path


def test_formats_in_place_keeping_bytes_newlines_and_permissions(tmp_path: Path) -> None:
    f = write(tmp_path / "a.snowauth.toml", MESSY)
    ino = f.stat().st_ino
    r = run_snowauth("fmt", str(f))
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{f}\n", "")
    assert f.read_bytes() == FORMATTED.encode("utf-8")
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert f.stat().st_ino != ino  # replaced by a rename, never rewritten in place
    assert not [p for p in tmp_path.iterdir() if p.name != f.name]  # no temporary file left
    again = run_snowauth("fmt", str(f))
    assert (again.returncode, again.stdout) == (0, "")


def test_check_exit_codes_and_writes_nothing(tmp_path: Path) -> None:
    messy = write(tmp_path / "messy.snowauth.toml", MESSY)
    clean = write(tmp_path / "clean.snowauth.toml", FORMATTED)
    r = run_snowauth("fmt", "--check", str(tmp_path))
    assert r.returncode == 1
    assert r.stdout == f"{messy}\n"
    assert "1 of 2 files would be reformatted" in r.stderr
    assert messy.read_bytes() == MESSY.encode("utf-8")
    ok = run_snowauth("fmt", "--check", str(clean))
    assert (ok.returncode, ok.stdout) == (0, "")


def test_align_values(tmp_path: Path) -> None:
    f = write(tmp_path / "a.snowauth.toml", '[connections.a]\ninstance = "x"\nclient_secret = "${env:S}"\n')
    assert run_snowauth("fmt", "--check", "--align-values", str(f)).returncode == 1
    assert run_snowauth("fmt", "--align-values", str(f)).returncode == 0
    assert f.read_text() == '[connections.a]\ninstance      = "x"\nclient_secret = "${env:S}"\n'


def test_a_syntax_error_is_reported_and_the_file_left_alone(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.snowauth.toml", BROKEN)
    messy = write(tmp_path / "messy.snowauth.toml", MESSY)
    r = run_snowauth("fmt", str(tmp_path))
    assert r.returncode == 2
    assert f"{bad} has a syntax error at 2:12:" in r.stderr
    assert "not formatted" in r.stderr
    assert bad.read_text() == BROKEN
    assert messy.read_bytes() == FORMATTED.encode("utf-8")  # the others are formatted all the same
    check = run_snowauth("fmt", "--check", str(bad))
    assert check.returncode == 2


def test_no_file_found_and_a_missing_file(tmp_path: Path) -> None:
    r = run_snowauth("fmt", "--check", str(tmp_path))
    assert r.returncode == 2
    assert "no *.snowauth.toml file" in r.stderr
    missing = run_snowauth("fmt", str(tmp_path / "gone.snowauth.toml"))
    assert missing.returncode == 2
    assert "cannot be read" in missing.stderr


def test_links_out_of_the_folder_are_refused_and_linked_folders_not_walked(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = write(outside / "victim.snowauth.toml", MESSY)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.snowauth.toml").symlink_to(victim)
    (repo / "linked-folder").symlink_to(outside, target_is_directory=True)
    r = run_snowauth("fmt", str(repo))
    assert r.returncode == 2
    assert "symbolic link out of" in r.stderr
    assert "victim" not in r.stdout
    assert victim.read_bytes() == MESSY.encode("utf-8")
    assert (repo / "link.snowauth.toml").is_symlink()


def test_a_link_inside_the_folder_formats_its_target_and_stays_a_link(tmp_path: Path) -> None:
    real = write(tmp_path / "real.toml", MESSY)
    link = tmp_path / "link.snowauth.toml"
    link.symlink_to(real.name)
    r = run_snowauth("fmt", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink()
    assert real.read_bytes() == FORMATTED.encode("utf-8")


def test_a_file_with_other_hard_links_is_left_alone(tmp_path: Path) -> None:
    f = write(tmp_path / "a.snowauth.toml", MESSY)
    os.link(f, tmp_path / "other-name")
    r = run_snowauth("fmt", str(f))
    assert r.returncode == 2
    assert "hard links" in r.stderr
    assert f.read_bytes() == MESSY.encode("utf-8")


def test_the_cli_gives_the_bytes_of_the_core(tmp_path: Path) -> None:
    text = MESSY.replace("\r\n", "\n") + '\n\n[connections.b]\n   grant_type="password"\ninstance="i"\n'
    f = write(tmp_path / "b.snowauth.toml", text)
    assert run_snowauth("fmt", str(f)).returncode == 0
    assert f.read_text(encoding="utf-8") == format_text(text)
