"""`snowauth check` given several files or a folder reports what needs more than one file:
a connection name defined in two files, a `default` in more than one (docs/decisions.md,
"Workspace-wide diagnostics"). The real CLI as a subprocess, real files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kit.cli import run_snowauth

CONNECTION = """[connections.{name}]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_SECRET}}"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rows(*args: str, cwd: Path) -> list[dict[str, object]]:
    r = run_snowauth("check", "--format", "json", *args, cwd=cwd, env={"SNOW_SECRET": "s", "PATH": "/usr/bin"})
    assert r.returncode == 0, r.stderr
    found: list[dict[str, object]] = json.loads(r.stdout)
    return found


def test_a_name_in_two_files_and_defaults_in_two_files(tmp_path: Path) -> None:
    write(tmp_path / "proj" / "a.snowauth.toml", 'default = "dev"\n' + CONNECTION.format(name="dev"))
    write(tmp_path / "proj" / "b" / "b.snowauth.toml", "# café ✓\n" + CONNECTION.format(name="dev"))
    write(tmp_path / "proj" / "c.snowauth.toml", 'default = "qa"\n' + CONNECTION.format(name="qa"))
    found = rows("proj", cwd=tmp_path)
    assert [(r["path"], r["line"], r["column"], r["end_column"], r["severity"], r["code"]) for r in found] == [
        ("proj/a.snowauth.toml", 1, 1, 16, "hint", "default-across-files"),
        ("proj/a.snowauth.toml", 2, 1, 18, "warning", "duplicate-connection-across-files"),
        ("proj/c.snowauth.toml", 1, 1, 15, "hint", "default-across-files"),
        ("proj/b/b.snowauth.toml", 2, 1, 18, "warning", "duplicate-connection-across-files"),
    ]
    assert "`proj/b/b.snowauth.toml` (line 2)" in str(found[1]["message"])
    assert "`proj/a.snowauth.toml` (line 2)" in str(found[3]["message"])
    assert "`proj/c.snowauth.toml` (line 1)" in str(found[0]["message"])


def test_one_file_or_distinct_names_report_nothing_across_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.snowauth.toml", 'default = "dev"\n' + CONNECTION.format(name="dev"))
    write(tmp_path / "b.snowauth.toml", CONNECTION.format(name="prod"))
    assert rows("a.snowauth.toml", cwd=tmp_path) == []
    assert rows(".", cwd=tmp_path) == []
    # the same file named twice is one file
    assert rows(str(a), "a.snowauth.toml", cwd=tmp_path) == []
