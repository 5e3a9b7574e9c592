"""`workspace/executeCommand`: fetch, refresh, revoke, test, insert.

Each handler picks the connection, resolves it (refusing one with errors), runs the
exchange with work-done progress, stores or removes the token through a versioned
`workspace/applyEdit` (or the token cache), and renders failures itself: a JSON-RPC
error plus `window/showMessage`, never a traceback, never a secret.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException

from snowauth import connections as conns
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.findings import ERROR, Finding
from snowauth.lsp.documents import Document, uri_path
from snowauth.lsp.server import SnowauthServer, log_exception
from snowauth.secrets import Environment
from snowauth.token_edits import toml_datetime

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from snowauth.oauth.client import OAuthClient
    from snowauth.oauth.types import ResolvedConnection, TokenSet

logger = logging.getLogger("snowauth.lsp.commands")
REQUEST_FAILED = -32803
EDIT_ATTEMPTS = 5
LEAD_LENGTH = 100  # what a one-line notification shows of a failure, roughly
SHOW_PROBLEM = "Show Problem"
DETAILS = "Details"

# the connection a command acts on, once known: where its failure is shown
_acting_on: ContextVar[tuple[str, Connection] | None] = ContextVar("snowauth_acting_on", default=None)


def plain(text: str) -> str:
    """``text`` for a plain-text channel (window/showMessage, logMessage, an error
    response): `code` spans become “quoted”, emphasis marks go."""
    text = re.sub(r"`([^`\n]*)`", r"“\1”", text).replace("`", "")
    return re.sub(r"(?<![\w*])\*{1,2}([^*\s][^*]*?)\*{1,2}(?![\w*])", r"\1", text)


def _first_sentence(text: str) -> str:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch in ".!?" and depth == 0 and (i + 1 == len(text) or text[i + 1] == " "):
            return text[: i + 1]
    return text


def lead(exc: BaseException | None, message: str) -> str:
    """The short first sentence of a failure (what failed), fit for one line; the
    error's own summary when it has one (the lockout warning of a rejected password)."""
    summary = getattr(exc, "summary", None)
    if isinstance(summary, str) and summary:
        return summary
    first = _first_sentence(message)
    if len(first) > LEAD_LENGTH:  # drop the asides in parentheses first
        first = re.sub(r" \([^()]*\)", "", first)
    if len(first) > LEAD_LENGTH:
        cut = first[: LEAD_LENGTH - 1]
        first = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",;: ") + "…"
    return first


def local_time(when: datetime, now: datetime | None = None) -> str:
    """``when`` in the local time of day ("10:42"), with the date when not today."""
    local = when.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")


class CommandFailed(JsonRpcException):
    """The JSON-RPC error of a command that failed in a way the user can fix."""

    CODE = REQUEST_FAILED


