"""The language server object: state, capabilities, and the diagnostics scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

from snowauth import __version__
from snowauth.findings import INFORMATION, Finding
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.lsp.failures import CommandFailed
from snowauth.lsp.protocol import SnowauthProtocol

logger = logging.getLogger("snowauth.lsp")

# Watched for every client that lets a server register watchers; plus, per document, the
# files its connections read (at most WATCHED_PER_DOCUMENT, WATCHED_MAX patterns in all:
# a hostile file naming 100,000 `${file:}` targets gets no 100,000 watchers).
EXIT_GRACE = 2.0  # seconds the background work has to end once the client said exit
MAX_DIAGNOSTICS = 1000  # per document; the rest are counted in one diagnostic
WATCHED_EVERYWHERE = ("**/.env", "**/*.snowauth.toml", "**/.gitignore")
WATCHED_PER_DOCUMENT = 50
WATCHED_MAX = 500
WATCH_SETTLE = 0.05  # seconds: file events that come together are handled together


def _glob_escape(name: str) -> str:
    """A file name as a glob that matches only it."""
    return "".join(f"[{ch}]" if ch in "*?[]{}" else ch for ch in name)


class SnowauthServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "snowauth",
            __version__,
            protocol_cls=SnowauthProtocol,
            text_document_sync_kind=t.TextDocumentSyncKind.Incremental,
            converter_factory=convert.converter,
        )
        self.docs: dict[str, Document] = {}
        self.env: dict[str, str] = dict(os.environ)
        self.trusted = True
        self._publishing: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watching: set[str] = set()  # glob patterns registered with the client
        self.dotenv_git: dict[Path, str] = {}  # folder -> gitstate of its .env (trusted only)
        self._changed_files: set[Path] = set()  # reported by the client, not yet handled

        @self.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        def did_change_watched_files(params: t.DidChangeWatchedFilesParams) -> None:
            self.files_changed(params)

    # -- client capabilities ------------------------------------------------------------

    def cap(self, path: str) -> Any:
        node: Any = self.client_capabilities
        for name in path.split("."):
            node = getattr(node, name, None)
            if node is None:
                return None
        return node

    @property
    def encoding(self) -> str:
        return convert.encoding_name(self.workspace.position_encoding)

    @property
    def pull_diagnostics(self) -> bool:
        return self.cap("text_document.diagnostic") is not None

    @property
    def markdown(self) -> bool:
        formats = self.cap("text_document.hover.content_format") or []
        return t.MarkupKind.Markdown in formats

    @property
    def completion_markdown(self) -> bool:
        formats = self.cap("text_document.completion.completion_item.documentation_format") or []
        return t.MarkupKind.Markdown in formats

    @property
    def snippets(self) -> bool:
        return bool(self.cap("text_document.completion.completion_item.snippet_support"))

    @property
    def document_changes(self) -> bool:
        return bool(self.cap("workspace.workspace_edit.document_changes"))

    @property
    def resource_create(self) -> bool:
        ops = self.cap("workspace.workspace_edit.resource_operations") or []
        return t.ResourceOperationKind.Create in ops

    # -- documents and diagnostics ------------------------------------------------------

    def document(self, uri: str) -> Document | None:
        return self.docs.get(uri)

    def converter(self, doc: Document) -> convert.Converter:
        doc.analysis(self.env)
        return doc.converter(self.encoding)

    def lsp_diagnostics(self, doc: Document) -> list[t.Diagnostic]:
        a = doc.analysis(self.env)
        conv = doc.converter(self.encoding)
        related = bool(self.cap("text_document.publish_diagnostics.related_information")) or self.pull_diagnostics
        tags = self.cap("text_document.publish_diagnostics.tag_support") is not None or self.pull_diagnostics
        from snowauth.gitstate import token_findings

        found = [*a.findings, *doc.extra, *token_findings(a, doc.git)]
        hidden = 0
        if len(found) > MAX_DIAGNOSTICS:
            # a hostile (or generated) file with 200,000 problems would make every edit send
            # tens of megabytes: the most severe first, the rest counted in one line
            hidden = len(found) - MAX_DIAGNOSTICS
            found = sorted(found, key=lambda f: (f.severity, f.start))[:MAX_DIAGNOSTICS]
        items = [
            convert.diagnostic(f, conv, doc.uri, related=related, tags=tags)
            for f in sorted(found, key=lambda f: (f.start, f.end))
        ]
        if hidden:
            more = Finding(
                0,
                0,
                INFORMATION,
                "too-many-problems",
                f"{hidden} more problems are not shown (the editor shows the first {MAX_DIAGNOSTICS}): "
                "run `snowauth check` on this file to list them all",
            )
            items.insert(0, convert.diagnostic(more, conv, doc.uri, related=related, tags=tags))
        return items

    def check_git(self, uri: str) -> None:
        """Find out (in the background) whether git would publish the file's tokens. Not in
        an untrusted workspace: git would read that workspace's repository, whose
        configuration can name commands (see gitstate)."""
        doc = self.docs.get(uri)
        if doc is None or doc.path is None or not self.trusted:
            return

        async def run() -> None:
            from snowauth.gitstate import git_state_async

            # git runs three processes: start them once the answer that led here (a fetch,
            # an open) has gone out, not while it is being sent
            await asyncio.sleep(0.01)
            assert doc.path is not None
            state = await git_state_async(doc.path)
            if self.docs.get(uri) is doc and state != doc.git:
                doc.git = state
                self.diagnostics_changed(uri)
            if doc.folder is not None:  # would the move-to-.env fix write a file git publishes?
                from snowauth.secrets import DOTENV

                self.dotenv_git[doc.folder] = await git_state_async(doc.folder / DOTENV)

        self.spawn(run())

    async def tick(self, period: float = 30.0) -> None:
        """Keep time-dependent results current: a token that expires turns its diagnostic
        and lens state over without an edit."""
        while True:
            await asyncio.sleep(period)
            now = datetime.now(UTC)
            has_tokens = False
            for uri, doc in list(self.docs.items()):
                a, since = doc._analysis, doc.analysed_at
                if a is None or since is None:
                    continue
                expiries = [e for c in a.connections.values() if (e := c.token_expiry) is not None]
                has_tokens = has_tokens or bool(expiries)
                if any(since < e <= now for e in expiries):
                    doc.invalidate()
                    self.diagnostics_changed(uri)
            if has_tokens and self.cap("workspace.code_lens.refresh_support"):
                self.workspace_code_lens_refresh(None)

    def diagnostics_changed(self, uri: str) -> None:
        """Diagnostics of ``uri`` may have changed: push them, or ask a pull client to pull."""
        if self.pull_diagnostics:
            if self.cap("workspace.diagnostics.refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        if uri in self._publishing:
            return  # the running loop publishes the latest version when it wakes
        self._publishing[uri] = self.spawn(self._publish_loop(uri))

    async def _publish_loop(self, uri: str) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # let a burst of queued edits land first
                doc = self.docs.get(uri)
                if doc is None:
                    return
                version = doc.version
                items = self.lsp_diagnostics(doc)
                self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, items, version))
                if doc.version == version and self.docs.get(uri) is doc:
                    return
        finally:
            self._publishing.pop(uri, None)

    def clear_diagnostics(self, uri: str) -> None:
        if not self.pull_diagnostics:
            self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, []))

    # -- files the documents depend on --------------------------------------------------------

    def dependencies(self, doc: Document) -> set[Path]:
        """The files (absolute, as written and with links resolved) whose content changes
        the document's findings: its .env, `${file:}` targets, `jwt_key_file`, `ca_bundle`."""
        from snowauth.secrets import DOTENV, ReferenceSyntaxError, file_reference_path, parse_reference

        folder = doc.folder
        if folder is None:
            return set()
        found = [folder / DOTENV]
        for c in doc.analysis(self.env).connections.values():
            for key, a in c.keys.items():
                if a.value.kind != "string":
                    continue
                value = str(a.value.data)
                if key in ("jwt_key_file", "ca_bundle") and value and "${" not in value:
                    found.append(file_reference_path(value, folder))
                    continue
                try:
                    ref = parse_reference(value)
                except ReferenceSyntaxError:
                    continue
                if ref is not None and ref.kind == "file":
                    found.append(file_reference_path(ref.argument, folder))
            if len(found) > WATCHED_PER_DOCUMENT:
                break
        out: set[Path] = set()
        for path in found[: WATCHED_PER_DOCUMENT + 1]:
            out.add(Path(os.path.normpath(path)))
            with contextlib.suppress(OSError, RuntimeError):
                out.add(path.resolve())
        return out

    def watch(self, uri: str) -> None:
        """Ask the client to tell us when the document's .env, `${file:}` targets or key
        files change (and any `.env`, `.gitignore` or connection file), when it lets a
        server register watchers; new patterns only. (The VS Code extension also watches
        `*.snowauth.toml` and `.env` itself; ``files_changed`` handles a file once per
        notification, however many watchers reported it.)"""
        doc = self.docs.get(uri)
        if doc is None or not self.cap("workspace.did_change_watched_files.dynamic_registration"):
            return
        relative = bool(self.cap("workspace.did_change_watched_files.relative_pattern_support"))
        watchers: list[t.FileSystemWatcher] = []
        for pattern in WATCHED_EVERYWHERE:
            if pattern not in self._watching:
                self._watching.add(pattern)
                watchers.append(t.FileSystemWatcher(glob_pattern=pattern))
        for path in sorted(self.dependencies(doc)):
            if path.name == ".env" or len(self._watching) >= WATCHED_MAX:
                continue
            if relative:
                key = str(path)
                glob: t.GlobPattern = t.RelativePattern(base_uri=path.parent.as_uri(), pattern=_glob_escape(path.name))
            else:  # a glob matched against the workspace's files: any file of that name
                key = glob = "**/" + _glob_escape(path.name)
            if key not in self._watching:
                self._watching.add(key)
                watchers.append(t.FileSystemWatcher(glob_pattern=glob))
        if not watchers:
            return
        registration = t.Registration(
            id=f"snowauth-watch-{len(self._watching)}",
            method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=t.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )

        async def register() -> None:
            try:
                await self.client_register_capability_async(t.RegistrationParams([registration]))
            except Exception as exc:  # the client refused: documents are re-checked on edits only
                logger.info("the client did not register file watchers (%s)", type(exc).__name__)

        self.spawn(register())

    def files_changed(self, params: t.DidChangeWatchedFilesParams) -> None:
        """Files changed on disk: re-check the open documents that read them, and find out
        again what git thinks when a .env or .gitignore changed. Events that come within
        WATCH_SETTLE seconds are handled together, once per file (VS Code reports a file
        once per watcher that matches it: the extension's and ours)."""
        from snowauth.lsp.documents import uri_path

        first = not self._changed_files
        for event in params.changes:
            path = uri_path(event.uri)
            if path is not None:
                self._changed_files.add(Path(os.path.normpath(path)))
                with contextlib.suppress(OSError, RuntimeError):
                    self._changed_files.add(path.resolve())
        if first and self._changed_files:

            async def settle() -> None:
                await asyncio.sleep(WATCH_SETTLE)
                changed, self._changed_files = self._changed_files, set()
                self._recheck(changed)

            self.spawn(settle())

    def _recheck(self, changed: set[Path]) -> None:
        git_files = any(p.name in (".gitignore", ".env") for p in changed)
        rechecked = []
        for uri, doc in list(self.docs.items()):
            if doc.version is None:
                continue
            if not self.dependencies(doc).isdisjoint(changed):
                doc.invalidate()
                if doc._engine is not None:
                    doc._engine.environment_changed()
                rechecked.append(uri)
            if git_files:
                self.check_git(uri)
        if not rechecked:
            return
        if self.pull_diagnostics:
            if self.cap("workspace.diagnostics.refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        for uri in rechecked:
            self.diagnostics_changed(uri)

    # -- transport ------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """As pygls does, but with stdin read by the event loop: pygls reads each line in a
        worker thread, a hop of ~0.1 ms per line, three lines a message. Falls back to
        pygls' way when stdin is not a pipe or socket (a file, /dev/null, a terminal) or
        is the very socket stdout writes to."""
        stdin = stdin or sys.stdin.buffer
        try:
            st_in = os.fstat(stdin.fileno())
            st_out = os.fstat((stdout or sys.stdout.buffer).fileno())
            # the loop makes stdin non-blocking: not when stdout is the same socket or pipe
            ok = (stat.S_ISFIFO(st_in.st_mode) or stat.S_ISSOCK(st_in.st_mode)) and (
                (st_in.st_dev, st_in.st_ino) != (st_out.st_dev, st_out.st_ino)
            )
        except (OSError, ValueError, AttributeError):
            ok = False
        if not ok:
            super().start_io(stdin, stdout)
            return
        from pygls.io_ import run_async

        stop = self._stop_event = threading.Event()
        self.protocol.set_writer(_WholeWriter(stdout or sys.stdout.buffer))

        async def serve() -> None:
            reader = asyncio.StreamReader(limit=1 << 20)
            loop = asyncio.get_running_loop()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
            try:
                await run_async(
                    stop_event=stop,
                    reader=_Resynchronising(reader),
                    protocol=self.protocol,
                    logger=logger,
                    error_handler=self.report_server_error,
                )
            except asyncio.IncompleteReadError:
                logger.info("The client closed the connection in the middle of a message")

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # as asyncio.run does (subprocesses, get_event_loop)
        try:
            loop.run_until_complete(serve())
        except BrokenPipeError:
            logger.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            try:
                _cancel_within(loop, EXIT_GRACE)
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                self.shutdown()  # type: ignore[no-untyped-call]

    # -- background work ----------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log_exception("background task", exc)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would show "Error in server: {error}" to the user: the message may hold
        # document text. Log the type and frames only; a command's reported failure
        # (already shown to the user) is not a server error.
        if not is_reported_failure(error):
            log_exception("server", error)


class _WholeWriter:
    """Writes every byte of a message. pygls' writer gives up on the rest of a short
    write, which a non-blocking pipe (some editors hand one over) or a signal can cause,
    and a message cut in the middle ends the session."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._fd = stream.fileno()

    def write(self, data: bytes) -> None:
        import select

        self._stream.flush()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:
                select.select([], [self._fd], [], 5.0)
            except InterruptedError:
                continue

    def close(self) -> None:
        self._stream.close()


class _Resynchronising:
    """A header reader that finds `Content-Length:` anywhere in a line: stray bytes
    without a line break (a client bug, a broken proxy) are glued by the reader to the
    next header line, and pygls, which wants the header at the start of the line, would
    then ignore every message that follows."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        line = await self._reader.readline()
        at = line.find(b"Content-Length:")
        if at > 0:
            logger.warning("dropped %d stray bytes before a message header", at)
            return line[at:]
        return line

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)


def is_reported_failure(exc: BaseException | None) -> bool:
    return isinstance(exc, CommandFailed)


class QuietReportedFailures(logging.Filter):
    """pygls logs every failed request with its traceback; a command failure that was
    reported to the user is expected, not an error of the server."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_reported_failure(record.exc_info[1]))


def log_exception(where: str, exc: BaseException) -> None:
    """Log an unexpected exception without its message (which may quote user text)."""
    frames = "".join(traceback.format_tb(exc.__traceback__)) if exc.__traceback__ else ""
    logger.error("%s failed: %s\n%s", where, type(exc).__name__, frames)


def guarded(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One broken feature must not take a request (or the server) down."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                log_exception(fn.__name__, exc)
                return default

        inner.__name__ = fn.__name__
        inner.__doc__ = fn.__doc__
        return inner

    return wrap


def _cancel_within(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    """Cancel what still runs on ``loop`` and give it ``grace`` seconds to end. asyncio.run
    waits for every cancelled task without bound, and one that did not end (seen once in
    a hundred exits under load, with git checks in flight) kept the process alive after
    the client's `exit`: the editor then waits for a server that never goes."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _done, stuck = loop.run_until_complete(asyncio.wait(pending, timeout=grace))
    for task in stuck:
        logger.warning("Exiting without waiting for %r", task.get_coro())
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
