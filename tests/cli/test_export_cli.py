"""`snowauth export` and `snowauth token` rewrite the files a connection exports its token
to, as subprocesses against the emulator over loopback HTTP; `snowauth check` warns about
an export target git would publish (real git)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth
from tests.kit.git import git, make_repo
from tests.kit.workflow import ENV, conn_file

EXPORTS = """
[connections.dev.export]
dotenv = ".env"
http_client = "rest/http-client.private.env.json"
postman = "dev.postman_environment.json"
"""


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return run_snowauth(*args, env={**os.environ, **ENV, "SNOWAUTH_CACHE_DIR": str(cache)})


def exported(folder: Path) -> dict[str, str]:
    """The access token in each format, and that each names the instance."""
    dotenv = dict(line.split("=", 1) for line in (folder / ".env").read_text().splitlines() if "=" in line)
    http = json.loads((folder / "rest" / "http-client.private.env.json").read_text())["dev"]
    postman = {
        v["key"]: v["value"] for v in json.loads((folder / "dev.postman_environment.json").read_text())["values"]
    }
    assert dotenv["SNOWAUTH_DEV_INSTANCE_URL"] == http["instance_url"] == postman["instance_url"]
    return {
        "dotenv": dotenv["SNOWAUTH_DEV_ACCESS_TOKEN"],
        "http_client": http["access_token"],
        "postman": postman["access_token"],
    }


def test_export_and_token_rewrite_every_target(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url, store="cache")
    path.write_text(path.read_text() + EXPORTS)
    (tmp_path / "rest").mkdir()
    (tmp_path / ".env").write_text("# mine\nKEEP=1\n")
    out = run("export", str(path), cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.splitlines()) == sorted(
        [".env", "rest/http-client.private.env.json", "dev.postman_environment.json"]
    )
    tokens = exported(tmp_path)
    first = tokens["dotenv"]
    assert set(tokens.values()) == {first} and first not in out.stdout + out.stderr
    assert (tmp_path / ".env").read_text().startswith("# mine\nKEEP=1\n")
    # a target deleted by hand comes back with the token reused (no new request)
    (tmp_path / "dev.postman_environment.json").unlink()
    before = emulator.token_requests
    again = run("export", str(path), cache=tmp_path / "cache")
    assert again.returncode == 0 and again.stdout.splitlines() == ["dev.postman_environment.json"]
    assert emulator.token_requests == before and set(exported(tmp_path).values()) == {first}
    # `snowauth token` with the cached token expired: the refreshed token reaches every file
    # (ServiceNow may give the same access token back: the files are reset to tell)
    (tmp_path / ".env").write_text("# mine\nKEEP=1\n")
    (tmp_path / "dev.postman_environment.json").unlink()
    (tmp_path / "rest" / "http-client.private.env.json").write_text('{"prod": {"a": 1}}')
    for cached in (tmp_path / "cache").glob("*.json"):
        data = json.loads(cached.read_text())
        data["expires_at"] = "2020-01-01T00:00:00Z"
        cached.write_text(json.dumps(data))
    printed = run("token", str(path), cache=tmp_path / "cache")
    assert printed.returncode == 0, printed.stderr
    fresh = json.loads(printed.stdout)["access_token"]
    assert set(exported(tmp_path).values()) == {fresh}
    assert json.loads((tmp_path / "rest" / "http-client.private.env.json").read_text())["prod"] == {"a": 1}


def test_export_failures(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url, store="cache")
    plain = path.read_text()
    nothing = run("export", str(path), cache=tmp_path / "cache")
    assert nothing.returncode == 2 and "exports its token nowhere" in nothing.stderr
    assert emulator.token_requests == 0
    path.write_text(plain + '\n[connections.dev.export]\nhttp_client = "env.json"\ndotenv = "../outside.env"\n')
    (tmp_path / "env.json").write_text("{ not json")
    out = run("export", str(path), cache=tmp_path / "cache")
    assert out.returncode == 1 and out.stdout == ""
    assert "warning: env.json (export.http_client of dev) was not changed: it is not valid JSON" in out.stderr
    assert "outside the folders snowauth may write" in out.stderr
    assert (tmp_path / "env.json").read_text() == "{ not json" and not (tmp_path.parent / "outside.env").exists()
    # the token was stored all the same: `snowauth token` reuses it
    before = emulator.token_requests
    printed = run("token", str(path), cache=tmp_path / "cache")
    assert printed.returncode == 0 and emulator.token_requests == before
    assert json.loads(printed.stdout)["access_token"] not in out.stderr
    wrong = conn_file(tmp_path, emulator.url, store="cache", password="wrong-password-123")
    wrong.write_text(wrong.read_text() + '\n[connections.dev.export]\ndotenv = "w.env"\n')
    refused = run("export", str(wrong), cache=tmp_path / "other-cache")
    assert refused.returncode == 1 and "rejected the password grant" in refused.stderr
    assert not (tmp_path / "w.env").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_check_warns_about_an_export_git_would_publish(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    path = repo / "a.snowauth.toml"
    text = (
        '[connections.dev]\ninstance = "dev1"\n\n[connections.dev.export]\ndotenv = "out/.env"\npostman = "pm.json"\n'
    )
    path.write_text(text)
    (repo / "out").mkdir()
    (repo / ".gitignore").write_text("pm.json\n")
    out = run_snowauth("check", str(path))
    lines = [line for line in out.stdout.splitlines() if "[export-in-git]" in line]
    assert lines == [
        f"{path}:5:10: warning: export.dotenv of dev writes the token to out/.env, which git does not "
        "ignore: add it to .gitignore [export-in-git]"
    ]
    (repo / "out" / ".env").write_text("X=1\n")
    git(repo, "add", "out/.env")
    tracked = run_snowauth("check", str(path))
    assert "which git tracks: a commit would publish it" in tracked.stdout
    git(repo, "rm", "-q", "--cached", "out/.env")
    (repo / ".gitignore").write_text("pm.json\n/out/.env\n")
    assert "[export-in-git]" not in run_snowauth("check", str(path)).stdout
