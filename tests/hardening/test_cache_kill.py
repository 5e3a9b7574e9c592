"""No lost data in the token cache: a process killed (SIGKILL) while it saves, round
after round, leaves the cache file absent, old or new, never torn; stray temporary files
never make a load fail; a corrupt file is reported (without its content) and replaced
by the next save; files are 0600 in a 0700 folder."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from snowauth.store import TokenCache, cache_key, encode
from snowauth.tokens import TokenSet
from tests.kit.corpus import LONG, STATS

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and POSIX permissions")

ROUNDS = 400 if LONG else 40
KEY = cache_key("https://dev12345.service-now.com", "0123456789abcdef0123456789abcdef", "integration.user")
SCOPE_SIZE = 256 * 1024  # a large file widens the window a kill can land in


def tokens(n: int) -> TokenSet:
    """Version n of the tokens: every field says n, so a torn mix is visible."""
    return TokenSet(
        access_token=f"access-{n}-" + "a" * 80,
        token_type="Bearer",
        refresh_token=f"refresh-{n}-" + "r" * 80,
        scope=f"scope-{n} " + "s" * SCOPE_SIZE,
        expires_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        refresh_expires_at=datetime(2031, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    )


def version_of(t: TokenSet) -> int:
    n = int(t.access_token.split("-")[1])
    assert t == tokens(n), "a token set mixing two versions"
    return n


WRITER = f"""
import sys
from datetime import UTC, datetime, timedelta
from snowauth.tokens import TokenSet
from snowauth.store import TokenCache

SCOPE_SIZE = {SCOPE_SIZE}
cache = TokenCache(sys.argv[1])
key, n = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
while True:
    cache.save(key, TokenSet(
        access_token=f"access-{{n}}-" + "a" * 80,
        token_type="Bearer",
        refresh_token=f"refresh-{{n}}-" + "r" * 80,
        scope=f"scope-{{n}} " + "s" * SCOPE_SIZE,
        expires_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        refresh_expires_at=datetime(2031, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    ))
    n += 1
"""


def strays(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name != f"{KEY}.json"]


def test_sigkill_while_saving_never_tears_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "snowauth"
    rng = random.Random(int(os.environ.get("SNOWAUTH_FUZZ_SEED", "11")))
    newest = -1  # the version the file held after the last round (-1: no file yet)
    kinds = {"absent": 0, "same": 0, "newer": 0}
    stray_rounds = stray_count = 0
    for round_ in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), KEY, str(newest + 1)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n", child.stderr.read() if child.stderr else b""
        time.sleep(rng.uniform(0, 0.04))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL, round_

        path = folder / f"{KEY}.json"
        leftovers = strays(folder) if folder.exists() else []
        stray_rounds += len(leftovers) > stray_count  # this kill landed between mkstemp and replace
        stray_count = len(leftovers)
        for stray in leftovers:
            assert stray.name.startswith(f".{KEY[:16]}.") and stray.name.endswith(".tmp"), stray.name
            assert stat.S_IMODE(stray.stat().st_mode) == 0o600, stray.name
        loaded = TokenCache(folder).load(KEY)
        if not path.exists():
            assert newest == -1, f"round {round_}: the cache file vanished"
            assert loaded is None
            kinds["absent"] += 1
            continue
        assert loaded is not None, f"round {round_}: the cache file does not load"
        n = version_of(loaded)
        assert path.read_bytes() == encode(tokens(n)), f"round {round_}: not the complete content"
        assert n >= newest, (round_, n, newest)
        kinds["same" if n == newest else "newer"] += 1
        newest = n
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # the next save works whatever was left behind, and replaces the file
    TokenCache(folder).save(KEY, tokens(newest + 1))
    assert TokenCache(folder).load(KEY) == tokens(newest + 1)
    STATS.add("cache: SIGKILL rounds", ROUNDS)
    STATS.add("cache: rounds that left a stray temp file (killed mid-write)", stray_rounds)
    STATS.notes["cache: after each kill"] = (
        f"absent {kinds['absent']}, old content {kinds['same']}, new content {kinds['newer']}, torn 0; "
        f"{len(strays(folder))} stray temp files left in the folder at the end"
    )
    assert kinds["newer"] > 0


SECRET = "SECRET-CONTENT-0123456789"

CORRUPT = [
    b"",
    b"\x00\x00\x00",
    b"\xff\xfe garbage",
    json.dumps({"version": 1, "access_token": SECRET})[:30].encode(),  # torn
    json.dumps({"version": 2, "access_token": SECRET}).encode(),
    json.dumps({"version": 1, "access_token": ""}).encode(),
    json.dumps({"version": 1, "access_token": SECRET, "expires_at": "not a date"}).encode(),
    json.dumps({"version": 1, "access_token": SECRET, "scope": 5}).encode(),
    json.dumps([SECRET]).encode(),
    b"[" * 100_000,
]


@pytest.mark.parametrize("content", CORRUPT, ids=range(len(CORRUPT)))
def test_a_corrupt_cache_file_is_reported_without_content_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    cache = TokenCache(tmp_path / "snowauth")
    cache.save(KEY, tokens(1))
    path = cache.path(KEY)
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="snowauth.store"):
        assert cache.load(KEY) is None
    warnings = [r for r in caplog.records if r.name == "snowauth.store" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "corrupt" in text and SECRET not in text and "garbage" not in text
    cache.save(KEY, tokens(2))
    assert cache.load(KEY) == tokens(2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    STATS.add("cache: corrupt files detected and replaced")


def test_stray_temp_files_never_make_load_fail(tmp_path: Path) -> None:
    folder = tmp_path / "snowauth"
    cache = TokenCache(folder)
    cache.save(KEY, tokens(1))
    for name, data in [
        (f".{KEY[:16]}.abc123.tmp", encode(tokens(9))[:1000]),  # a torn newer save
        (f".{KEY[:16]}.def456.tmp", b""),
        (f".{KEY[:16]}.ghi789.tmp", encode(tokens(0))),
    ]:
        (folder / name).write_bytes(data)
    assert cache.load(KEY) == tokens(1)
    cache.save(KEY, tokens(2))
    assert cache.load(KEY) == tokens(2)
    os.unlink(cache.path(KEY))
    assert cache.load(KEY) is None  # a temp file is never taken for the cache file


def test_permissions_of_a_new_and_of_an_open_folder(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fresh = TokenCache(tmp_path / "a" / "b" / "snowauth")
        fresh.save(KEY, tokens(1))
        assert stat.S_IMODE(fresh.directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(fresh.path(KEY).stat().st_mode) == 0o600
        opened = tmp_path / "open"
        opened.mkdir(mode=0o777)
        os.chmod(opened, 0o777)
        TokenCache(opened).save(KEY, tokens(1))
        assert stat.S_IMODE(opened.stat().st_mode) == 0o700
        # a file left 0644 by something else becomes 0600 at the next save
        os.chmod(TokenCache(opened).path(KEY), 0o644)
        TokenCache(opened).save(KEY, tokens(2))
        assert stat.S_IMODE(TokenCache(opened).path(KEY).stat().st_mode) == 0o600
    finally:
        os.umask(old)
