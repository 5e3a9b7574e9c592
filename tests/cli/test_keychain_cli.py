"""The OS keychain from the command line (a real keyring backend on a file, chosen through
keyring's PYTHON_KEYRING_BACKEND): `token_store = "keyring"` (fetch, reuse, refresh, the
connection file and the cache untouched), `remember_prompts = "keyring"`, and a machine
without a keychain backend; MFA for integrations (`otp = "${prompt}"`) on a terminal."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from snowauth.emulator import Emulator
from snowauth.store import cache_key
from snowauth.trust import local_emulator
from tests.kit.cli import Pty, run_snowauth
from tests.kit.emulator import DEMO_SECRET, USER, USER_PASSWORD, emulator_config, emulators, password_connection
from tests.kit.keychain import entries, keyring_env

ENV = {"SNOW_K_SECRET": DEMO_SECRET, "SNOW_K_PASSWORD": USER_PASSWORD}


def connection(tmp_path: Path, url: str, *, password: str = "${env:SNOW_K_PASSWORD}", extra: str = "") -> Path:
    path = tmp_path / "keychain.snowauth.toml"
    text = password_connection(url, secret="${env:SNOW_K_SECRET}", password=password, extra=extra)
    path.write_text(text, encoding="utf-8")
    return path


def token(path: Path, keychain: Path | None, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, **keyring_env(keychain), "SNOWAUTH_CACHE_DIR": str(cache)}
    return run_snowauth("token", str(path), env=env)


def test_token_store_keyring_fetches_reuses_and_refreshes_in_the_keychain(tmp_path: Path, emulator: Emulator) -> None:
    path = connection(tmp_path, emulator.url, extra='token_store = "keyring"\n')
    before = path.read_text(encoding="utf-8")
    keychain, cache = tmp_path / "keychain.json", tmp_path / "cache"
    first = token(path, keychain, cache)
    assert first.returncode == 0, first.stderr
    access = json.loads(first.stdout)["access_token"]
    stored = entries(keychain)
    assert list(stored) == [f"token:{cache_key(emulator.url, '0123456789abcdef0123456789abcdef', USER)}"]
    entry = json.loads(next(iter(stored.values())))
    assert entry["access_token"] == access and entry["refresh_token"]
    assert path.read_text(encoding="utf-8") == before  # the file never holds the token
    assert not cache.exists() or not list(cache.iterdir())  # nor the cache
    assert access not in first.stderr
    again = token(path, keychain, cache)
    assert json.loads(again.stdout)["access_token"] == access
    assert emulator.token_requests == 1  # reused from the keychain
    # an expired token in the keychain is refreshed with its refresh token
    entry["expires_at"] = "2020-01-01T00:00:00+00:00"
    keychain.write_text(json.dumps({"snowauth": {next(iter(stored)): json.dumps(entry)}}), encoding="utf-8")
    refreshed = token(path, keychain, cache)
    assert refreshed.returncode == 0, refreshed.stderr
    assert emulator.token_requests == 2
    assert ("POST", "/oauth_token.do") in emulator.requests
    assert "2020-01-01" not in next(iter(entries(keychain).values()))


def test_without_a_keychain_backend_the_message_says_so_and_suggests_the_cache(
    tmp_path: Path, emulator: Emulator
) -> None:
    path = connection(tmp_path, emulator.url, extra='token_store = "keyring"\n')
    out = token(path, None, tmp_path / "cache")
    assert out.returncode == 1 and out.stdout == ""
    assert "system keychain is not available" in out.stderr
    assert "no keyring backend" in out.stderr and 'token_store = "cache"' in out.stderr
    assert "Traceback" not in out.stderr
    assert emulator.token_requests == 0  # nothing was sent: the store is read first


def test_remember_prompts_keeps_the_typed_password_in_the_keychain(tmp_path: Path, emulator: Emulator) -> None:
    path = connection(tmp_path, emulator.url, password="${prompt}", extra='remember_prompts = "keyring"\n')
    keychain = tmp_path / "keychain.json"
    term = Pty(["token", str(path), "--format", "header"], tmp_path / "cache", {**ENV, **keyring_env(keychain)})
    term.wait_for(b"password for connection dev: ")
    term.type(USER_PASSWORD.encode() + b"\r")
    assert term.exit_code(60) == 0, term.text()
    answer = f"prompt:{cache_key(emulator.url, 'connection:dev', USER)}:password"
    assert entries(keychain) == {answer: USER_PASSWORD}
    assert USER_PASSWORD not in term.text()
    # the file keeps its tokens (token_store = "file" without --write: not written) so the
    # next run runs the grant again: without a terminal, the password comes from the keychain
    out = token(path, keychain, tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    assert emulator.token_requests == 2
    assert USER_PASSWORD not in out.stderr + out.stdout


def test_a_remembered_password_the_instance_rejects_is_forgotten(tmp_path: Path, emulator: Emulator) -> None:
    path = connection(tmp_path, emulator.url, password="${prompt}", extra='remember_prompts = "keyring"\n')
    keychain = tmp_path / "keychain.json"
    answer = f"prompt:{cache_key(emulator.url, 'connection:dev', USER)}:password"
    keychain.write_text(json.dumps({"snowauth": {answer: "an-old-password"}}), encoding="utf-8")
    out = token(path, keychain, tmp_path / "cache")
    assert out.returncode == 1 and "rejected the password grant" in out.stderr
    assert "an-old-password" not in out.stderr
    assert entries(keychain) == {}  # asked again next time
    again = token(path, keychain, tmp_path / "cache")  # nothing remembered, no terminal
    assert again.returncode == 1 and "no terminal to ask on" in again.stderr


def test_mfa_for_integrations_appends_the_one_time_code_asked_each_time(tmp_path: Path) -> None:
    with emulators() as make:
        emu = make(emulator_config(mfa_code="493817"))
        with local_emulator(emu.url):
            plain = connection(tmp_path, emu.url)
            refused = token(plain, None, tmp_path / "cache")
            assert refused.returncode == 1
            assert "one-time code" in refused.stderr and 'otp = "${prompt}"' in refused.stderr
            assert any("no one-time code" in line for line in emu.system_log)
            path = connection(tmp_path, emu.url, extra='otp = "${prompt}"\nremember_prompts = "keyring"\n')
            keychain = tmp_path / "keychain.json"
            env = {**ENV, **keyring_env(keychain)}
            wrong = Pty(["token", str(path), "--format", "header"], tmp_path / "cache", env)
            wrong.wait_for(b"otp for connection dev: ")
            wrong.type(b"000000\r")
            assert wrong.exit_code(60) == 1
            assert "one-time code (otp) is part of the password" in wrong.text() and "000000" not in wrong.text()
            assert any("wrong one-time code" in line for line in emu.system_log)
            right = Pty(["token", str(path), "--format", "header"], tmp_path / "cache", env)
            right.wait_for(b"otp for connection dev: ")
            right.type(b"493817\r")
            assert right.exit_code(60) == 0, right.text()
            assert "Authorization: Bearer " in right.text() and "493817" not in right.text()
            assert entries(keychain) == {}  # a one-time code is never remembered


def test_check_warns_on_a_written_one_time_code_and_a_wrong_remember_prompts(tmp_path: Path) -> None:
    path = connection(
        tmp_path, "dev12345", extra='otp = "${env:SNOW_OTP}"\nremember_prompts = "always"\ntoken_store = "keyring"\n'
    )
    out = run_snowauth("check", str(path), "--format", "json", env={**os.environ, **ENV})
    assert out.returncode == 1
    found = {(p["code"], p["severity"]) for p in json.loads(out.stdout)}
    assert found == {("otp-not-prompt", "warning"), ("invalid-value", "error")}


def test_a_remembered_answer_is_never_sent_to_another_instance(tmp_path: Path, emulator: Emulator) -> None:
    """A repository's file with the same connection name and user but another instance
    finds nothing in the keychain: the password the person typed for one instance does not
    go to another."""
    keychain = tmp_path / "keychain.json"
    answer = f"prompt:{cache_key(emulator.url, 'connection:dev', USER)}:password"
    keychain.write_text(json.dumps({"snowauth": {answer: USER_PASSWORD}}), encoding="utf-8")
    with emulators() as make:
        other = make()
        with local_emulator(other.url):
            path = connection(tmp_path, other.url, password="${prompt}", extra='remember_prompts = "keyring"\n')
            out = token(path, keychain, tmp_path / "cache")
            assert out.returncode == 1 and "no terminal to ask on" in out.stderr
            assert other.token_requests == 0
    assert entries(keychain) == {answer: USER_PASSWORD}
    same = token(
        connection(tmp_path, emulator.url, password="${prompt}", extra='remember_prompts = "keyring"\n'),
        keychain,
        tmp_path / "cache",
    )
    assert same.returncode == 0, same.stderr  # where it was typed for, it is used
