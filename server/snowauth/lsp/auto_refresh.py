"""Tokens kept fresh while their connection file is open (`auto_refresh`, and connections
with an `export` table: docs/reference.md).

Each open document of a trusted workspace has one timer task. It looks at the document's
connections that ask for it; each one whose stored token has a refresh token is due
:data:`MARGIN` before its access token expires. The task refreshes the due ones, then
sleeps until the next one is due (at most :data:`MAX_SLEEP`, so that a laptop waking from
suspend looks again soon) or until the document or its tokens change (an edit, a Fetch
or Refresh token, this refresh's own edit), and looks again. Closing the document cancels
its task, and the refresh it runs.

A refresh is the refresh grant only (``TokenWorkflow.refresh(fallback=False)``) through
the editor adapter in its unattended mode (``unattended.Unattended``): never a prompt, never
a browser, never the question before credentials go to a new host (if it is not yet
confirmed, nothing happens: the person confirms on their first Fetch token), never another
grant. The tokens are stored as Refresh token stores them, sharing a Refresh token that is
running for the connection. A failure becomes the usual problem on the connection and one
`window/showMessage`; that connection is not tried again until its text in the document or
its stored token changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lsprotocol import types as t

from snowauth.lsp.failures import CommandError
from snowauth.lsp.server import log_exception
from snowauth.secrets import Environment

# the connections' module, the unattended adapter, the token workflow and the exchange's
# errors load when a connection asks to be kept fresh: not on the way to the first
# diagnostics (lsp/commands.py)
if TYPE_CHECKING:
    from snowauth.analysis import Analysis
    from snowauth.document import Connection
    from snowauth.lsp.commands import Commands
    from snowauth.lsp.documents import Document
    from snowauth.lsp.server import SnowauthServer
    from snowauth.tokens import TokenSet

logger = logging.getLogger("snowauth.lsp.auto_refresh")

MARGIN = timedelta(minutes=2)  # a token with less left is refreshed
#: for the tests only: the margin in seconds, read when the server starts
MARGIN_ENV = "SNOWAUTH_AUTO_REFRESH_MARGIN"
MAX_SLEEP = 300.0  # seconds: the longest a task sleeps without looking again
SETTLE = 0.2  # seconds after a change before looking: a burst of keystrokes costs one look
MIN_GAP = timedelta(seconds=30)  # between two refreshes of one connection, whatever the tokens say

Key = tuple[str, str]  # (uri, connection name)


def margin_from_env(env: dict[str, str]) -> timedelta:
    """:data:`MARGIN`, or the test-only override of :data:`MARGIN_ENV` (seconds)."""
    raw = env.get(MARGIN_ENV)
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        seconds = None
    return timedelta(seconds=seconds) if seconds is not None and seconds >= 0 else MARGIN


def wanted(c: Connection) -> bool:
    """The connection asks to be kept fresh: `auto_refresh = true`, or exports declared."""
    return c.auto_refresh or c.has_exports


def _mark(tokens: TokenSet) -> tuple[object, ...]:
    """What tells one stored token from another (kept in memory only, as hashes)."""
    return (tokens.expires_at, hash(tokens.access_token), hash(tokens.refresh_token))


class AutoRefresh:
    """The timers of the open documents of one server (see the module docstring)."""

    def __init__(self, ls: SnowauthServer, commands: Commands) -> None:
        self.ls = ls
        self.commands = commands
        self.margin = margin_from_env(dict(os.environ))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._failed: dict[Key, tuple[object, ...]] = {}  # the token and text a refresh failed with
        self._refreshed: dict[Key, datetime] = {}  # when this refreshed the connection last

    # -- what happens to documents ------------------------------------------------------------

    def document_changed(self, uri: str) -> None:
        """Opened or edited: look again (a refresh that failed is tried again once the
        connection's text or its stored token is not the same)."""
        self.tokens_changed(uri)

    def tokens_changed(self, uri: str) -> None:
        """The document's tokens may have changed (a command stored some): look again."""
        if not self.ls.trusted or uri not in self.ls.docs:
            return
        event = self._wake.setdefault(uri, asyncio.Event())
        event.set()
        if uri not in self._tasks:
            self._tasks[uri] = self.ls.spawn(self._watch(uri, event))

    def document_closed(self, uri: str) -> None:
        task = self._tasks.pop(uri, None)
        if task is not None:
            task.cancel()
        self._wake.pop(uri, None)
        for table in (self._failed, self._refreshed):
            for key in [k for k in table if k[0] == uri]:
                del table[key]

    def stop(self) -> None:
        for uri in list(self._tasks):
            self.document_closed(uri)

    # -- the timer ------------------------------------------------------------------------------

    async def _watch(self, uri: str, event: asyncio.Event) -> None:
        try:
            while uri in self.ls.docs:
                await asyncio.sleep(SETTLE)
                event.clear()
                delay = await self._look(uri)
                if delay is None:
                    return  # nothing to keep fresh: the next change starts the task again
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(delay, MAX_SLEEP))
        finally:
            if self._tasks.get(uri) is asyncio.current_task():
                del self._tasks[uri]

    async def _look(self, uri: str) -> float | None:
        """Refresh the document's connections that are due; the seconds until the next one
        is (None: no connection asks to be kept fresh)."""
        doc = self.ls.docs.get(uri)
        if doc is None:
            return None
        a = doc.analysis(self.ls.env)
        asking = [c for c in a.connections.values() if wanted(c)]
        if not asking:
            return None
        from snowauth import connections as conns

        nearest = MAX_SLEEP
        for c in asking:
            if conns.errors_of(a, c):
                continue  # the problems are shown already; nothing half right is sent
            due = await self._due(doc, a, c)
            if due is None:
                continue
            when, mark = due
            left = (when - datetime.now(UTC)).total_seconds()
            if left > 0:
                nearest = min(nearest, left)
                continue
            await self._refresh(doc, a, c, mark)
            if self.ls.docs.get(uri) is not doc:
                break
            nearest = min(nearest, MIN_GAP.total_seconds())
        return nearest

    async def _due(self, doc: Document, a: Analysis, c: Connection) -> tuple[datetime, tuple[object, ...]] | None:
        """When the connection's stored token is to be refreshed (None: it cannot be, or
        its last refresh failed with this very token and connection text)."""
        from snowauth import connections as conns
        from snowauth.lsp.unattended import NotAsked, Unattended
        from snowauth.workflow import TokenWorkflow

        env = Environment(self.ls.env, doc.folder)
        workflow = TokenWorkflow(a, c, env, Unattended(self.commands, doc, c))
        try:
            conn = await workflow.resolve(need_secrets=False)
            stored = await workflow.stored(conn)
        except NotAsked:
            return None  # a destination not confirmed yet: the first Fetch token asks
        except conns.ConnectionProblem:
            return None  # the connection's problems are diagnostics already
        if stored is None or not stored.refresh_token or stored.expires_at is None:
            return None
        now = datetime.now(UTC)
        if stored.refresh_expires_at is not None and stored.refresh_expires_at <= now:
            return None  # the token's own diagnostic says so
        lo, hi = c.extent if c.segments else c.header
        key, mark = (doc.uri, c.name), (*_mark(stored), hash(doc.text[lo:hi]))
        if key in self._failed:
            if self._failed[key] == mark:
                return None
            del self._failed[key]  # another token now: it may be refreshed
        when = stored.expires_at - self.margin
        last = self._refreshed.get(key)
        if last is not None:  # a token that lives less than the margin: not in a loop
            when = max(when, last + max((stored.expires_at - last) / 2, MIN_GAP))
        return when, mark

    async def _refresh(self, doc: Document, a: Analysis, c: Connection, mark: tuple[object, ...]) -> None:
        from snowauth import connections as conns
        from snowauth.lsp.unattended import NotAsked
        from snowauth.oauth.errors import OAuthError

        key = (doc.uri, c.name)
        joined = self.commands.refreshing(doc.uri, c.name)
        try:
            await self.commands.refresh_unattended(doc, a, c)
            self._refreshed[key] = datetime.now(UTC)
            logger.info("the token of a connection was refreshed automatically")
        except NotAsked:
            return
        except (conns.ConnectionProblem, OAuthError, CommandError) as exc:
            self._failed[key] = mark
            if not joined:  # a Refresh token it joined reported its own failure
                self._report(doc, c, exc)
        except Exception as exc:  # a bug: log its type and frames, never its message
            self._failed[key] = mark
            log_exception("auto-refresh", exc)

    def _report(self, doc: Document, c: Connection, exc: Exception) -> None:
        """The problem on the connection, and one notification."""
        from snowauth.lsp.reporting import lead, plain

        self.commands.reporter.record_failure(doc, c, exc)
        message = plain(str(exc))
        self.ls.window_log_message(
            t.LogMessageParams(t.MessageType.Warning, f"auto-refresh ({c.name}) failed: {' '.join(message.split())}")
        )
        text = (
            f"SnowAuth: the token of “{c.name}” could not be refreshed automatically: {plain(lead(exc, message))} "
            "Run Fetch token; until then it is not tried again."
        )
        self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Error, text))
