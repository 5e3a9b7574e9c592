"""`workspace/executeCommand`: fetch, refresh, revoke, test, insert, register, and the
access token for another tool.

Each handler picks the connection and runs the token workflow (:mod:`snowauth.workflow`,
the policy the CLI shares) with the editor as its :class:`snowauth.workflow.TokenUI`:
questions as `window/showMessageRequest` and `snowauth/promptSecret`, work-done progress,
the token stored through a versioned `workspace/applyEdit` (:mod:`snowauth.lsp.token_edit`)
or the token cache. Failures are rendered once (:mod:`snowauth.lsp.reporting`): a JSON-RPC
error plus `window/showMessage`, never a traceback, never a secret. Concurrent runs of one
command on one connection share one exchange, and cancelling every request cancels it.
:class:`snowauth.lsp.unattended.Unattended` is the same adapter asking nobody, for the
refresh of :mod:`snowauth.lsp.auto_refresh` (``Commands.refresh_unattended``).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import uuid4

from lsprotocol import types as t

from snowauth.lsp import convert, ext
from snowauth.lsp.documents import Document
from snowauth.lsp.failures import CommandError, CommandFailed
from snowauth.lsp.lazy import LazyModule
from snowauth.lsp.server import SnowauthServer, log_exception
from snowauth.secrets import Environment

# The commands register at start; the token workflow, its stores and the exchange's
# errors load when the first command runs (or the first auto refresh is due): not on the
# way to the first diagnostics (docs/decisions.md, "Cold start: what the first diagnostics need").
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from snowauth import connections as conns
    from snowauth.analysis import Analysis
    from snowauth.document import Connection
    from snowauth.lsp.reporting import Reporter
    from snowauth.oauth.client import OAuthClient
    from snowauth.tokens import ResolvedConnection, TokenSet
    from snowauth.workflow import TokenWorkflow
else:
    conns = LazyModule("snowauth.connections")

R = TypeVar("R")

# the commands, by the id the client runs them with, and the method of Commands they run
COMMANDS = {**{command: action for action, command in ext.ACTIONS.items()}, ext.ACCESS_TOKEN: "access"}

# the one-time question of the paste-the-code sign-in (`snowauth/promptSecret`, once)
CODE_KEY = "authorization code"
CODE_PROMPT = "Paste the code the browser shows after you sign in"

# the connection a command acts on, once known: where its failure is shown
_acting_on: ContextVar[tuple[str, Connection] | None] = ContextVar("snowauth_acting_on", default=None)


class _Shared:
    """One running exchange and how many requests wait for it."""

    def __init__(self, task: asyncio.Future[Any]) -> None:
        self.task = task
        self.waiters = 0


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    if not args:
        return {}
    raise CommandError('The command takes one argument object: {"uri": …, "connection": …}')


class Editor:
    """The token workflow's :class:`snowauth.workflow.TokenUI` for one command on one
    connection of one document."""

    def __init__(self, commands: Commands, doc: Document, c: Connection) -> None:
        self.commands, self.ls, self.doc, self.connection = commands, commands.ls, doc, c

    @property
    def can_ask(self) -> bool:
        return self.ls.client_declares(ext.CAP_PROMPT_SECRET)

    @property
    def remembers_answers(self) -> bool:
        """A client that answers `${prompt}` keeps its own answers (VS Code's SecretStorage):
        the workflow does not use the keychain for them (``remember_prompts``), not even
        when it cannot ask now (:class:`snowauth.lsp.unattended.Unattended`)."""
        return self.ls.client_declares(ext.CAP_PROMPT_SECRET)

    async def ask_secret(
        self, connection: str, key: str, *, once: bool = False, password: bool = True, prompt: str | None = None
    ) -> str | None:
        from snowauth import redact

        title = f"SnowAuth: {key.replace('_', ' ')} for connection “{connection}”"
        msg_id = f"snowauth-prompt-{uuid4()}"
        redact.sensitive_message(msg_id)
        # the file too: the client may run commands on several files at once
        params: ext.PromptSecretParams = {"connection": connection, "key": key, "title": title, "uri": self.doc.uri}
        if once:
            params["once"] = True
        if not password:
            params["password"] = False
        if prompt is not None:
            params["prompt"] = prompt
        answer = await self.ls.protocol.send_request_async(ext.PROMPT_SECRET, params, msg_id=msg_id)
        value = answer.get("value") if isinstance(answer, dict) else getattr(answer, "value", None)
        if isinstance(value, str):
            redact.register(value)
            return value
        return None

    async def ask_code(self, connection: str) -> str | None:
        """The code the browser shows, through `snowauth/promptSecret` as a one-time
        password box (never remembered); a client without the prompt cannot be asked."""
        from snowauth import redact

        if not self.can_ask:
            raise conns.ConnectionProblem(
                f"“{connection}” signs in by pasting the code the browser shows, and this editor cannot "
                "ask for it (no snowauth/promptSecret): run `snowauth token` in a terminal, or use a "
                "client with the prompt (the VS Code extension)"
            )
        msg_id = f"snowauth-prompt-{uuid4()}"
        redact.sensitive_message(msg_id)
        params: ext.PromptSecretParams = {
            "connection": connection,
            "key": CODE_KEY,
            "title": f"SnowAuth: sign in to connection “{connection}”",
            "uri": self.doc.uri,
            "once": True,
            "password": True,
            "prompt": CODE_PROMPT,
        }
        answer = await self.ls.protocol.send_request_async(ext.PROMPT_SECRET, params, msg_id=msg_id)
        value = answer.get("value") if isinstance(answer, dict) else getattr(answer, "value", None)
        if isinstance(value, str):
            redact.register(value.strip())
            return value
        return None

    async def confirm_host(self, name: str, target: conns.Destination) -> bool:
        from snowauth.trust import question

        send, cancel = t.MessageActionItem(ext.HOST_SEND), t.MessageActionItem(ext.HOST_CANCEL)
        # the origin comes first, alone on its line; the file's text (the connection name)
        # only after it, escaped and cut short
        message = question(name, target.base_url, target.trust)
        try:
            answer = await self.ls.window_show_message_request_async(
                t.ShowMessageRequestParams(t.MessageType.Warning, message, [send, cancel])
            )
        except Exception:  # the client could not ask: that is no consent
            answer = None
        return answer is not None and answer.title == send.title

    async def open_browser(self, url: str) -> None:
        if self.ls.show_document:
            result = await self.ls.window_show_document_async(t.ShowDocumentParams(uri=url, external=True))
            if result.success:
                return
        self.ls.window_show_message(
            t.ShowMessageParams(t.MessageType.Info, f"SnowAuth: open this address to sign in: {url}")
        )

    def progress(self, title: str) -> AbstractAsyncContextManager[Callable[[str], None]]:
        return self.commands.reporter.progress(f"SnowAuth: {title}")

    def exchange_failed(self, exc: Exception) -> None:
        self.commands.reporter.record_failure(self.doc, self.connection, exc)

    def export_failed(self, message: str) -> None:
        self.commands.reporter.warn(message)

    async def write_tokens(self, connection: str, tokens: TokenSet | None) -> None:
        from snowauth.lsp.token_edit import edit_token
        from snowauth.token_edits import remove_edits, write_edits

        if tokens is None:
            await edit_token(self.ls, self.doc.uri, connection, remove_edits)
        else:
            await edit_token(self.ls, self.doc.uri, connection, lambda a, cc: write_edits(a, cc, tokens))


class Commands:
    def __init__(self, ls: SnowauthServer) -> None:
        self.ls = ls
        self._reporter: Reporter | None = None
        self._client: OAuthClient | None = None
        self._inflight: dict[tuple[str, str, str], _Shared] = {}

    @property
    def reporter(self) -> Reporter:
        if self._reporter is None:
            from snowauth.lsp.reporting import Reporter

            self._reporter = Reporter(self.ls)
        return self._reporter

    # -- plumbing -----------------------------------------------------------------------

    @property
    def client(self) -> OAuthClient:
        if self._client is None:
            # here, not at the top: httpx would add ~60 ms (min of 21 runs) to a server start of ~630 ms
            from snowauth.oauth.client import OAuthClient

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
        self.reporter.report(op, failure, message, _acting_on.get())
        raise CommandFailed(message=message)

    def _target(self, p: dict[str, Any]) -> tuple[Document, Analysis, Connection]:
        uri = p.get("uri")
        if not isinstance(uri, str):
            raise CommandError('The command needs the connection file\'s "uri"')
        from snowauth.lsp.token_edit import from_disk

        doc = self.ls.docs.get(uri) or from_disk(uri)
        a = doc.analysis(self.ls.env)
        offset = None
        pos = p.get("position")
        if p.get("connection") is None and isinstance(pos, dict):
            offset = doc.converter(self.ls.encoding).offset(convert.client_position(pos))
        name = p.get("connection")
        c = conns.select(a, name if isinstance(name, str) else None, offset)
        _acting_on.set((doc.uri, c))
        return doc, a, c

    def _require_trust(self) -> None:
        if not self.ls.trusted:
            raise CommandError(
                "This workspace is not trusted: SnowAuth validates it but sends no credentials. "
                "Trust the workspace to fetch tokens."
            )

    def _workflow(self, doc: Document, a: Analysis, c: Connection) -> TokenWorkflow:
        from snowauth.workflow import TokenWorkflow

        env = Environment(self.ls.env, doc.folder)
        return TokenWorkflow(a, c, env, Editor(self, doc, c), client=self.client)

    def _after_store(self, uri: str) -> None:
        self.reporter.clear_failure(uri)
        if self.ls.auto_refresh is not None:
            self.ls.auto_refresh.tokens_changed(uri)
        self.ls.check_git(uri)
        if self.ls.code_lens_refresh:
            self.ls.workspace_code_lens_refresh(None)

    @staticmethod
    def _summary(name: str, tokens: TokenSet) -> dict[str, Any]:
        from snowauth.token_edits import toml_datetime

        exp = tokens.expires_at
        return {
            "connection": name,
            "token_type": tokens.token_type,
            "scope": tokens.scope,
            "expires_at": toml_datetime(exp) if exp else None,
        }

    async def _once(self, key: tuple[str, str, str], work: Callable[[], Awaitable[R]]) -> R:
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
            result: R = await asyncio.shield(entry.task)
            return result
        except asyncio.CancelledError:
            if entry.waiters == 1 and not entry.task.done():
                entry.task.cancel()
            raise
        finally:
            entry.waiters -= 1

    # -- the commands -------------------------------------------------------------------------

    async def fetch(self, p: dict[str, Any]) -> dict[str, Any]:
        summary, _tokens = await self._fetch(p)
        return summary

    async def _fetch(self, p: dict[str, Any]) -> tuple[dict[str, Any], TokenSet]:
        self._require_trust()
        doc, a, c = self._target(p)

        async def work() -> tuple[dict[str, Any], TokenSet]:
            from snowauth.lsp.reporting import local_time

            tokens = await self._workflow(doc, a, c).fetch()
            self._after_store(doc.uri)
            exp = tokens.expires_at
            until = f", expires at {local_time(exp)}" if exp else " (no expiry given)"
            self.reporter.announce(f"token for {c.name} stored{until}.")
            return self._summary(c.name, tokens), tokens

        return await self._once((doc.uri, c.name, "fetch"), work)

    async def refresh(self, p: dict[str, Any]) -> dict[str, Any]:
        summary, _tokens = await self._refresh(p)
        return summary

    async def _refresh(self, p: dict[str, Any]) -> tuple[dict[str, Any], TokenSet]:
        self._require_trust()
        doc, a, c = self._target(p)

        async def work() -> tuple[dict[str, Any], TokenSet]:
            from snowauth.lsp.reporting import local_time

            refreshed = await self._workflow(doc, a, c).refresh()
            self._after_store(doc.uri)
            tokens, same = refreshed.tokens, refreshed.same_token
            exp = tokens.expires_at
            at = local_time(exp) if exp else None
            if same:
                self.reporter.announce(
                    f"same token for {c.name}, expiry extended to {at}." if at else f"same token for {c.name}."
                )
            else:
                self.reporter.announce(
                    f"token for {c.name} refreshed, expires at {at}." if at else f"token for {c.name} refreshed."
                )
            return {**self._summary(c.name, tokens), "same_token": same}, tokens

        return await self._once((doc.uri, c.name, "refresh"), work)

    def refreshing(self, uri: str, name: str) -> bool:
        """A Refresh token of this connection is running (its outcome is reported by it)."""
        return (uri, name, "refresh") in self._inflight

    async def refresh_unattended(self, doc: Document, a: Analysis, c: Connection) -> TokenSet:
        """The refresh grant only, asking nobody (``unattended.Unattended``), stored as Refresh
        token stores; it joins a Refresh token running for the connection, and one that
        starts meanwhile joins it. No message on success."""

        async def work() -> tuple[dict[str, Any], TokenSet]:
            from snowauth.lsp.unattended import Unattended
            from snowauth.workflow import TokenWorkflow

            env = Environment(self.ls.env, doc.folder)
            workflow = TokenWorkflow(a, c, env, Unattended(self, doc, c), client=self.client)
            refreshed = await workflow.refresh(fallback=False)
            self._after_store(doc.uri)
            tokens = refreshed.tokens
            return {**self._summary(c.name, tokens), "same_token": refreshed.same_token}, tokens

        return (await self._once((doc.uri, c.name, "refresh"), work))[1]

    async def revoke(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)
        await self._workflow(doc, a, c).revoke()
        self._after_store(doc.uri)
        self.reporter.announce(f"token for {c.name} revoked.")
        return {"connection": c.name, "revoked": True}

    async def _access_token(self, doc: Document, a: Analysis, c: Connection) -> tuple[ResolvedConnection, str]:
        """The connection and an access token with at least 60 s left, refreshed (as the
        Refresh token command, sharing a refresh that is running) when it has less."""

        async def refresh() -> TokenSet:
            return (await self._refresh({"uri": doc.uri, "connection": c.name}))[1]

        return await self._workflow(doc, a, c).access_token(refresh)

    async def test(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        doc, a, c = self._target(p)
        conn, access = await self._access_token(doc, a, c)
        async with self.reporter.progress(f"SnowAuth: testing {c.name}"):
            who = await self.client.whoami(conn, access)
        result: dict[str, Any] = {"connection": c.name, "instance": conn.base_url}
        result.update(who)
        name = who.get("user_name")
        if name:
            self.reporter.announce(f"{c.name} authenticates as {name}.")
        else:
            self.reporter.announce(f"{c.name} authenticates; the instance did not say as which user.")
        return result

    async def diagnose(self, p: dict[str, Any]) -> dict[str, Any]:
        """Diagnose Connection (``ext.DiagnoseResult``): see :mod:`snowauth.lsp.diagnose`."""
        from snowauth.lsp.diagnose import diagnose_connection

        return await diagnose_connection(self, p)

    async def insert(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_trust()
        target = p.get("target")
        if not isinstance(target, dict) or not isinstance(target.get("uri"), str):
            raise CommandError('insertToken needs a "target": {"uri", "position"}')
        fmt = p.get("format", "raw")
        if fmt not in ("raw", "header"):
            raise CommandError('"format" must be "raw" or "header"')
        doc, a, c = self._target(p)
        _conn, access = await self._access_token(doc, a, c)
        text = f"Authorization: Bearer {access}" if fmt == "header" else access
        from snowauth.lsp.token_edit import insert_text

        await insert_text(self.ls, target["uri"], convert.client_position(target.get("position")), text)
        return {"connection": c.name, "inserted": True}

    async def register(self, p: dict[str, Any]) -> dict[str, Any]:
        """Register OAuth client (``ext.RegisterResult``): see :mod:`snowauth.lsp.register_client`."""
        from snowauth.lsp.register_client import register_client

        return await register_client(self, p)

    async def access(self, p: dict[str, Any]) -> dict[str, Any]:
        """A fresh access token for another tool (``ext.AccessTokenResult``): the stored
        one with ≥ 60 s left, else refreshed (as Refresh token); with none stored, fetched
        as Fetch token fetches (the same host question and prompts). The result is a
        secret: the token is registered with the log filter before the answer is sent."""
        from snowauth import redact
        from snowauth.token_edits import toml_datetime

        self._require_trust()
        doc, a, c = self._target(p)
        workflow = self._workflow(doc, a, c)
        conn = await workflow.resolve(need_secrets=False)
        stored = await workflow.stored(conn)
        if stored is None:
            tokens = (await self._fetch({"uri": doc.uri, "connection": c.name}))[1]
        else:
            refreshed: list[TokenSet] = []

            async def refresh() -> TokenSet:
                fresh = (await self._refresh({"uri": doc.uri, "connection": c.name}))[1]
                refreshed.append(fresh)
                return fresh

            _conn, _access = await workflow.access_token(refresh)
            tokens = refreshed[-1] if refreshed else stored
        redact.register(tokens.access_token)
        exp = tokens.expires_at
        result: ext.AccessTokenResult = {
            "connection": c.name,
            "access_token": tokens.access_token,
            "instance_url": conn.base_url,
            "expires_at": toml_datetime(exp) if exp else None,
        }
        return dict(result)


def register(ls: SnowauthServer) -> Commands:
    commands = Commands(ls)

    def make(op: str) -> Callable[..., Any]:
        async def handler(*args: Any) -> dict[str, Any]:
            return await commands.run(op, args)

        return handler

    for name, op in COMMANDS.items():
        ls.command(name)(make(op))

    @ls.feature(t.SHUTDOWN)
    async def shutdown(_params: Any) -> None:
        if ls.auto_refresh is not None:
            ls.auto_refresh.stop()
        await commands.close()

    return commands
