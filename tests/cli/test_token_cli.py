"""`snowauth token` as a subprocess against the emulator over loopback HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.cli import run_snowauth
from tests.kit.emulator import DEMO_ID, emulator_config
from tests.kit.workflow import ENV, conn_file


def token(path: Path, *args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return run_snowauth("token", str(path), *args, env={**os.environ, **ENV, "SNOWAUTH_CACHE_DIR": str(cache)})


def test_formats_and_reuse_from_the_cache(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url, store="cache")
    before = path.read_text(encoding="utf-8")
    out = token(path, "--format", "json", cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["connection"] == "dev" and data["token_type"] == "Bearer" and data["expires_at"].endswith("Z")
    access = data["access_token"]
    header = token(path, "--format", "header", cache=tmp_path / "cache")
    assert header.stdout.strip() == f"Authorization: Bearer {access}"
    env_line = token(path, "--format", "env", cache=tmp_path / "cache")
    assert env_line.stdout.strip() == f"SNOW_ACCESS_TOKEN={access}"
    assert emulator.token_requests == 1  # a token with more than 60 s left is reused
    assert path.read_text(encoding="utf-8") == before  # token_store = "cache" never writes the file
    files = list((tmp_path / "cache").glob("*.json"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600


def test_write_stores_the_table_and_an_expired_token_is_refreshed(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url)
    first = token(path, "--write", cache=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# kept as it is\n") and "[connections.dev.token]" in text
    stored = analyze(text).connections["dev"].token
    assert stored["access_token"].value.data == json.loads(first.stdout)["access_token"]
    # make the stored token expired: the next call refreshes it (no new password grant)
    expired = text.replace(
        text[stored["expires_at"].value.start : stored["expires_at"].value.end], "2020-01-01T00:00:00Z"
    )
    path.write_text(expired, encoding="utf-8")
    requests_before = emulator.token_requests
    second = token(path, "--write", cache=tmp_path / "cache")
    assert second.returncode == 0, second.stderr
    assert emulator.token_requests == requests_before + 1
    assert "2020-01-01" not in path.read_text(encoding="utf-8")


def test_failures_exit_1_with_the_mapped_message(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url, password="wrong-password-123")
    out = token(path, cache=tmp_path / "cache")
    assert out.returncode == 1 and out.stdout == ""
    assert "rejected the password grant" in out.stderr
    assert "wrong-password-123" not in out.stderr and "demo-client-secret" not in out.stderr
    prompt = conn_file(tmp_path, emulator.url, password="${prompt}")
    asked = token(prompt, cache=tmp_path / "cache")
    assert asked.returncode == 1 and "no terminal to ask on" in asked.stderr
    missing = token(tmp_path / "nope.snowauth.toml", cache=tmp_path / "cache")
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_jwt_bearer_with_a_shared_key_from_the_environment(tmp_path: Path) -> None:
    """HS256 signed with `jwt_shared_secret = "${env:…}"`, by a public JWT client (no
    client_secret); a key too short for HS256 is refused before anything is sent."""
    shared = "cli-shared-key-marker-0123456789abcdef"
    config = emulator_config(demo={"jwt_shared_key": shared, "public": True, "client_secret": None})
    path = tmp_path / "jwt.snowauth.toml"
    with Emulator(config) as emu, local_emulator(emu.url):
        path.write_text(
            f"""[connections.jwt]
instance = "{emu.url}"
grant_type = "jwt_bearer"
client_id = "{DEMO_ID}"
jwt_algorithm = "HS256"
jwt_shared_secret = "${{env:SNOW_JWT_KEY}}"
jwt_subject = "integration.user"
token_store = "cache"
""",
            encoding="utf-8",
        )
        env = {**os.environ, "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache")}
        out = run_snowauth("token", str(path), "--format", "json", env={**env, "SNOW_JWT_KEY": shared})
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["connection"] == "jwt"
        assert shared not in out.stderr
        assert emu.token_requests == 1
        short = "short-shared-key-marker"
        fresh_cache = {**env, "SNOW_JWT_KEY": short, "SNOWAUTH_CACHE_DIR": str(tmp_path / "c2")}
        refused = run_snowauth("token", str(path), env=fresh_cache)
        assert refused.returncode == 1 and refused.stdout == ""
        assert "jwt_shared_secret" in refused.stderr and "at least 32" in refused.stderr
        assert short not in refused.stderr
        assert emu.token_requests == 1
