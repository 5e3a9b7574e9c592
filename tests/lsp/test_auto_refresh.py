"""Tokens kept fresh while the file is open (`auto_refresh`, exports): the real server over
stdio refreshes a token that is due against the emulator over loopback, asking nothing of
the client; a dead refresh token is reported once and not retried until the connection changes;
nothing happens without `auto_refresh` or exports, in an untrusted workspace, or for an
instance not confirmed yet.

The server runs with ``SNOWAUTH_AUTO_REFRESH_MARGIN`` (test-only) at 900 s instead of
2 minutes: a token with 10 minutes left is due at once."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.store import TokenCache, cache_key
from snowauth.token_edits import toml_datetime
from snowauth.trust import local_emulator
from tests.kit.emulator import (
    DEMO_ID,
    USER,
    current_user,
    emulator_config,
    emulators,
    password_connection,
    password_grant,
    token_requests,
)
from tests.kit.lsp import Editor, Watched, diagnostics, eventually, session_fixture

SECRETS = {"SNOW_A_SECRET": "demo-client-secret", "SNOW_A_PASSWORD": "demo-password"}
BASE = Path(tempfile.gettempdir()) / f"snowauth-autorefresh-{os.getpid()}"
CACHE = BASE / "cache"
ENV = {**SECRETS, "SNOWAUTH_CACHE_DIR": str(CACHE), "SNOWAUTH_AUTO_REFRESH_MARGIN": "900"}
URI = (BASE / "work" / "api.snowauth.toml").as_uri()
QUIET = 2.0  # seconds in which nothing may happen

client = session_fixture(presets=("visual-studio-code", "neovim"), env=ENV)
untrusted = session_fixture(presets=("visual-studio-code|untrusted",), env=ENV)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    (BASE / "work").mkdir(parents=True, exist_ok=True)
    yield
    shutil.rmtree(BASE, ignore_errors=True)


def with_token(emu: Emulator, *, extra: str = "", left: timedelta, refresh_token: str | None = None) -> str:
    """The password connection "dev" with ``extra`` keys, and a token table holding a real
    token of the emulator that expires in ``left`` (its refresh token, or ``refresh_token``)."""
    body = password_grant(emu).json()
    expires = toml_datetime(datetime.now(UTC) + left)
    text = password_connection(emu.url, secret="${env:SNOW_A_SECRET}", password="${env:SNOW_A_PASSWORD}", extra=extra)
    return (
        f"{text}\n[connections.dev.token]\n"
        f'access_token = "{body["access_token"]}"\n'
        f'refresh_token = "{refresh_token or body["refresh_token"]}"\n'
        f'token_type = "Bearer"\nscope = "useraccount"\nexpires_at = {expires}\n'
    )


def expiry(text: str) -> datetime:
    found = analyze(text).connections["dev"].token_expiry
    assert found is not None
    return found


async def test_a_due_token_in_the_file_is_refreshed_without_asking(client: LanguageClient, emulator: Emulator) -> None:
    watched, editor = Watched(client), Editor(client)
    text = with_token(emulator, extra="auto_refresh = true\n", left=timedelta(minutes=10))
    before, sent = expiry(text), token_requests(emulator)
    editor.open(URI, text)
    await eventually(lambda: expiry(editor.texts[URI]) != before, "refreshed")
    token = analyze(editor.texts[URI]).connections["dev"].token
    assert expiry(editor.texts[URI]) > datetime.now(UTC) + timedelta(minutes=25)
    assert current_user(emulator, str(token["access_token"].value.data)).status_code == 200
    assert token_requests(emulator) == sent + 1 and len(editor.applied) == 1
    watched.asked_nothing()
    assert watched.errors() == []
    # the new token has 30 minutes left: nothing more to do
    await asyncio.sleep(QUIET)
    assert token_requests(emulator) == sent + 1 and len(editor.applied) == 1


async def keeps_a_cached_token_fresh(client: LanguageClient, keys: str) -> None:
    """The connection "dev" with ``keys``, its tokens in the cache: a fetched token is
    refreshed at once (tokens of 10 minutes, the margin 900 s) and the file is not touched."""
    with emulators(config=emulator_config(access_token_lifespan=600)) as start:
        emu = start()
        with local_emulator(emu.url):
            watched, editor = Watched(client), Editor(client)
            extra = f'token_store = "cache"\n{keys}'
            text = password_connection(
                emu.url, secret="${env:SNOW_A_SECRET}", password="${env:SNOW_A_PASSWORD}", extra=extra
            )
            editor.open(URI, text)
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": "dev"}])
            )
            cache = TokenCache(CACHE)
            key = cache_key(emu.url, DEMO_ID, USER)
            fetched = cache.load(key)
            assert fetched is not None and fetched.expires_at is not None
            await eventually(lambda: token_requests(emu) == 2, "refreshed")
            await eventually(lambda: (cache.load(key) or fetched).expires_at != fetched.expires_at, "stored")
            refreshed = cache.load(key)
            assert refreshed is not None and refreshed.expires_at is not None
            assert refreshed.expires_at > fetched.expires_at
            assert current_user(emu, refreshed.access_token).status_code == 200
            assert editor.texts[URI] == text and editor.applied == []
            watched.asked_nothing()
            assert watched.errors() == []


async def test_auto_refresh_keeps_a_cached_token_fresh(client: LanguageClient) -> None:
    await keeps_a_cached_token_fresh(client, "auto_refresh = true\n")


async def test_exports_keep_a_cached_token_fresh(client: LanguageClient) -> None:
    await keeps_a_cached_token_fresh(client, '\n[connections.dev.export]\ndotenv = ".env"\n')


async def test_a_dead_refresh_token_is_reported_once_until_the_connection_changes(
    client: LanguageClient, emulator: Emulator
) -> None:
    watched, editor = Watched(client), Editor(client)
    dead = "dead-refresh-token-0123456789abcdefghijklmnopqrstuvwxyz"
    text = with_token(emulator, extra="auto_refresh = true\n", left=timedelta(minutes=5), refresh_token=dead)
    sent = token_requests(emulator)
    editor.open(URI, text)
    await eventually(lambda: len(watched.errors()) == 1, "reported")
    assert "could not be refreshed automatically" in watched.errors()[0]
    failed: list[t.Diagnostic] = []
    for _ in range(100):
        failed = [d for d in await diagnostics(client, URI) if d.code == "fetch-failed"]
        if failed:
            break
        await asyncio.sleep(0.05)
    assert failed and all(d.severity == t.DiagnosticSeverity.Error for d in failed)
    # no loop: no second attempt, no second notification
    await asyncio.sleep(QUIET)
    assert token_requests(emulator) == sent + 1 and len(watched.errors()) == 1
    assert editor.texts[URI] == text and editor.applied == []
    watched.asked_nothing()  # never falls back to the password grant, never asks
    # an edit of the connection allows one more attempt
    editor.type(URI, editor.texts[URI].index("auto_refresh"), "timeout = 20\n")
    await eventually(lambda: len(watched.errors()) == 2, "reported again")
    assert token_requests(emulator) == sent + 2
    shown = repr([m.message for m in client.messages]) + repr(client.log_messages)
    assert dead not in shown and SECRETS["SNOW_A_SECRET"] not in shown


async def test_nothing_happens_without_auto_refresh_or_exports(client: LanguageClient, emulator: Emulator) -> None:
    watched, editor = Watched(client), Editor(client)
    text = with_token(emulator, left=timedelta(minutes=5))
    before, sent = expiry(text), token_requests(emulator)
    editor.open(URI, text)
    await asyncio.sleep(QUIET)
    assert token_requests(emulator) == sent and editor.applied == [] and editor.texts[URI] == text
    # the same connection with `auto_refresh = true` typed in is refreshed
    editor.type(URI, editor.texts[URI].index("\n[connections.dev.token]"), "\nauto_refresh = true")
    await eventually(lambda: expiry(editor.texts[URI]) != before, "refreshed")
    assert token_requests(emulator) == sent + 1
    watched.asked_nothing()


async def test_nothing_happens_in_an_untrusted_workspace(untrusted: LanguageClient, emulator: Emulator) -> None:
    watched, editor = Watched(untrusted), Editor(untrusted)
    text = with_token(emulator, extra="auto_refresh = true\n", left=timedelta(minutes=5))
    sent = token_requests(emulator)
    editor.open(URI, text)
    editor.type(URI, len(text), "# edited\n")
    await asyncio.sleep(QUIET)
    assert token_requests(emulator) == sent and editor.applied == []
    watched.asked_nothing()
    assert watched.errors() == []


async def test_nothing_happens_for_an_instance_not_confirmed_yet(client: LanguageClient) -> None:
    with Emulator() as emu:  # not the user's registered emulator: the first fetch would ask
        watched, editor = Watched(client), Editor(client)
        text = with_token(emu, extra="auto_refresh = true\n", left=timedelta(minutes=5))
        sent = token_requests(emu)
        editor.open(URI, text)
        await asyncio.sleep(QUIET)
        assert token_requests(emu) == sent and editor.applied == []
        watched.asked_nothing()  # not even the question: the person confirms on a Fetch token
        assert watched.errors() == []
