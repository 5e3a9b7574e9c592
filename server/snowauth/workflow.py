"""The token workflow shared by the command line and the language server.

One policy, written once: which destination a connection's credentials go to and the
question before the first send there (SECURITY.md), reuse of a stored token with at least
:data:`MIN_LIFETIME` left, refresh (falling back to the connection's own grant when the
refresh token is dead and that grant needs no person), the grant itself, and where the
result goes (the token cache, the system keychain, or the connection file, see
docs/reference.md); ``${prompt}`` answers remembered in the keychain
(``remember_prompts = "keyring"``) for a UI that keeps none of its own.

The caller talks to the person through a :class:`TokenUI`: the terminal (``token_cli``)
or the editor (``lsp/commands``). A new front end (a command that runs a program with a
fresh token in its environment, a ``doctor``) implements :class:`TokenUI` and calls the
operations of :class:`TokenWorkflow`:

=====================  ==============================================================
``obtain()``           a token to use: the stored one when it has ≥ 60 s left, else a
                       refreshed one, else the grant's; stored (``snowauth token``)
``fetch()``            run the connection's grant now and store the result (Fetch token)
``refresh()``          refresh now, falling back as above, and store (Refresh token);
                       ``refresh(fallback=False)``: the refresh grant only (auto-refresh)
``revoke()``           revoke the stored tokens at the instance and remove them
``access_token()``     the stored access token, refreshed first when < 60 s are left
                       (Test connection, Insert token)
``export()``           write the token to the files the connection exports it to
                       (done by every operation that stores or removes tokens)
=====================  ==============================================================

Every operation that stores tokens (or removes them) then rewrites the files declared
in `[connections.<name>.export]` (:mod:`snowauth.exports`). The token is stored first: a
file that cannot be written is reported through :meth:`TokenUI.export_failed` (a warning)
and the operation still succeeds.

Failures are :class:`snowauth.connections.ConnectionProblem` (the connection, the
person's answer) or :class:`snowauth.oauth.errors.OAuthError` (the instance), each with
a message fit for the user and no secret in it.

This module loads no network stack at import: the exchange (httpx) is imported when an
operation first needs it, or given as ``client``.
"""

from __future__ import annotations

import asyncio
import functools
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn, Protocol, TypeVar

from snowauth import connections as conns
from snowauth import exports, keychain
from snowauth.store import TokenCache, cache_key
from snowauth.trust import KnownHosts, refusal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection

    from snowauth.analysis import Analysis
    from snowauth.document import Connection
    from snowauth.oauth.client import OAuthClient
    from snowauth.secrets import Environment
    from snowauth.tokens import ResolvedConnection, TokenSet

_T = TypeVar("_T")

MIN_LIFETIME = timedelta(seconds=60)  # a stored token with less left is not handed out
#: `${prompt}` keys whose answer is good for one request: asked with ``once`` (never
#: remembered by the editor) and never kept in the keychain
ONE_TIME_KEYS = frozenset({"otp"})


class TokenUI(Protocol):
    """What the workflow needs from the person and the place the connection lives in."""

    async def ask_secret(
        self, connection: str, key: str, *, once: bool = False, password: bool = True, prompt: str | None = None
    ) -> str | None:
        """The value of a `${prompt}` key (None or "": nothing entered). ``once``: a one-time
        answer (an admin's credentials), never remembered nor answered from a store;
        ``password=False``: not secret, may be shown as typed (an admin's user name);
        ``prompt``: what to do, shown with the question."""

    @property
    def can_ask(self) -> bool:
        """Whether :meth:`ask_secret` can ask anyone (an editor without the prompt cannot)."""

    async def confirm_host(self, name: str, target: conns.Destination) -> bool:
        """Whether credentials may go to ``target`` (asked before the first send there;
        the workflow checks and records the answers given before). It may raise
        ConnectionProblem when it cannot ask."""

    async def open_browser(self, url: str) -> None:
        """Show the sign-in page of the authorization code grant."""

    async def ask_code(self, connection: str) -> str | None:
        """What the browser shows after the sign-in, pasted by the person, when the
        connection's redirect does not come back to this machine (the SDK client's
        `/sdk-oauth.do`): the code or the whole address (None or "": nothing). A secret,
        asked once and never remembered; it may raise ConnectionProblem when it cannot ask."""

    def progress(self, title: str) -> AbstractAsyncContextManager[Callable[[str], None]]:
        """Around one exchange: yields the function that reports each step's message."""

    def exchange_failed(self, exc: Exception) -> None:
        """The exchange failed (it is raised after this): show it where it is fixed."""

    async def write_tokens(self, connection: str, tokens: TokenSet | None) -> None:
        """Store ``tokens`` in the connection's own file (None: remove them)."""

    def export_failed(self, message: str) -> None:
        """A file the connection exports its token to was not written (the token is
        stored): show ``message`` (it names the file and what to do; no secret) as a warning."""


