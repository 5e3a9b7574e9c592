"""The token workflow (snowauth.workflow) through a recording stand-in for the person and
the file, against the emulator over loopback HTTP: when a stored token is reused, when it
is refreshed, when the grant runs again, where the result goes, and that a refused host
gets nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from snowauth import connections as conns
from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.oauth.errors import OAuthError
from snowauth.token_edits import apply, write_edits
from snowauth.tokens import TokenSet
from snowauth.trust import CONFIG_VARIABLE
from snowauth.workflow import MIN_LIFETIME
from tests.kit.workflow import Person, connection_text, workflow


def with_tokens(text: str, tokens: TokenSet) -> str:
    """The connection text with ``tokens`` written to its token table."""
    a = analyze(text)
    return apply(text, write_edits(a, a.connections["dev"], tokens))


async def fresh_tokens(url: str, tmp_path: Path) -> TokenSet:
    person = Person()
    tokens = await workflow(connection_text(url), person, tmp_path).fetch()
    assert person.written == [("dev", tokens)]
    return tokens


async def test_a_stored_token_with_a_minute_left_is_reused(tmp_path: Path, emulator: Emulator) -> None:
    tokens = await fresh_tokens(emulator.url, tmp_path)
    at_limit = TokenSet(
        tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=datetime.now(UTC) + MIN_LIFETIME + timedelta(seconds=30),
    )
    text = with_tokens(connection_text(emulator.url), at_limit)
    before = emulator.token_requests
    person = Person()
    got = await workflow(text, person, tmp_path).obtain()
    assert got.new is False
    assert got.tokens.access_token == tokens.access_token
    assert emulator.token_requests == before
    assert person.written == [] and person.steps == []


async def test_a_stored_token_with_less_than_a_minute_left_is_refreshed(tmp_path: Path, emulator: Emulator) -> None:
    tokens = await fresh_tokens(emulator.url, tmp_path)
    expiring = TokenSet(
        tokens.access_token, refresh_token=tokens.refresh_token, expires_at=datetime.now(UTC) + timedelta(seconds=30)
    )
    text = with_tokens(connection_text(emulator.url), expiring)
    before = emulator.token_requests
    person = Person()
    got = await workflow(text, person, tmp_path).obtain()
    assert got.new is True
    assert emulator.token_requests == before + 1
    assert any(step.startswith("Refreshing the token at") for step in person.steps), person.steps
    assert got.tokens.expires_at is not None and got.tokens.expires_at - datetime.now(UTC) > MIN_LIFETIME
    assert person.written == [("dev", got.tokens)]
    assert person.failures == [] and person.secrets == []


async def test_a_dead_refresh_token_falls_back_to_the_grant(tmp_path: Path, emulator: Emulator) -> None:
    dead = TokenSet(
        "expired-access-token", refresh_token="revoked-refresh-token", expires_at=datetime.now(UTC) - timedelta(hours=1)
    )
    text = with_tokens(connection_text(emulator.url), dead)
    person = Person()
    got = await workflow(text, person, tmp_path).obtain()
    assert got.new is True
    assert emulator.token_requests == 2  # the refused refresh, then the password grant
    assert "The refresh token was rejected; requesting a new token…" in person.steps
    assert got.tokens.access_token not in ("expired-access-token",)
    assert got.tokens.refresh_token not in (None, "revoked-refresh-token")
    assert person.written == [("dev", got.tokens)]


async def test_refresh_without_fallback_runs_the_refresh_grant_only(tmp_path: Path, emulator: Emulator) -> None:
    tokens = await fresh_tokens(emulator.url, tmp_path)
    live = with_tokens(connection_text(emulator.url), tokens)
    before = emulator.token_requests
    person = Person()
    refreshed = await workflow(live, person, tmp_path).refresh(fallback=False)
    assert emulator.token_requests == before + 1
    assert any(step.startswith("Refreshing the token at") for step in person.steps), person.steps
    assert person.written == [("dev", refreshed.tokens)]
    assert refreshed.previous is not None and refreshed.previous.refresh_token == tokens.refresh_token
    # a dead refresh token is a failure: the password grant, which needs no person, is not run
    dead = with_tokens(connection_text(emulator.url), TokenSet("old-access", refresh_token="revoked-refresh-token"))
    before, person = emulator.token_requests, Person()
    with pytest.raises(OAuthError) as info:
        await workflow(dead, person, tmp_path).refresh(fallback=False)
    assert info.value.code == "access-denied"
    assert emulator.token_requests == before + 1 and person.written == [] and person.failures == [info.value]
    # no refresh token at all: nothing is sent
    before, person = emulator.token_requests, Person()
    with pytest.raises(conns.ConnectionProblem):
        await workflow(connection_text(emulator.url), person, tmp_path).refresh(fallback=False)
    assert emulator.token_requests == before and person.written == [] and person.titles == []


async def test_refresh_and_fetch_store_in_the_cache_not_the_file(tmp_path: Path, emulator: Emulator) -> None:
    text = connection_text(emulator.url, store="cache")
    person = Person()
    tokens = await workflow(text, person, tmp_path).fetch()
    assert person.written == []
    assert person.steps[-1] == "Storing the token…"
    entries = list((tmp_path / "cache").glob("*.json"))
    assert len(entries) == 1 and entries[0].stat().st_mode & 0o777 == 0o600
    again = Person()
    refreshed = await workflow(text, again, tmp_path).refresh()
    assert refreshed.previous is not None and refreshed.previous.access_token == tokens.access_token
    assert again.written == []
    # the next workflow finds the refreshed token in the cache and hands it out as it is
    before = emulator.token_requests
    got = await workflow(text, Person(), tmp_path).obtain()
    assert got.new is False and got.tokens.access_token == refreshed.tokens.access_token
    assert emulator.token_requests == before


async def test_revoke_removes_the_tokens_from_the_file(tmp_path: Path, emulator: Emulator) -> None:
    tokens = await fresh_tokens(emulator.url, tmp_path)
    text = with_tokens(connection_text(emulator.url), tokens)
    person = Person()
    await workflow(text, person, tmp_path).revoke()
    assert person.written == [("dev", None)]
    assert ("POST", "/oauth_revoke_token.do") in emulator.requests
    with pytest.raises(conns.ConnectionProblem, match="has no stored token to revoke"):
        await workflow(connection_text(emulator.url), Person(), tmp_path).revoke()


async def test_access_token_refreshes_through_the_given_refresh(tmp_path: Path, emulator: Emulator) -> None:
    tokens = await fresh_tokens(emulator.url, tmp_path)
    expiring = TokenSet(
        tokens.access_token, refresh_token=tokens.refresh_token, expires_at=datetime.now(UTC) + timedelta(seconds=10)
    )
    replacement = TokenSet("replacement-access-token", expires_at=datetime.now(UTC) + timedelta(hours=1))
    calls: list[str] = []

    async def refresh() -> TokenSet:
        calls.append("refresh")
        return replacement

    wf = workflow(with_tokens(connection_text(emulator.url), expiring), Person(), tmp_path)
    conn, access = await wf.access_token(refresh)
    assert (calls, access, conn.base_url) == (["refresh"], "replacement-access-token", emulator.url)
    with pytest.raises(conns.ConnectionProblem, match="has no token yet"):
        await workflow(connection_text(emulator.url), Person(), tmp_path).access_token()


async def test_a_refused_host_gets_no_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_VARIABLE, str(tmp_path / "config"))  # no answer given before
    with Emulator() as emu:  # not registered as the user's own emulator: the question is asked
        person = Person(send=False)
        with pytest.raises(conns.ConnectionProblem, match="Nothing was sent"):
            await workflow(connection_text(emu.url), person, tmp_path).obtain()
        assert person.hosts == [emu.url]
        assert emu.requests == [] and emu.token_requests == 0
        assert person.secrets == [] and person.written == [] and person.titles == []


async def test_a_confirmed_host_is_asked_about_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_VARIABLE, str(tmp_path / "config"))
    with Emulator() as emu:
        first = Person(send=True)
        got = await workflow(connection_text(emu.url, store="cache"), first, tmp_path).obtain()
        assert first.hosts == [emu.url] and got.new is True and emu.token_requests == 1
        second = Person(send=False)  # would refuse, but is not asked again
        again = await workflow(connection_text(emu.url, store="cache"), second, tmp_path).obtain()
        assert second.hosts == [] and again.new is False and emu.token_requests == 1
