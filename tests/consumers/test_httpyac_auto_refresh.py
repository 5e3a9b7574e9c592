"""httpYac (the CLI of the httpYac VS Code extension, from npm) and a token the language
server keeps fresh: the real server over stdio fetches a token for a connection with an
`http_client` export, httpYac sends a `.http` request with it to the emulator over loopback
(200); the token then expires at the instance, and the server's auto-refresh, asking
nothing, rewrites the export with a new token, so httpYac's next request succeeds too.

Time: the emulator runs on a shifted clock (tests.kit.clock.ShiftedClock). Its tokens live
30 minutes; moving its clock 30 minutes on kills the first token at once at the instance,
while the server, on the real time, still counts 30 minutes. The server runs with
``SNOWAUTH_AUTO_REFRESH_MARGIN`` (test-only) at 1780 s: a token of 30 minutes is due about
20 s after it was fetched, which leaves httpYac's first request the time to run before.
(A refresh while the token is still alive at the instance gives the same token back with
its expiry reset, as ServiceNow does: only a refresh after the expiry gives a new one.)"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.store import TokenCache, cache_key
from snowauth.trust import local_emulator
from tests.kit.clock import ShiftedClock
from tests.kit.consumers import TABLE_REQUEST, httpyac
from tests.kit.emulator import DEMO_ID, USER, current_user, emulators, password_connection, token_requests
from tests.kit.lsp import Editor, Watched, eventually, session_fixture

SECRETS = {"SNOW_A_SECRET": "demo-client-secret", "SNOW_A_PASSWORD": "demo-password"}
BASE = Path(tempfile.gettempdir()) / f"snowauth-httpyac-refresh-{os.getpid()}"
CACHE = BASE / "cache"
PROJECT = BASE / "project"
ENV = {**SECRETS, "SNOWAUTH_CACHE_DIR": str(CACHE), "SNOWAUTH_AUTO_REFRESH_MARGIN": "1780"}
LIFESPAN = 1800  # seconds: the emulator's access tokens (its default)
EXPORT = '\n[connections.dev.export]\nhttp_client = "http-client.private.env.json"\n'

client = session_fixture(env=ENV)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    PROJECT.mkdir(parents=True, exist_ok=True)
    yield
    shutil.rmtree(BASE, ignore_errors=True)


def exported(path: Path) -> dict[str, str]:
    """The connection's entry of the `http_client` export file."""
    entry: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["dev"]
    return entry


def statuses(sent: list[dict[str, Any]]) -> list[int]:
    """The status codes httpYac got (what it reports of a request carries the token)."""
    return [r["response"]["statusCode"] for r in sent]


async def test_the_auto_refresh_rewrites_the_export_before_httpyac_needs_it(client: LanguageClient) -> None:
    clock = ShiftedClock()
    with emulators(clock=clock) as start:
        emu = start()
        with local_emulator(emu.url):
            watched, editor = Watched(client), Editor(client)
            conn = PROJECT / "api.snowauth.toml"
            text = password_connection(
                emu.url,
                secret="${env:SNOW_A_SECRET}",
                password="${env:SNOW_A_PASSWORD}",
                extra=f'token_store = "cache"\n{EXPORT}',
            )
            conn.write_text(text, encoding="utf-8")
            (PROJECT / "api.http").write_text(TABLE_REQUEST, encoding="utf-8")
            export = PROJECT / "http-client.private.env.json"
            cache, key = TokenCache(CACHE), cache_key(emu.url, DEMO_ID, USER)

            # Fetch token writes the export
            editor.open(conn.as_uri(), text)
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(
                    command="snowauth.fetchToken", arguments=[{"uri": conn.as_uri(), "connection": "dev"}]
                )
            )
            first = cache.load(key)
            assert first is not None
            url = exported(export)["instance_url"]
            assert url == emu.url
            is_first = exported(export)["access_token"] == first.access_token
            assert is_first, "the export does not hold the fetched token"

            # httpYac, run from another folder, finds the export beside the .http file
            sent = httpyac(PROJECT / "api.http", "dev", cwd=BASE)
            assert statuses(sent) == [200]
            users = [u["user_name"] for u in json.loads(sent[0]["response"]["body"])["result"]]
            assert users == [USER]

            # the token expires at the instance; the server has not refreshed it yet
            clock.advance(LIFESPAN + 1)
            assert token_requests(emu) == 1, "the server refreshed before the token expired: the machine was too slow"
            dead = current_user(emu, first.access_token).status_code
            assert dead == 401

            # the auto-refresh (the refresh grant, asking nothing) rewrites the export
            def rewritten() -> bool:
                return exported(export)["access_token"] != first.access_token

            await eventually(rewritten, "rewritten by the auto-refresh", timeout=60)
            second = cache.load(key)
            assert second is not None
            is_second = exported(export)["access_token"] == second.access_token
            assert is_second, "the export does not hold the stored token"
            url = exported(export)["instance_url"]
            assert url == emu.url
            assert token_requests(emu) == 2  # the fetch, then one refresh: no other grant
            watched.asked_nothing()
            assert watched.errors() == []

            # httpYac's next request succeeds, with the new token only: the old one is dead
            again = httpyac(PROJECT / "api.http", "dev", cwd=BASE)
            assert statuses(again) == [200]
            url = again[0]["response"]["request"]["url"]
            assert url == f"{emu.url}/api/now/table/sys_user?sysparm_limit=1"
            still_dead = current_user(emu, first.access_token).status_code
            assert still_dead == 401
            assert rewritten(), "the export holds the expired token again"
            assert editor.texts[conn.as_uri()] == text and editor.applied == []
            watched.asked_nothing()