def usable(tokens: TokenSet | None, now: datetime | None = None) -> bool:
    """A token to hand out: no expiry given, or at least :data:`MIN_LIFETIME` left."""
    if tokens is None:
        return False
    return tokens.expires_at is None or tokens.expires_at - (now or datetime.now(UTC)) >= MIN_LIFETIME


@dataclass(frozen=True)
class Obtained:
    """What :meth:`TokenWorkflow.obtain` gives: the token and whether it is new."""

    tokens: TokenSet
    new: bool


@dataclass(frozen=True)
class Refreshed:
    """What :meth:`TokenWorkflow.refresh` gives: the new tokens and the ones they replace."""

    tokens: TokenSet
    previous: TokenSet | None

    @property
    def same_token(self) -> bool:
        """ServiceNow gives the same access token back within its lifetime, with a later
        expiry: a refresh that seems to change nothing did something."""
        return self.previous is not None and self.previous.access_token == self.tokens.access_token


class TokenWorkflow:
    """The operations on one connection's tokens (see the module docstring).

    ``client`` is a running exchange to use (the language server keeps one); without it,
    each operation that sends opens its own and closes it. ``cache`` is the token cache
    (default: :class:`snowauth.store.TokenCache` in its usual folder)."""

    def __init__(
        self,
        a: Analysis,
        c: Connection,
        env: Environment,
        ui: TokenUI,
        *,
        client: OAuthClient | None = None,
        cache: TokenCache | None = None,
        allow_missing: frozenset[str] = frozenset(),
    ) -> None:
        self.analysis = a
        self.connection = c
        self.env = env
        self.ui = ui
        self.client = client
        self.cache = cache if cache is not None else TokenCache()
        self.target: conns.Destination | None = None
        self.exported: list[exports.Target] = []  # the files the last export() wrote
        #: keys whose absence does not stop destination() (register writes them)
        self.allow_missing = allow_missing
        self._from_keychain: set[str] = set()  # `${prompt}` keys answered by the keychain

    @property
    def name(self) -> str:
        return self.connection.name

    @property
    def store(self) -> str:
        """Where the tokens go: "file", "cache" or "keyring"."""
        return conns.token_store(self.connection)

    def _kept(self) -> TokenCache | keychain.TokenKeychain:
        """The store of a connection that keeps its tokens outside its file."""
        return keychain.TokenKeychain() if self.store == "keyring" else self.cache

    async def _keep(self, run: Callable[[], _T]) -> _T:
        """Run a store call in a thread; a keychain that cannot be used is a ConnectionProblem."""
        try:
            return await asyncio.to_thread(run)
        except keychain.KeychainUnavailable as exc:
            raise conns.ConnectionProblem(str(exc), "token_store") from None

    def _prompt(self) -> conns.AsyncPrompt | None:
        """How `${prompt}` keys are answered: the UI (one-time keys with ``once``), and
        with ``remember_prompts = "keyring"`` the keychain first, unless the UI keeps its
        answers itself (the VS Code extension's SecretStorage: ``remembers_answers``)."""
        ui = self.ui

        async def ask(connection: str, key: str) -> str | None:
            return await ui.ask_secret(connection, key, once=key in ONE_TIME_KEYS)

        direct = ask if ui.can_ask else None
        if conns.remember_prompts(self.connection) != "keyring" or getattr(ui, "remembers_answers", False):
            return direct

        async def remembered(connection: str, key: str) -> str | None:
            if key in ONE_TIME_KEYS:
                if direct is None:
                    self._cannot_ask(key)
                return await direct(connection, key)
            entry = self.answer_key()
            found = await self._keep(lambda: keychain.remembered(entry, key))
            if found is not None:
                self._from_keychain.add(key)
                return found
            if direct is None:
                self._cannot_ask(key, keychain_empty=True)
            value = await direct(connection, key)
            if value:
                await self._keep(lambda: keychain.remember(entry, key, value))
            return value

        return remembered

    @staticmethod
    def _cannot_ask(key: str, *, keychain_empty: bool = False) -> NoReturn:
        more = (
            " and the system keychain holds no remembered answer: run `snowauth token` once in a "
            "terminal to remember it there"
            if keychain_empty
            else ""
        )
        raise conns.ConnectionProblem(f"`{key}` is `${{prompt}}`, but this client cannot ask for secrets{more}", key)

    def answer_key(self) -> str:
        """The keychain entry of this connection's remembered answers: its destination
        (instance + trust settings), name and user, so an answer goes only where it was
        typed for."""
        assert self.target is not None
        user = conns.cache_user(self.connection)
        return cache_key(self.target.base_url, f"connection:{self.name}", user, self.target.trust.fingerprint)

    async def forget_answers(self, keys: Collection[str]) -> None:
        """Remove the answers to ``keys`` remembered in the keychain for this connection."""
        await self.destination()
        entry = self.answer_key()
        for key in sorted(keys):
            await self._keep(functools.partial(keychain.forget, entry, key))
        self._from_keychain.difference_update(keys)

    # -- the steps --------------------------------------------------------------------------

    async def destination(self) -> conns.Destination:
        """Where the credentials go, read once and confirmed (before any secret is read or
        asked for): what is confirmed is what the request uses and what keys the cache."""
        if self.target is None:

            def read() -> tuple[conns.Destination, KnownHosts, bool]:
                target = conns.destination(self.analysis, self.connection, self.env, allow_missing=self.allow_missing)
                known = KnownHosts()
                return target, known, known.trusted(target.base_url, target.trust)

            # A CA bundle is read whole and hashed (up to 4 MiB): in a thread. Without one,
            # what is read is a few small files of the user's config folder (the
            # confirmations, an emulator's registration) and the kernel's socket list, in
            # less time than a hop to a thread and back costs (docs/performance.md); the
            # `${env:}`/`${file:}` references are read on the loop, as resolve() does.
            if "ca_bundle" in self.connection.keys:
                target, known, trusted = await asyncio.to_thread(read)
            else:
                target, known, trusted = read()
            if not trusted:
                if not await self.ui.confirm_host(self.name, target):
                    raise conns.ConnectionProblem(refusal(target.base_url, target.trust))
                await asyncio.to_thread(known.remember, target.base_url, target.trust)
            self.target = target
        return self.target

    async def resolve(
        self, *, need_secrets: bool = True, no_prompt: frozenset[str] = frozenset()
    ) -> ResolvedConnection:
        """The connection ready to send (see :func:`snowauth.connections.resolve`), once
        its destination is confirmed."""
        target = await self.destination()
        prompt = self._prompt()
        return await conns.resolve(
            self.analysis,
            self.connection,
            self.env,
            prompt,
            target=target,
            need_secrets=need_secrets,
            no_prompt=no_prompt,
        )

    async def network(self) -> conns.Network:
        """The connection's proxy and client certificate, once its destination is
        confirmed (for requests that are not its grant: Register OAuth client)."""
        await self.destination()
        return await conns.network(self.connection, self.env, self._prompt())

    def cache_key(self, conn: ResolvedConnection) -> str:
        """The cache entry of instance + client + user *under these trust settings*: tokens
        obtained with the system's CAs are never sent through another file's ca_bundle."""
        assert self.target is not None
        user = conns.cache_user(self.connection)
        return cache_key(conn.base_url, conn.client_id, user, self.target.trust.fingerprint)

    async def stored(self, conn: ResolvedConnection) -> TokenSet | None:
        """The tokens stored for the connection (in its file, or in the cache)."""
        if self.store == "file":
            return conns.stored_tokens(self.connection)
        kept, key = self._kept(), self.cache_key(conn)
        return await self._keep(lambda: kept.load(key))

    async def save(self, conn: ResolvedConnection, tokens: TokenSet) -> None:
        """Store the tokens, then write them to the connection's export files."""
        if self.store != "file":
            kept, key = self._kept(), self.cache_key(conn)
            await self._keep(lambda: kept.save(key, tokens))
        else:
            await self.ui.write_tokens(self.name, tokens)
        await self.export(tokens)

    async def export(self, tokens: TokenSet | None) -> list[exports.Target]:
        """Write the access token and the instance URL to every file declared in
        `[connections.<name>.export]` (None: clear them there); the files written. Each
        failure goes to :meth:`TokenUI.export_failed`; none is raised."""
        if not exports.declared(self.connection):
            return []
        target = await self.destination()
        values = None if tokens is None else exports.Values(target.base_url, tokens.access_token)
        written, problems = await asyncio.to_thread(
            exports.export, self.connection, self.env.folder, self.env.roots, values
        )
        for message in problems:
            self.ui.export_failed(message)
        self.exported = written
        return written

    async def _with_client(self, run: Callable[[OAuthClient], Awaitable[TokenSet]]) -> TokenSet:
        if self.client is not None:
            return await run(self.client)
        from snowauth.oauth.client import OAuthClient  # httpx loads when a request is made

        async with OAuthClient() as client:
            return await run(client)

    def _grant(
        self, client: OAuthClient, conn: ResolvedConnection, report: Callable[[str], None]
    ) -> Awaitable[TokenSet]:
        """The connection's own grant, the person reached through the UI (browser, code)."""
        return client.fetch(
            conn,
            open_browser=self.ui.open_browser,
            on_progress=report,
            # a UI that cannot ask fails before the browser opens (oauth.errors.needs_code_prompt)
            ask_code=(lambda: self.ui.ask_code(self.name)) if self.ui.can_ask else None,
        )

    async def _exchange(self, run: Callable[[OAuthClient], Awaitable[TokenSet]]) -> TokenSet:
        try:
            return await self._with_client(run)
        except Exception as exc:
            if self._from_keychain and getattr(exc, "code", None) == "access-denied":
                # a remembered answer the instance rejects is asked again next time
                await self.forget_answers(self._from_keychain)
            self.ui.exchange_failed(exc)
            raise

    # -- the operations -----------------------------------------------------------------------

    async def obtain(self) -> Obtained:
        """A token to use: the stored one with ≥ 60 s left, else a refreshed one (falling
        back to a grant that needs no person), else the connection's grant; stored."""
        # a ${prompt} password is asked for only when the grant itself runs
        conn = await self.resolve(no_prompt=frozenset({"password", "otp"}))
        stored = await self.stored(conn)
        if stored is not None and usable(stored):
            return Obtained(stored, False)
        async with self.ui.progress(f"fetching a token for {self.name}") as report:
            if stored is not None and stored.refresh_token:
                refresh_token = stored.refresh_token

                async def run(client: OAuthClient) -> TokenSet:
                    tokens, _ = await client.refresh_or_fallback(conn, refresh_token, on_progress=report)
                    return tokens

                tokens = await self._exchange(run)
            else:
                conn = await self.resolve()  # now ask for a ${prompt} password
                tokens = await self._exchange(lambda client: self._grant(client, conn, report))
            await self.save(conn, tokens)
        return Obtained(tokens, True)

    async def fetch(self) -> TokenSet:
        """Run the connection's own grant now and store the tokens."""
        conn = await self.resolve()
        async with self.ui.progress(f"fetching a token for {self.name}") as report:
            tokens = await self._exchange(lambda client: self._grant(client, conn, report))
            report("Storing the token…")
            await self.save(conn, tokens)
        return tokens

    async def refresh(self, *, fallback: bool = True) -> Refreshed:
        """Refresh now: with the stored refresh token, else (or when it is rejected) the
        connection's own grant when it needs no person; store the tokens. With
        ``fallback=False`` (the editor's unattended refresh) only the refresh grant runs:
        no stored refresh token, or a rejected one, is a failure."""
        # a ${prompt} password is not asked for: refresh falls back only to grants that
        # need no person
        conn = await self.resolve(no_prompt=frozenset({"password", "otp"}))
        stored = await self.stored(conn)
        refresh_token = stored.refresh_token if stored else None
        if not fallback and not refresh_token:
            raise conns.ConnectionProblem(f"The connection “{self.name}” has no refresh token: fetch a new token")
        async with self.ui.progress(f"refreshing the token of {self.name}") as report:

            async def run(client: OAuthClient) -> TokenSet:
                if not fallback:
                    assert refresh_token is not None
                    return await client.refresh(conn, refresh_token, on_progress=report)
                tokens, _fell_back = await client.refresh_or_fallback(conn, refresh_token, on_progress=report)
                return tokens

            tokens = await self._exchange(run)
            await self.save(conn, tokens)
        return Refreshed(tokens, stored)

    async def revoke(self) -> None:
        """Revoke the stored tokens at the instance (the refresh token first), then remove
        them from the cache or the file."""
        conn = await self.resolve(need_secrets=False)
        stored = await self.stored(conn)
        if stored is None:
            raise conns.ConnectionProblem(f"The connection “{self.name}” has no stored token to revoke")
        async with self.ui.progress(f"revoking the token of {self.name}"):

            async def run(client: OAuthClient) -> TokenSet:
                await client.revoke(conn, [x for x in (stored.refresh_token, stored.access_token) if x])
                return stored

            await self._with_client(run)
        if self.store != "file":
            kept, key = self._kept(), self.cache_key(conn)
            await self._keep(lambda: kept.delete(key))
        else:
            await self.ui.write_tokens(self.name, None)
        await self.export(None)

    async def access_token(
        self, refresh: Callable[[], Awaitable[TokenSet]] | None = None
    ) -> tuple[ResolvedConnection, str]:
        """The connection (without secrets) and a stored access token with ≥ 60 s left,
        refreshed first when it has less (by ``refresh``, default :meth:`refresh`)."""
        conn = await self.resolve(need_secrets=False)
        stored = await self.stored(conn)
        if stored is None:
            raise conns.ConnectionProblem(f"The connection “{self.name}” has no token yet: run Fetch token first")
        if not usable(stored):
            stored = await refresh() if refresh is not None else (await self.refresh()).tokens
        return conn, stored.access_token