class CommandError(Exception):
    """A failure to report to the user as it is (no secret inside)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class _Shared:
    """One running exchange and how many requests wait for it."""

    def __init__(self, task: asyncio.Future[dict[str, Any]]) -> None:
        self.task = task
        self.waiters = 0


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    if not args:
        return {}
    raise CommandError('The command takes one argument object: {"uri": …, "connection": …}')


class Commands:
    def __init__(self, ls: SnowauthServer) -> None:
        self.ls = ls
        self._client: OAuthClient | None = None
        self._inflight: dict[tuple[str, str, str], _Shared] = {}

    # -- plumbing -----------------------------------------------------------------------

    @property
    def client(self) -> OAuthClient:
        if self._client is None:
            from snowauth.oauth.client import OAuthClient  # httpx loads on first use only

            self._client = OAuthClient()
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def run(self, op: str, args: tuple[Any, ...]) -> dict[str, Any]:
        from snowauth.oauth.errors import OAuthError

        running = getattr(self.ls.protocol, "running_commands", None)
        request = self.ls.protocol.msg_id
        task = asyncio.current_task()
        if running is not None and request is not None and task is not None:
            running[request] = task  # so that $/cancelRequest reaches this task
        _acting_on.set(None)
        failure: BaseException | None = None
        try:
            params = _arg(args)
            result: dict[str, Any] = await getattr(self, op)(params)
            return result
        except (CommandError, conns.ConnectionProblem, OAuthError) as exc:
            failure, message = exc, str(exc)
        except Exception as exc:  # a bug: log its type and frames, never its message
            log_exception(op, exc)
            message = "An internal error stopped the command; the server log has the details."
        finally:
            if running is not None and request is not None:
                running.pop(request, None)
        self._report(op, failure, message, _acting_on.get())
        raise CommandFailed(message=message)

    # -- what the user reads --------------------------------------------------------------

    @property
    def _client_announces(self) -> bool:
        """The client shows each command's result itself (the SnowAuth extension does)."""
        return bool(self._own_capabilities.get("successMessages"))

    @property
    def _message_actions(self) -> bool:
        """The client shows a failure with actions (window/showMessageRequest) without
        getting in the way: the SnowAuth extension does; Neovim would ask modally."""
        return bool(self._own_capabilities.get("messageActions"))

    @property
    def _own_capabilities(self) -> dict[str, Any]:
        exp = self.ls.cap("experimental")
        own = exp.get("snowauth") if isinstance(exp, dict) else None
        return own if isinstance(own, dict) else {}

    def _announce(self, text: str) -> None:
        """One success message per action: from the server, unless the client shows its own."""
        if not self._client_announces:
            self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Info, f"SnowAuth: {plain(text)}"))

    def _problem_range(self, uri: str, c: Connection, exc: BaseException | None) -> t.Range | None:
        """Where the failure's diagnostic is (the key to fix, else the header), when the
        open document has one for this connection."""
        live = self.ls.docs.get(uri)
        if live is None or not any(getattr(f, "connection", None) == c.name for f in live.extra):
            return None
        current = live.analysis(self.ls.env).connections.get(c.name)
        if current is None:
            return None
        key = getattr(exc, "key", None)
        assign = current.keys.get(key) if isinstance(key, str) else None
        start, end = (assign.key.start, assign.key.end) if assign is not None else current.header
        return live.converter(self.ls.encoding).range(start, end)

    def _report(self, op: str, exc: BaseException | None, message: str, where: tuple[str, Connection] | None) -> None:
        """A failure, said once: a short first sentence (what failed, and the lockout
        warning when there is one) in the notification, the rest behind "Show Problem"
        (the diagnostic) or "Details"; the whole text as one line of the log."""
        name = f" ({where[1].name})" if where else ""
        self.ls.window_log_message(
            t.LogMessageParams(t.MessageType.Warning, f"{op}{name} failed: {' '.join(message.split())}")
        )
        message = plain(message)  # the error response keeps the text as it is, for the CLI-like clients
        short = plain(lead(exc, message))
        problem = self._problem_range(where[0], where[1], exc) if where else None
        if short == message and problem is None:
            self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Error, f"SnowAuth: {message}"))
            return
        if not self._message_actions:
            pointer = "see the problem in the file" if problem is not None else "see the language server log"
            text = f"SnowAuth: {short} Details: {pointer}."
            self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Error, text))
            return
        action = SHOW_PROBLEM if problem is not None else DETAILS

        async def ask() -> None:
            try:
                answer = await self.ls.window_show_message_request_async(
                    t.ShowMessageRequestParams(t.MessageType.Error, f"SnowAuth: {short}", [t.MessageActionItem(action)])
                )
                if answer is None or answer.title != action:
                    return
                if action == DETAILS or where is None or problem is None:
                    self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Error, f"SnowAuth: {message}"))
                    return
                await self.ls.window_show_document_async(
                    t.ShowDocumentParams(where[0], take_focus=True, selection=problem)
                )
            except Exception as exc:  # the client went away, or could not show it: nothing to add
                logger.info("the failure's action could not be shown: %s", type(exc).__name__)

        self.ls.spawn(ask())

    def _target(self, p: dict[str, Any]) -> tuple[Document, Analysis, Connection]:
        uri = p.get("uri")
        if not isinstance(uri, str):
            raise CommandError('The command needs the connection file\'s "uri"')
        doc = self.ls.docs.get(uri) or self._from_disk(uri)
        a = doc.analysis(self.ls.env)
        offset = None
        pos = p.get("position")
        if p.get("connection") is None and isinstance(pos, dict):
            conv = doc.converter(self.ls.encoding)
            offset = conv.offset(t.Position(int(pos.get("line", 0)), int(pos.get("character", 0))))
        name = p.get("connection")
        c = conns.select(a, name if isinstance(name, str) else None, offset)
        _acting_on.set((doc.uri, c))
        return doc, a, c

    @staticmethod
    def _from_disk(uri: str) -> Document:
        from snowauth.files import read_text

        path = uri_path(uri)
        if path is None or not path.is_file():
            raise CommandError(f"The connection file is neither open nor on disk: {uri}")
        try:
            return Document(uri, read_text(path)[0], None)
        except OSError as exc:  # too large, swapped for a FIFO meanwhile, unreadable
            raise CommandError(f"Cannot read the connection file {uri}: {exc.strerror or exc}") from None

    def _require_trust(self) -> None:
        if not self.ls.trusted:
            raise CommandError(
                "This workspace is not trusted: SnowAuth validates it but sends no credentials. "
                "Trust the workspace to fetch tokens."
            )

    @property
    def _can_prompt(self) -> bool:
        exp = self.ls.cap("experimental")
        return isinstance(exp, dict) and bool((exp.get("snowauth") or {}).get("promptSecret"))

    async def _prompt(self, connection: str, key: str, uri: str) -> str | None:
        from snowauth import redact

        title = f"SnowAuth: {key.replace('_', ' ')} for connection “{connection}”"
        msg_id = f"snowauth-prompt-{uuid4()}"
        redact.sensitive_message(msg_id)
        answer = await self.ls.protocol.send_request_async(
            # the file too: the client may run commands on several files at once
            "snowauth/promptSecret",
            {"connection": connection, "key": key, "title": title, "uri": uri},
            msg_id=msg_id,
        )
        value = answer.get("value") if isinstance(answer, dict) else getattr(answer, "value", None)
        if isinstance(value, str):
            redact.register(value)
            return value
        return None

    async def _resolve(
        self, doc: Document, a: Analysis, c: Connection, **kw: Any
    ) -> tuple[ResolvedConnection, conns.Destination]:
        """Resolve the connection, once the user agreed to send to its destination (before
        any secret is read or asked for). The instance and trust settings are read once:
        the request goes where the user agreed, and the destination keys the token cache."""
        env = Environment(self.ls.env, doc.folder)
        target = await asyncio.to_thread(conns.destination, a, c, env)
        await self._confirm_host(c.name, target)
        prompt = (lambda name, key: self._prompt(name, key, doc.uri)) if self._can_prompt else None
        conn = await conns.resolve(a, c, env, prompt, target=target, **kw)
        return conn, target

    async def _confirm_host(self, name: str, target: conns.Destination) -> None:
        from snowauth.trust import KnownHosts, question, refusal

        known = KnownHosts()
        if await asyncio.to_thread(known.trusted, target.base_url, target.trust):
            return
        send, cancel = t.MessageActionItem("Send"), t.MessageActionItem("Cancel")
        # the origin comes first, alone on its line; the file's text (the connection name)
        # only after it, escaped and cut short
        message = question(name, target.base_url, target.trust)
        try:
            answer = await self.ls.window_show_message_request_async(
                t.ShowMessageRequestParams(t.MessageType.Warning, message, [send, cancel])
            )
        except Exception:  # the client could not ask: that is no consent
            answer = None
        if answer is None or answer.title != send.title:
            raise CommandError(refusal(target.base_url, target.trust))
        await asyncio.to_thread(known.remember, target.base_url, target.trust)

    @asynccontextmanager
    async def _progress(self, title: str) -> AsyncIterator[Callable[[str], None]]:
        if not self.ls.cap("window.work_done_progress"):
            yield lambda _message: None
            return
        token = str(uuid4())
        progress = self.ls.work_done_progress
        try:
            await progress.create_async(token)
        except Exception:
            yield lambda _message: None
            return
        progress.begin(token, t.WorkDoneProgressBegin(title=title, cancellable=False))
        try:
            yield lambda message: progress.report(token, t.WorkDoneProgressReport(message=message))
        finally:
            progress.end(token, t.WorkDoneProgressEnd())

    async def _open_browser(self, url: str) -> None:
        if self.ls.cap("window.show_document"):
            result = await self.ls.window_show_document_async(t.ShowDocumentParams(uri=url, external=True))
            if result.success:
                return
        self.ls.window_show_message(
            t.ShowMessageParams(t.MessageType.Info, f"SnowAuth: open this address to sign in: {url}")
        )

    @staticmethod
    def _cache_key(conn: ResolvedConnection, c: Connection, target: conns.Destination) -> str:
        """The cache entry of instance + client + user *under these trust settings*: tokens
        obtained with the system's CAs are never sent through another file's ca_bundle."""
        from snowauth.store import cache_key

        return cache_key(conn.base_url, conn.client_id, conns.cache_user(c), target.trust.fingerprint)

    async def _stored(self, c: Connection, conn: ResolvedConnection, target: conns.Destination) -> TokenSet | None:
        if conns.token_store(c) == "file":
            return conns.stored_tokens(c)
        from snowauth.store import TokenCache

        return await asyncio.to_thread(TokenCache().load, self._cache_key(conn, c, target))

    # -- failures shown where the fix is made -----------------------------------------------

    def _record_failure(self, doc: Document, c: Connection, exc: Exception) -> None:
        live = self.ls.docs.get(doc.uri)
        if live is None:
            return
        message = f"Fetching a token failed: {exc}"
        key = getattr(exc, "key", None)
        assign = (c.keys.get(key) or c.token.get(key)) if isinstance(key, str) else None
        if assign is None:  # no key to fix: the whole message on the connection
            extra = [Finding(c.header[0], c.header[1], ERROR, "fetch-failed", message, connection=c.name)]
        else:
            # the explanation once, on the key to fix; the header points there in a few
            # words (Problems lists both: the same paragraph twice read as two failures)
            at = (assign.key.start, assign.key.end)
            extra = [
                Finding(
                    c.header[0],
                    c.header[1],
                    ERROR,
                    "fetch-failed",
                    f"Fetch failed: see `{key}`",
                    related=[(*at, f"`{key}`: the full message is here")],
                    connection=c.name,
                ),
                Finding(*at, ERROR, "fetch-failed", message, connection=c.name),
            ]
        if live.version == doc.version:
            live.extra = extra
            self.ls.diagnostics_changed(doc.uri)

    def _clear_failure(self, uri: str) -> None:
        live = self.ls.docs.get(uri)
        if live is not None and live.extra:
            live.extra = []
            self.ls.diagnostics_changed(uri)

    # -- document edits ---------------------------------------------------------------------

    async def _edit_token(self, uri: str, name: str, make: Callable[[Analysis, Connection], list[Any]]) -> None:
        """Apply ``make``'s edits to the connection, against the version they were computed
        for; when the user typed meanwhile, compute them again."""
        for _ in range(EDIT_ATTEMPTS):
            doc = self.ls.docs.get(uri) or self._from_disk(uri)
            a = doc.analysis(self.ls.env)
            c = a.connections.get(name)
            if c is None:
                raise CommandError(f"The connection “{name}” is no longer in the file; nothing was written")
            edits = make(a, c)
            if not edits:
                return
            conv = doc.converter(self.ls.encoding)
            text_edits = [t.TextEdit(conv.range(e.start, e.end), e.text) for e in edits]
            version = doc.version
            if self.ls.document_changes:
                ident = t.OptionalVersionedTextDocumentIdentifier(uri, version)
                edit = t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(ident, list(text_edits))])
            else:
                edit = t.WorkspaceEdit(changes={uri: text_edits})
            result = await self.ls.workspace_apply_edit_async(
                t.ApplyWorkspaceEditParams(edit=edit, label="SnowAuth: store token")
            )
            if result.applied:
                return
            await asyncio.sleep(0.05)  # let the user's edit (didChange) arrive, then recompute
            live = self.ls.docs.get(uri)
            if live is None or live.version == version:
                reason = f" ({result.failure_reason})" if result.failure_reason else ""
                raise CommandError(f"The editor did not apply the token edit{reason}; the file is unchanged")
        raise CommandError("The file kept changing while the token was being written; fetch again")

    async def _store(
        self, doc: Document, c: Connection, conn: ResolvedConnection, target: conns.Destination, tokens: TokenSet
    ) -> None:
        if conns.token_store(c) == "cache":
            from snowauth.store import TokenCache

            await asyncio.to_thread(TokenCache().save, self._cache_key(conn, c, target), tokens)
            return
        from snowauth.token_edits import write_edits

        await self._edit_token(doc.uri, c.name, lambda a, cc: write_edits(a, cc, tokens))

    def _after_store(self, uri: str) -> None:
        self._clear_failure(uri)
        self.ls.check_git(uri)
        if self.ls.cap("workspace.code_lens.refresh_support"):
            self.ls.workspace_code_lens_refresh(None)

    @staticmethod
    def _summary(name: str, tokens: TokenSet) -> dict[str, Any]:
        exp = tokens.expires_at
        return {
            "connection": name,
            "token_type": tokens.token_type,
            "scope": tokens.scope,
            "expires_at": toml_datetime(exp) if exp else None,
        }

    async def _once(self, key: tuple[str, str, str], work: Callable[[], Any]) -> dict[str, Any]:
        """Concurrent runs of one command for one connection share one exchange; when
        every request waiting for it is cancelled, the exchange is cancelled too, so a
        cancelled fetch writes nothing."""
        entry = self._inflight.get(key)
        if entry is None:
            entry = _Shared(asyncio.ensure_future(work()))
            self._inflight[key] = entry
            done = entry
            entry.task.add_done_callback(
                lambda _f: self._inflight.pop(key, None) if self._inflight.get(key) is done else None
            )
        entry.waiters += 1
        try:
            return await asyncio.shield(entry.task)
        except asyncio.CancelledError:
            if entry.waiters == 1 and not entry.task.done():
                entry.task.cancel()
            raise
        finally:
            entry.waiters -= 1

    # -- the commands -------------------------------------------------------------------------

    async def fetch(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)

        async def work() -> dict[str, Any]:
            conn, target = await self._resolve(doc, a, c)
            async with self._progress(f"SnowAuth: fetching a token for {c.name}") as report:
                try:
                    tokens = await self.client.fetch(conn, open_browser=self._open_browser, on_progress=report)
                except Exception as exc:
                    self._record_failure(doc, c, exc)
                    raise
                report("Storing the token…")
                await self._store(doc, c, conn, target, tokens)
            self._after_store(doc.uri)
            exp = tokens.expires_at
            until = f", expires at {local_time(exp)}" if exp else " (no expiry given)"
            self._announce(f"token for {c.name} stored{until}.")
            return self._summary(c.name, tokens)

        return await self._once((doc.uri, c.name, "fetch"), work)

    async def refresh(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)

        async def work() -> dict[str, Any]:
            # a ${prompt} password is not asked for: refresh falls back only to grants that
            # need no person
            conn, target = await self._resolve(doc, a, c, no_prompt=frozenset({"password"}))
            stored = await self._stored(c, conn, target)
            async with self._progress(f"SnowAuth: refreshing the token of {c.name}") as report:
                try:
                    tokens, _fell_back = await self.client.refresh_or_fallback(
                        conn, stored.refresh_token if stored else None, on_progress=report
                    )
                except Exception as exc:
                    self._record_failure(doc, c, exc)
                    raise
                await self._store(doc, c, conn, target, tokens)
            self._after_store(doc.uri)
            # ServiceNow gives the same access token back within its lifetime, with a
            # later expiry: a refresh that seems to change nothing did something
            same = stored is not None and stored.access_token == tokens.access_token
            exp = tokens.expires_at
            at = local_time(exp) if exp else None
            if same:
                self._announce(
                    f"same token for {c.name}, expiry extended to {at}." if at else f"same token for {c.name}."
                )
            else:
                self._announce(
                    f"token for {c.name} refreshed, expires at {at}." if at else f"token for {c.name} refreshed."
                )
            return {**self._summary(c.name, tokens), "same_token": same}

        return await self._once((doc.uri, c.name, "refresh"), work)

    async def revoke(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)
        conn, target = await self._resolve(doc, a, c, need_secrets=False)
        stored = await self._stored(c, conn, target)
        if stored is None:
            raise CommandError(f"The connection “{c.name}” has no stored token to revoke")
        async with self._progress(f"SnowAuth: revoking the token of {c.name}"):
            await self.client.revoke(conn, [x for x in (stored.refresh_token, stored.access_token) if x])
        if conns.token_store(c) == "cache":
            from snowauth.store import TokenCache

            await asyncio.to_thread(TokenCache().delete, self._cache_key(conn, c, target))
        else:
            from snowauth.token_edits import remove_edits

            await self._edit_token(doc.uri, c.name, remove_edits)
        self._after_store(doc.uri)
        self._announce(f"token for {c.name} revoked.")
        return {"connection": c.name, "revoked": True}

    async def _usable_token(self, doc: Document, a: Analysis, c: Connection) -> tuple[ResolvedConnection, str]:
        conn, target = await self._resolve(doc, a, c, need_secrets=False)
        stored = await self._stored(c, conn, target)
        if stored is None:
            raise CommandError(f"The connection “{c.name}” has no token yet: run Fetch token first")
        if stored.expires_at is not None and stored.expires_at - datetime.now(UTC) < timedelta(seconds=60):
            await self.refresh({"uri": doc.uri, "connection": c.name})
            doc2 = self.ls.docs.get(doc.uri) or self._from_disk(doc.uri)
            c2 = doc2.analysis(self.ls.env).connections.get(c.name) or c
            stored = await self._stored(c2, conn, target)
            if stored is None:
                raise CommandError(f"The token of “{c.name}” could not be refreshed")
        return conn, stored.access_token

    async def test(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)
        conn, access = await self._usable_token(doc, a, c)
        async with self._progress(f"SnowAuth: testing {c.name}"):
            who = await self.client.whoami(conn, access)
        result: dict[str, Any] = {"connection": c.name, "instance": conn.base_url}
        result.update(who)
        name = who.get("user_name", "?")
        self._announce(f"{c.name} authenticates as {name}.")
        return result

    async def insert(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        target = p.get("target")
        if not isinstance(target, dict) or not isinstance(target.get("uri"), str):
            raise CommandError('insertToken needs a "target": {"uri", "position"}')
        fmt = p.get("format", "raw")
        if fmt not in ("raw", "header"):
            raise CommandError('"format" must be "raw" or "header"')
        doc, a, c = self._target(p)
        _conn, access = await self._usable_token(doc, a, c)
        text = f"Authorization: Bearer {access}" if fmt == "header" else access
        pos = target.get("position") or {}
        position = t.Position(int(pos.get("line", 0)), int(pos.get("character", 0)))
        other = self.ls.docs.get(target["uri"])
        version = other.version if other is not None else None
        edit_ = t.TextEdit(t.Range(position, position), text)
        if self.ls.document_changes:
            ident = t.OptionalVersionedTextDocumentIdentifier(target["uri"], version)
            edit = t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(ident, [edit_])])
        else:
            edit = t.WorkspaceEdit(changes={target["uri"]: [edit_]})
        result = await self.ls.workspace_apply_edit_async(
            t.ApplyWorkspaceEditParams(edit=edit, label="SnowAuth: insert token")
        )
        if not result.applied:
            raise CommandError("The editor did not insert the token (the document changed); try again")
        return {"connection": c.name, "inserted": True}


def register(ls: SnowauthServer) -> None:
    commands = Commands(ls)
    ls.snowauth_commands = commands  # type: ignore[attr-defined]

    for name, op in (
        ("snowauth.fetchToken", "fetch"),
        ("snowauth.refreshToken", "refresh"),
        ("snowauth.revokeToken", "revoke"),
        ("snowauth.testConnection", "test"),
        ("snowauth.insertToken", "insert"),
    ):

        def make(op: str) -> Callable[..., Any]:
            async def handler(*args: Any) -> dict[str, Any]:
                return await commands.run(op, args)

            return handler

        ls.command(name)(make(op))

    @ls.feature(t.SHUTDOWN)
    async def shutdown(_params: Any) -> None:
        await commands.close()
