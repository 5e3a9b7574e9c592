"""The language server object: its state (open documents, environment, trust), what the
client supports, background work, and error reporting. Diagnostics publishing
(``diagnostics``), file watchers (``watching``) and the stdio transport (``stdio``) are
modules of their own."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types as t
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

from snowauth import __version__
from snowauth.lsp import convert, ext, stdio
from snowauth.lsp.diagnostics import Diagnostics
from snowauth.lsp.documents import Document
from snowauth.lsp.failures import CommandFailed
from snowauth.lsp.protocol import SnowauthProtocol
from snowauth.lsp.watching import FileWatcher

if TYPE_CHECKING:
    from snowauth.lsp.auto_refresh import AutoRefresh
    from snowauth.lsp.workspace_features import Project

logger = logging.getLogger("snowauth.lsp")


class SnowauthServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "snowauth",
            __version__,
            protocol_cls=SnowauthProtocol,
            text_document_sync_kind=t.TextDocumentSyncKind.Incremental,
            converter_factory=convert.converter,
        )
        #: the open documents (and none read from disk), by URI
        self.docs: dict[str, Document] = {}
        #: the environment `${env:}` references read
        self.env: dict[str, str] = dict(os.environ)
        #: false when the client said the workspace is not trusted (initializationOptions)
        self.trusted = True
        #: formatting aligns the values of a table (`format.alignValues`: lsp/layout_features.py)
        self.align_values = False
        #: false when the client asked for no workspace-wide diagnostics (initializationOptions)
        self.workspace_diagnostics = True
        #: folder -> gitstate of its .env (found in trusted workspaces only)
        self.dotenv_git: dict[Path, str] = {}
        self.diagnostics = Diagnostics(self)
        self.watcher = FileWatcher(self)
        #: keeps the tokens of open documents fresh (set when the server is made: lsp/main.py)
        self.auto_refresh: AutoRefresh | None = None
        #: the workspace's connection files, opened or not (set by lsp/workspace_features.py)
        self.project: Project | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

        @self.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        def did_change_watched_files(params: t.DidChangeWatchedFilesParams) -> None:
            self.watcher.files_changed(params)

    def read_initialization_options(self, options: Any) -> None:
        """What the client sends at `initialize`: ``{"trusted": false}`` in an untrusted
        workspace (the VS Code extension), ``{"format": {"alignValues": true}}``;
        ``{"workspaceDiagnostics": false}`` checks the open documents only (no walk of the
        workspace folders)."""
        if isinstance(options, dict) and options.get("trusted") is False:
            self.trusted = False
        fmt = options.get("format") if isinstance(options, dict) else None
        if isinstance(fmt, dict) and isinstance(fmt.get("alignValues"), bool):
            self.align_values = fmt["alignValues"]
        if isinstance(options, dict) and options.get("workspaceDiagnostics") is False:
            self.workspace_diagnostics = False

    # -- what the client supports (pygls' lookup of its capabilities) ---------------------

    @property
    def show_document(self) -> bool:
        return get_capability(self.client_capabilities, "window.show_document") is not None

    @property
    def progress_support(self) -> bool:
        return get_capability(self.client_capabilities, "window.work_done_progress", False)

    def client_declares(self, name: str) -> bool:
        """Whether the client declares snowauth's own capability ``name`` (ext.CAP_*)."""
        return ext.client_declares(get_capability(self.client_capabilities, "experimental"), name)

    @property
    def encoding(self) -> str:
        return convert.encoding_name(self.workspace.position_encoding)

    @property
    def pull_diagnostics(self) -> bool:
        return get_capability(self.client_capabilities, "text_document.diagnostic") is not None

    @property
    def diagnostics_refresh(self) -> bool:
        return get_capability(self.client_capabilities, "workspace.diagnostics.refresh_support", False)

    @property
    def related_information(self) -> bool:
        caps = self.client_capabilities
        return get_capability(caps, "text_document.publish_diagnostics.related_information", False) or (
            self.pull_diagnostics
        )

    @property
    def diagnostic_tags(self) -> bool:
        caps = self.client_capabilities
        return (
            get_capability(caps, "text_document.publish_diagnostics.tag_support") is not None or self.pull_diagnostics
        )

    @property
    def markdown(self) -> bool:
        formats = get_capability(self.client_capabilities, "text_document.hover.content_format", [])
        return t.MarkupKind.Markdown in formats

    @property
    def completion_markdown(self) -> bool:
        return t.MarkupKind.Markdown in get_capability(
            self.client_capabilities, "text_document.completion.completion_item.documentation_format", []
        )

    @property
    def snippets(self) -> bool:
        return get_capability(
            self.client_capabilities, "text_document.completion.completion_item.snippet_support", False
        )

    @property
    def hierarchical_symbols(self) -> bool:
        return get_capability(
            self.client_capabilities, "text_document.document_symbol.hierarchical_document_symbol_support", False
        )

    @property
    def code_lens_refresh(self) -> bool:
        return get_capability(self.client_capabilities, "workspace.code_lens.refresh_support", False)

    @property
    def document_changes(self) -> bool:
        return get_capability(self.client_capabilities, "workspace.workspace_edit.document_changes", False)

    @property
    def resource_create(self) -> bool:
        ops = get_capability(self.client_capabilities, "workspace.workspace_edit.resource_operations", [])
        return t.ResourceOperationKind.Create in ops

    @property
    def watcher_registration(self) -> bool:
        return get_capability(
            self.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False
        )

    @property
    def relative_watch_patterns(self) -> bool:
        return get_capability(
            self.client_capabilities, "workspace.did_change_watched_files.relative_pattern_support", False
        )

    # -- documents ------------------------------------------------------------------------

    def converter(self, doc: Document) -> convert.Converter:
        doc.analysis(self.env)
        return doc.converter(self.encoding)

    def diagnostics_changed(self, uri: str) -> None:
        """Diagnostics of ``uri`` may have changed: push them, or ask a pull client to pull."""
        self.diagnostics.changed(uri)

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
            # the files its connections export the token to (confined ones only: git is
            # never asked about a path outside the folder)
            from snowauth.exports import confined
            from snowauth.secrets import allowed_roots

            roots = allowed_roots(doc.folder, self.env)
            exported = {
                t.path: await git_state_async(t.path)
                for c in doc.analysis(self.env).connections.values()
                for t in confined(c, doc.folder, roots)
            }
            if self.docs.get(uri) is doc and (state != doc.git or exported != doc.exports_git):
                doc.git, doc.exports_git = state, exported
                self.diagnostics.changed(uri)
            if doc.folder is not None:  # would the move-to-.env fix write a file git publishes?
                from snowauth.secrets import DOTENV

                self.dotenv_git[doc.folder] = await git_state_async(doc.folder / DOTENV)

        self.spawn(run())

    # -- transport ------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """As pygls does, but with stdin read by the event loop (``stdio``) when it can."""
        stdin = stdin or sys.stdin.buffer
        stdout = stdout or sys.stdout.buffer
        freeze_survivors()
        fixed_malloc_thresholds()
        if not stdio.can_serve(stdin, stdout):
            super().start_io(stdin, stdout)
            return
        self._stop_event = threading.Event()
        stdio.serve(self, stdin, stdout, self._stop_event)

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


def freeze_survivors() -> None:
    """After each full pass of the cyclic garbage collector, put what survived it out of
    the collector's sight (``gc.freeze``): a long file's analysis is a million objects
    that live as long as the document, and each full pass over them (every second or two
    while typing) took 40-250 ms, the slowest answers of a session; the next pass sees
    only what was made since. What was frozen is still freed when no longer referenced
    (reference counting); only cycles among it would stay (a few hundred objects over a
    session of 240 edits: docs/performance.md)."""
    if _freeze not in gc.callbacks:
        gc.callbacks.append(_freeze)


MMAP_THRESHOLD = 128 * 1024  # glibc's default, kept fixed


def fixed_malloc_thresholds() -> None:
    """Keep glibc's malloc from raising its mmap threshold (by default it grows to the
    largest block freed, up to 32 MB): a long file's outline (2.6 MB of JSON) would then
    come from the heap, and once freed stay resident under the next answers' peaks
    (docs/performance.md). With the threshold fixed, a large answer's bytes are mapped
    and given back when freed. Elsewhere (another libc, no ctypes) nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None:
            mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (fixed: no dynamic growth)
    except (OSError, AttributeError, ValueError):
        pass


def _freeze(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


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
