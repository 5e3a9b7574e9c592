"""What the user reads of a command: its success message, its progress, and its failure
said once (a short lead in the notification, the rest behind "Show Problem" or
"Details", the whole text in the log, the explanation as a diagnostic where the fix is
made). Never a traceback, never a secret."""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from lsprotocol import types as t

from snowauth.findings import ERROR, Finding
from snowauth.lsp import ext

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from snowauth.document import Connection
    from snowauth.lsp.documents import Document
    from snowauth.lsp.server import SnowauthServer

logger = logging.getLogger("snowauth.lsp.commands")
LEAD_LENGTH = 100  # what a one-line notification shows of a failure, roughly


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


class Reporter:
    """The messages, progress and failure diagnostics of the commands of one server."""

    def __init__(self, ls: SnowauthServer) -> None:
        self.ls = ls
        self._creating: set[asyncio.Future[Any]] = set()  # progress the client has not created yet

    @property
    def _client_announces(self) -> bool:
        """The client shows each command's result itself (the SnowAuth extension does)."""
        return self.ls.client_declares(ext.CAP_SUCCESS_MESSAGES)

    @property
    def _message_actions(self) -> bool:
        """The client shows a failure with actions (window/showMessageRequest) without
        getting in the way: the SnowAuth extension does; Neovim would ask modally."""
        return self.ls.client_declares(ext.CAP_MESSAGE_ACTIONS)

    def announce(self, text: str) -> None:
        """One success message per action: from the server, unless the client shows its own."""
        if not self._client_announces:
            self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Info, f"SnowAuth: {plain(text)}"))

    def warn(self, text: str) -> None:
        """A warning that does not fail the command (an export file not written): shown
        and logged, always (the client's own success message does not say it)."""
        self.ls.window_log_message(t.LogMessageParams(t.MessageType.Warning, " ".join(text.split())))
        self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Warning, f"SnowAuth: {plain(text)}"))

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

    def report(self, op: str, exc: BaseException | None, message: str, where: tuple[str, Connection] | None) -> None:
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
        action = ext.SHOW_PROBLEM if problem is not None else ext.DETAILS

        async def ask() -> None:
            try:
                answer = await self.ls.window_show_message_request_async(
                    t.ShowMessageRequestParams(t.MessageType.Error, f"SnowAuth: {short}", [t.MessageActionItem(action)])
                )
                if answer is None or answer.title != action:
                    return
                if action == ext.DETAILS or where is None or problem is None:
                    self.ls.window_show_message(t.ShowMessageParams(t.MessageType.Error, f"SnowAuth: {message}"))
                    return
                await self.ls.window_show_document_async(
                    t.ShowDocumentParams(where[0], take_focus=True, selection=problem)
                )
            except Exception as exc:  # the client went away, or could not show it: nothing to add
                logger.info("the failure's action could not be shown: %s", type(exc).__name__)

        self.ls.spawn(ask())

    @asynccontextmanager
    async def progress(self, title: str) -> AsyncIterator[Callable[[str], None]]:
        """Work-done progress titled ``title`` around a step; yields the step reporter.

        The step does not wait for the client to create the progress (a round trip, a
        tenth of a token fetch: docs/performance.md): once the client has answered, the
        begin is sent with the step's latest message, then its reports and end as they
        come (nothing when it refused); the step ends once the end is sent."""
        if not self.ls.progress_support:
            yield lambda _message: None
            return
        token = str(uuid4())
        progress = self.ls.work_done_progress
        # until the client answers, the step's latest message (the begin carries it: one
        # message instead of a begin and a report) and whether the step has ended
        answer: str | None = None  # "created" or "refused" once the client has answered
        latest: str | None = None
        ended = False

        def report(message: str) -> None:
            nonlocal latest
            if answer == "created":
                progress.report(token, t.WorkDoneProgressReport(message=message))
            latest = message

        def end() -> None:
            nonlocal ended
            if answer == "created":
                progress.end(token, t.WorkDoneProgressEnd())
            ended = True

        def answered(f: asyncio.Future[Any]) -> None:
            nonlocal answer
            if f.cancelled() or f.exception() is not None:
                answer = "refused"
                return
            answer = "created"
            progress.begin(token, t.WorkDoneProgressBegin(title=title, cancellable=False, message=latest))
            if ended:
                progress.end(token, t.WorkDoneProgressEnd())

        # sent now (a task would send it only when the step first waits)
        try:
            creating = self.ls.protocol.send_request_async(
                t.WINDOW_WORK_DONE_PROGRESS_CREATE, t.WorkDoneProgressCreateParams(token=token)
            )
        except Exception:
            yield lambda _message: None
            return
        self._creating.add(creating)  # held until the client answers
        creating.add_done_callback(self._creating.discard)
        creating.add_done_callback(answered)
        try:
            yield report
        finally:
            end()
            if answer is None:  # not answered yet: the progress ends before the step does
                await asyncio.wait([creating])

    # -- failures shown where the fix is made -----------------------------------------------

    def record_failure(self, doc: Document, c: Connection, exc: Exception) -> None:
        key = getattr(exc, "key", None)
        self.record_problem(doc, c, key if isinstance(key, str) else None, f"Fetching a token failed: {exc}")

    def record_problem(
        self,
        doc: Document,
        c: Connection,
        key: str | None,
        message: str,
        *,
        code: str = "fetch-failed",
        pointer: str = "Fetch failed",
        source: str | None = None,
    ) -> None:
        """A failure shown as a problem on the connection (the key to fix, else its
        header) until the document changes or the next success clears it: a failed
        fetch, refresh or diagnosis."""
        live = self.ls.docs.get(doc.uri)
        if live is None:
            return
        assign = (c.keys.get(key) or c.token.get(key)) if key is not None else None
        if assign is None:  # no key to fix: the whole message on the connection
            extra = [Finding(c.header[0], c.header[1], ERROR, code, message, connection=c.name, source=source)]
        else:
            # the explanation once, on the key to fix; the header points there in a few
            # words (Problems lists both: the same paragraph twice read as two failures)
            at = (assign.key.start, assign.key.end)
            extra = [
                Finding(
                    c.header[0],
                    c.header[1],
                    ERROR,
                    code,
                    f"{pointer}: see `{key}`",
                    related=[(*at, f"`{key}`: the full message is here")],
                    connection=c.name,
                    source=source,
                ),
                Finding(*at, ERROR, code, message, connection=c.name, source=source),
            ]
        if live.version == doc.version:
            live.extra = extra
            self.ls.diagnostics_changed(doc.uri)

    def clear_failure(self, uri: str) -> None:
        live = self.ls.docs.get(uri)
        if live is not None and live.extra:
            live.extra = []
            self.ls.diagnostics_changed(uri)
