"""The token cache: keys, round trips, permissions, atomic writes, corrupt files, and
two processes writing at once."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from snowauth.store import ENV_VAR, TokenCache, cache_key, default_cache_dir
from snowauth.tokens import TokenSet

BASE = "https://dev12345.service-now.com"
CLIENT = "0123456789abcdef0123456789abcdef"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _tokens(n: int = 0) -> TokenSet:
    return TokenSet(
        access_token=f"access-{n}-" + "a" * 80,
        token_type="Bearer",
        refresh_token=f"refresh-{n}-" + "r" * 80,
        scope="useraccount",
        expires_at=datetime(2030, 1, 1, 10, 29, 59, tzinfo=UTC) + timedelta(seconds=n),
        refresh_expires_at=datetime(2030, 4, 11, tzinfo=UTC),
    )


def test_cache_key() -> None:
    key = cache_key(BASE, CLIENT, "integration.user")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == TokenCache.cache_key(BASE + "/", CLIENT, "integration.user")
    assert key != cache_key(BASE, CLIENT, "admin")
    assert key != cache_key(BASE, CLIENT.replace("0", "1"), "integration.user")
    assert key != cache_key("https://dev54321.service-now.com", CLIENT, "integration.user")
    assert cache_key(BASE, CLIENT, None) == cache_key(BASE, CLIENT, "")
    # no ambiguity between fields
    assert cache_key(BASE, "ab", "c") != cache_key(BASE, "a", "bc")


def test_round_trip(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "cache")
    key = cache_key(BASE, CLIENT, "integration.user")
    assert cache.load(key) is None
    cache.save(key, _tokens())
    assert cache.load(key) == _tokens()
    minimal = TokenSet(access_token="only-this")
    cache.save(key, minimal)
    assert cache.load(key) == minimal


def test_file_content_is_json_with_iso_datetimes(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    cache.save(key, _tokens())
    path = tmp_path / f"{key}.json"
    data = json.loads(path.read_text())
    assert data["expires_at"] == "2030-01-01T10:29:59+00:00"
    assert data["refresh_expires_at"] == "2030-04-11T00:00:00+00:00"
    assert data["version"] == 1


def test_datetimes_come_back_in_utc(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    local = datetime(2030, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    cache.save(key, TokenSet(access_token="x", expires_at=local))
    loaded = cache.load(key)
    assert loaded is not None and loaded.expires_at == local
    assert loaded.expires_at.utcoffset() == timedelta(0)


@posix_only
def test_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "snowauth"
    cache = TokenCache(folder)
    key = cache_key(BASE, CLIENT, None)
    cache.save(key, _tokens())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / f"{key}.json").stat().st_mode) == 0o600


@posix_only
def test_an_open_folder_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "snowauth"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    TokenCache(folder).save(cache_key(BASE, CLIENT, None), _tokens())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_folder_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert TokenCache().directory == tmp_path / "from-env"
    assert TokenCache(tmp_path / "explicit").directory == tmp_path / "explicit"
    monkeypatch.delenv(ENV_VAR)
    assert "snowauth" in default_cache_dir().parts[-2:] or default_cache_dir().name == "snowauth"


def test_delete(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    cache.delete(key)  # nothing there: fine
    cache.save(key, _tokens())
    cache.delete(key)
    assert cache.load(key) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "", "a" * 63])
def test_keys_must_be_digests(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        TokenCache(tmp_path).load(key)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    for n in range(5):
        cache.save(key, _tokens(n))
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    cache.save(key, _tokens(1))

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        cache.save(key, _tokens(2))
    monkeypatch.undo()
    assert cache.load(key) == _tokens(1)
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b'{"access_token": "secret-looking-value-123"',  # torn
        b"[]",
        b'{"version": 1}',
        b'{"version": 99, "access_token": "x"}',
        b'{"version": 1, "access_token": 5}',
        b'{"version": 1, "access_token": "x", "expires_at": "yesterday"}',
        b'{"version": 1, "access_token": "x", "refresh_token": ["a"]}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_corrupt_file(tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, None)
    path = tmp_path / f"{key}.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="snowauth.store"):
        assert cache.load(key) is None
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    assert "secret-looking-value" not in caplog.text
    cache.save(key, _tokens())
    assert cache.load(key) == _tokens()


# --- two processes at once ---------------------------------------------------------------


def _writer(directory: str, key: str, first: int, count: int) -> None:
    cache = TokenCache(directory)
    for n in range(first, first + count):
        cache.save(key, _tokens(n))


def test_concurrent_writers_never_tear_a_file(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    key = cache_key(BASE, CLIENT, "integration.user")
    count = 150
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(str(tmp_path), key, first, count)) for first in (0, 10_000)]
    for process in writers:
        process.start()
    written = {_tokens(n) for first in (0, 10_000) for n in range(first, first + count)}
    seen = 0
    try:
        while any(process.is_alive() for process in writers):
            loaded = cache.load(key)
            if loaded is not None:
                assert loaded in written
                seen += 1
    finally:
        for process in writers:
            process.join(timeout=60)
    assert [process.exitcode for process in writers] == [0, 0]
    final = cache.load(key)
    assert final in {_tokens(count - 1), _tokens(10_000 + count - 1)}  # last writer wins
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]
    assert seen > 0 or sys.platform == "win32"
