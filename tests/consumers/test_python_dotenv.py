"""A consumer no one here wrote: python-dotenv (from PyPI) reads the `dotenv` export of
`snowauth export` in a `.env` that already held the user's own lines, to the token the
emulator issued and to what snowauth's own .env reader reads; after revoke it no longer
finds the token, and the user's lines are still there."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dotenv import dotenv_values

from snowauth.emulator import Emulator
from snowauth.secrets import parse_dotenv
from tests.kit.cli import run_snowauth
from tests.kit.workflow import ENV, Person, conn_file, workflow

MINE = "# mine\nA=1\nB=\"two words\"\nexport C='single # not a comment'\nD=pa#ss # note\n"
MINE_VALUES = {"A": "1", "B": "two words", "C": "single # not a comment", "D": "pa#ss"}


def read_both(path: Path) -> dict[str, str | None]:
    """The .env as python-dotenv reads it, after checking snowauth's reader agrees."""
    theirs = dict(dotenv_values(path))
    assert parse_dotenv(path.read_text(encoding="utf-8")) == theirs
    return theirs


async def test_python_dotenv_reads_the_exported_token_and_not_after_revoke(tmp_path: Path, emulator: Emulator) -> None:
    path = conn_file(tmp_path, emulator.url, store="cache")
    path.write_text(path.read_text() + '\n[connections.dev.export]\ndotenv = ".env"\n')
    dotenv = tmp_path / ".env"
    dotenv.write_text(MINE, encoding="utf-8")
    assert read_both(dotenv) == MINE_VALUES
    env = {**os.environ, **ENV, "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache")}

    out = run_snowauth("export", str(path), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [".env"]
    # the same cache: `snowauth token` reuses the token the export wrote
    printed = run_snowauth("token", "--format", "json", str(path), env=env)
    assert printed.returncode == 0, printed.stderr
    token = json.loads(printed.stdout)["access_token"]
    honoured = emulator.state.bearer(token) is not None
    assert honoured, "the instance does not know the token snowauth printed"
    assert token not in out.stdout + out.stderr + printed.stderr

    assert dotenv.read_text(encoding="utf-8").startswith(MINE)  # the user's lines kept as they were
    assert read_both(dotenv) == {
        **MINE_VALUES,
        "SNOWAUTH_DEV_ACCESS_TOKEN": token,
        "SNOWAUTH_DEV_INSTANCE_URL": emulator.url,
    }

    # `snowauth` has no revoke command: the workflow's revoke (as the editor runs it)
    person = Person()
    await workflow(path.read_text(), person, tmp_path).revoke()
    assert person.export_warnings == []
    honoured = emulator.state.bearer(token) is not None
    assert not honoured, "the instance still honours the revoked token"
    assert read_both(dotenv) == MINE_VALUES
    assert dotenv.read_text(encoding="utf-8") == MINE
