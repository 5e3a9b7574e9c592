"""The workspace's connection files, opened or not: `workspace/diagnostic` for a pull
client (full reports for the files no editor holds open, "unchanged" when the client's
previous result is still right), diagnostics pushed for them to a push client (after
`initialized`, on file changes, when a document closes), cross-file findings, git's
findings on their tokens (trusted workspaces), and `workspace/symbol`. Finding and
analysing the files is the core's (``snowauth.workspace``), done off the event loop. The
bounds and rules: docs/decisions.md, "Workspace-wide diagnostics"."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t
from pygls.protocol import JsonRPCNotification
from pygls.uris import from_fs_path

from snowauth.files import SUFFIX
from snowauth.findings import ERROR, Finding
from snowauth.lsp import convert
from snowauth.lsp.diagnostics import shown
from snowauth.lsp.documents import Document, uri_path
from snowauth.lsp.server import log_exception
from snowauth.positions import LineIndex
from snowauth.workspace import CrossFinding, Entry, Facts, Index, cross_file, facts, matches

if TYPE_CHECKING:
    from snowauth.lsp.server import SnowauthServer

logger = logging.getLogger("snowauth.lsp")

MAX_SYMBOLS = 500
"""Workspace symbols in one answer (the editor asks again as the query grows)."""
WALK_AGAIN = 30.0
"""Seconds after which the files are walked again for a client that reports no file changes."""
SETTLE = 0.3
"""Seconds an edit waits before the other files' cross-file findings are looked at again."""
MAX_GIT_FILES = 100
"""Files no editor holds open that git is asked about in one pass (two or three processes each)."""

#: what git said of a file no editor holds open: its state and its export targets' (gitstate)
GitFacts = tuple[str, dict[Path, str]]


class Project:
    """The workspace folders of one client and their connection files."""

    def __init__(self, ls: SnowauthServer) -> None:
        self._ls = ls
        self.index = Index(ls.env)
        self._walked = 0.0
        self._ids: dict[Path, tuple[object, str]] = {}  # path -> (what its report is made of, result id)
        self._next_id = 0
        self._pushed: dict[Path, object] = {}  # push clients: what each file's last publish was made of
        self._crossed: dict[Path, object] = {}  # open documents: their last cross-file findings
        self._pending: asyncio.Task[None] | None = None
        #: the facts cross_file was given last, its result, and each file's signature
        self._cross_cache: tuple[list[Facts], dict[Path, list[CrossFinding]], dict[Path, tuple[object, ...]]] | None
        self._cross_cache = None
        #: set when the files analysed have a token expiry sooner than before (``expiry_tick``)
        self.expiries_changed = asyncio.Event()
        self._next_expiry: datetime | None = None
        self._git: dict[Path, tuple[int, GitFacts]] = {}  # path -> (the analysis' stamp, what git said)
        self._git_task: asyncio.Task[None] | None = None
        self._git_again = False

    # -- the files ---------------------------------------------------------------------------

    def roots(self) -> list[Path]:
        """The workspace folders (`workspaceFolders`, else `rootUri`) on this machine; none
        when the client asked for no workspace-wide diagnostics."""
        if not self._ls.workspace_diagnostics:
            return []
        ws = self._ls.workspace
        uris = [f.uri for f in ws.folders.values()] or ([ws.root_uri] if ws.root_uri else [])
        return [p for uri in uris if (p := uri_path(uri)) is not None]

    def open_documents(self) -> dict[Path, Document]:
        return {d.path: d for d in self._ls.docs.values() if d.path is not None and d.version is not None}

    async def refresh(self) -> list[Path]:
        """The connection files, each file no editor holds open read (when it changed) and
        analysed: in a worker thread, so that a large workspace never blocks the server."""
        self.index.set_roots(self.roots())
        if not self._ls.watcher_registration and time.monotonic() - self._walked > WALK_AGAIN:
            self.index.rewalk()  # no file events from this client: look again now and then
            self._walked = time.monotonic()
        opened = set(self.open_documents())

        def load() -> list[Path]:
            files = self.index.files()
            for path in files:
                if path not in opened:
                    self.index.entry(path)
            return files

        files = await asyncio.to_thread(load)
        soonest = self.index.next_expiry(datetime.now(UTC))
        if soonest is not None and soonest != self._next_expiry:
            self.expiries_changed.set()
        self._next_expiry = soonest
        return files

    def _facts(self, files: list[Path]) -> list[Facts]:
        """What every file says, open documents from their live text."""
        out: dict[Path, Facts] = {}
        for path in files:
            e = self.index.cached(path)
            if e is not None:
                out[path] = e.facts
        for path, doc in self.open_documents().items():
            if path.name.endswith(SUFFIX):
                out[path] = self.document_facts(doc)
        return list(out.values())

    def document_facts(self, doc: Document) -> Facts:
        assert doc.path is not None
        found = doc.cache.get("workspace-facts")
        if not isinstance(found, Facts):
            found = facts(doc.path, doc.analysis(self._ls.env))
            doc.cache["workspace-facts"] = found
        return found

    def crossed(self) -> dict[Path, list[CrossFinding]]:
        """The cross-file findings of every file, from what is known now (no reading);
        computed again only when a file's facts changed (a new analysis, an edit)."""
        found = self._facts(self.index.known())
        cached = self._cross_cache
        if (
            cached is None
            or len(cached[0]) != len(found)
            or any(a is not b for a, b in zip(cached[0], found, strict=True))
        ):
            if cached is not None and _only_moved(cached[0], found, cached[1]):
                self._cross_cache = cached = (found, cached[1], cached[2])
            else:
                self._cross_cache = cached = (found, cross_file(found, self.index.label), {})
        return cached[1]

    def signature(self, path: Path) -> tuple[object, ...]:
        """What the file's cross-file findings are made of (compared, not shown)."""
        crossed = self.crossed()
        assert self._cross_cache is not None
        signatures = self._cross_cache[2]
        if path not in signatures:
            signatures[path] = _signature(crossed.get(path, []))
        return signatures[path]

    # -- diagnostics ----------------------------------------------------------------------------

    def _locator(self) -> convert.Locate:
        """Spans of other files as locations (their converters made once per answer)."""
        ls = self._ls
        opened = self.open_documents()
        made: dict[Path, tuple[str, convert.Converter] | None] = {}
        spans: dict[tuple[Path, int, int], dict[str, Any] | None] = {}

        def locate(path: Path, start: int, end: int) -> dict[str, Any] | None:
            if (path, start, end) in spans:  # the same few headers, over and over
                return spans[path, start, end]
            if path not in made:
                doc = opened.get(path)
                e = self.index.cached(path) if doc is None else None
                if doc is not None:
                    made[path] = (doc.uri, ls.converter(doc))
                elif e is not None:
                    made[path] = (_uri(path), _converter(e, ls.encoding))
                else:
                    made[path] = None
            found = made[path]
            loc = {"uri": found[0], "range": found[1].range_json(start, end)} if found is not None else None
            spans[path, start, end] = loc
            return loc

        return locate

    def cross_diagnostics(self, doc: Document) -> list[t.Diagnostic]:
        """An open document's cross-file findings as diagnostics."""
        if doc.path is None or not doc.path.name.endswith(SUFFIX) or not self.roots():
            return []
        found = self.crossed().get(doc.path, [])
        self._crossed[doc.path] = self.signature(doc.path)
        conv = self._ls.converter(doc)
        related = self._ls.related_information
        locate = self._locator()
        return [convert.cross_file_lsp(c, conv, doc.uri, locate, related=related) for c in found]

    def _file_diagnostics(self, e: Entry, crossed: list[CrossFinding], locate: convert.Locate) -> list[dict[str, Any]]:
        """The diagnostics of a file no editor holds open, on the wire."""
        ls = self._ls
        conv = _converter(e, ls.encoding)
        uri = _uri(e.path)
        found = list(e.analysis.findings)
        if e.problem:
            found.append(Finding(0, 0, ERROR, "encoding", e.problem))
        known = self._git_shown(e.path)
        if known is not None:
            from snowauth.gitstate import export_findings, token_findings

            state, exported = known
            found += token_findings(e.analysis, state)
            found += export_findings(e.analysis, exported, e.path.parent)
        related, tags = ls.related_information, ls.diagnostic_tags
        items = [convert.diagnostic_json(f, conv, uri, related=related, tags=tags) for f in shown(found)]
        items.extend(convert.cross_file_diagnostic(c, conv, uri, locate, related=related) for c in crossed)
        return items

    def _reports(self, files: list[Path], crossed: dict[Path, list[CrossFinding]]) -> list[tuple[Path, Entry, object]]:
        """The files no editor holds open, their analyses and what their report is made of."""
        opened = self.open_documents()
        out: list[tuple[Path, Entry, object]] = []
        for path in files:
            e = self.index.cached(path)
            if path in opened or e is None:
                continue
            out.append((path, e, (e.stamp, self.signature(path), self._ls.encoding, self._git_shown(path))))
        return out

    def _git_shown(self, path: Path) -> GitFacts | None:
        """What git said of the file's present analysis, when that shows a finding."""
        known = self._git.get(path)
        e = self.index.cached(path)
        if known is None or e is None or known[0] != e.stamp:
            return None
        from snowauth.gitstate import SAFE

        state, exported = known[1]
        return known[1] if state != SAFE or any(v != SAFE for v in exported.values()) else None

    def _git_soon(self, files: list[Path]) -> None:
        """Ask git about the files in the background (``_ask_git``): the reports go out
        now, and again once git's findings change them."""
        if not self._ls.trusted:
            return
        if self._git_task is not None and not self._git_task.done():
            self._git_again = True
            return
        self._git_task = self._ls.spawn(self._ask_git(files))

    async def _ask_git(self, files: list[Path]) -> None:
        """Whether git would publish the tokens of the files no editor holds open (or the
        files they export them to), as an open document is checked: asked again when a
        file's analysis changes (an edit on disk, a `.env` or `.gitignore` beside it), at
        most MAX_GIT_FILES files a pass (then the reports, then the next pass), never in an
        untrusted workspace (git obeys the repository's configuration: gitstate)."""
        from snowauth.exports import confined
        from snowauth.gitstate import SAFE, git_state_async
        from snowauth.secrets import allowed_roots

        opened = self.open_documents()
        asked = 0
        before = {path: self._git_shown(path) for path in files}
        for path in files:
            e = self.index.cached(path)
            known = self._git.get(path)
            if path in opened or e is None or (known is not None and known[0] == e.stamp):
                continue
            roots = allowed_roots(path.parent, self._ls.env)
            targets = [t.path for c in e.analysis.connections.values() for t in confined(c, path.parent, roots)]
            holds_tokens = "access_token" in e.text  # (as `snowauth check` decides)
            if holds_tokens or targets:
                if asked == MAX_GIT_FILES:
                    self._git_again = True  # the rest in the next pass, once these are shown
                    break
                asked += 1
            state = await git_state_async(path) if holds_tokens else SAFE
            exported = {target: await git_state_async(target) for target in targets}
            self._git[path] = (e.stamp, (state, exported))
        for path in set(self._git) - set(files):
            del self._git[path]
        if any(self._git_shown(path) != shown for path, shown in before.items()):
            self._show_again()
        self._git_task = None
        if self._git_again:  # asked while this pass ran
            self._git_again = False
            self._git_soon(self.index.known())

    def _result_id(self, path: Path, made_of: object) -> str:
        known = self._ids.get(path)
        if known is not None and known[0] == made_of:
            return known[1]
        self._next_id += 1
        self._ids[path] = (made_of, str(self._next_id))
        return str(self._next_id)

    async def workspace_report(self, params: t.WorkspaceDiagnosticParams) -> convert.WireObject:
        previous = {p.uri: p.value for p in params.previous_result_ids}
        files = await self.refresh()
        self._git_soon(files)
        crossed = self.crossed()
        locate = self._locator()
        items: list[dict[str, Any]] = []
        for path, e, made_of in self._reports(files, crossed):
            uri = _uri(path)
            result_id = self._result_id(path, made_of)
            if previous.get(uri) == result_id:
                items.append(convert.workspace_report(uri, result_id, None))
            else:
                found = self._file_diagnostics(e, crossed.get(path, []), locate)
                items.append(convert.workspace_report(uri, result_id, found))
        return convert.WireObject(items=items)

    # -- push clients, file changes -----------------------------------------------------------------

    def start(self) -> None:
        """After `initialized`: the files are found and analysed now; a push client gets
        their diagnostics."""
        if self.roots():
            self._ls.watcher.watch_workspace()
            self._ls.spawn(self._update())  # after the first documents are open

    async def publish(self) -> None:
        """Push the diagnostics of the files no editor holds open that changed since the last
        push (and empty ones for files that are gone); tell open documents whose cross-file
        findings changed."""
        ls = self._ls
        files = await self.refresh()
        self._git_soon(files)
        crossed = self.crossed()
        locate = self._locator()
        now = {}
        for path, e, made_of in self._reports(files, crossed):
            now[path] = made_of
            if self._pushed.get(path) != made_of:
                uri = _uri(path)
                items = self._file_diagnostics(e, crossed.get(path, []), locate)
                _notify_json(ls, t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, convert.publish_json(uri, items))
        opened = self.open_documents()
        for path in set(self._pushed) - set(now) - set(opened):  # deleted, or no longer found
            ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(_uri(path), []))
        self._pushed = now
        self._documents_crossed(crossed)

    def _documents_crossed(self, crossed: dict[Path, list[CrossFinding]]) -> None:
        """Open documents whose cross-file findings are not the ones they last showed:
        published again, or the pull client asked to pull (once per change)."""
        changed = []
        for path, doc in self.open_documents().items():
            now = self.signature(path)
            if path in self._crossed and self._crossed[path] != now:
                self._crossed[path] = now
                changed.append(doc.uri)
        if changed:
            self._ls.diagnostics.changed(*changed)

    async def _update(self, settle: float = SETTLE) -> None:
        await asyncio.sleep(settle)
        self._pending = None
        if not self.roots():
            return
        if self._ls.pull_diagnostics:
            await self.refresh()
            self._documents_crossed(self.crossed())
        else:
            await self.publish()

    def soon(self) -> None:
        """An open document changed: other files' cross-file findings may have too."""
        if self._pending is None and self.roots():
            self._pending = self._ls.spawn(self._update())

    def files_changed(self, changed: set[Path]) -> None:
        """Files changed on disk: a connection file created, deleted or changed updates the
        index; a `.env` (or any file connection files read) analyses again the connection
        files beside and above it. Pushed again, or the pull client asked to pull."""
        if not self.roots():
            return
        known = set(self.index.known())
        for path in changed:
            if path.name.endswith(SUFFIX):
                if path not in known or not path.exists():  # created or deleted: walk again
                    self.index.rewalk()
            else:
                self.index.forget_below(path)
        self._show_again()

    def _show_again(self) -> None:
        """The reports of the files no editor holds open changed: pushed again, or the pull
        client asked to pull."""
        ls = self._ls
        if ls.pull_diagnostics:
            if ls.diagnostics_refresh:
                ls.workspace_diagnostic_refresh(None)
            return
        ls.spawn(self.publish())

    def closed(self, uri: str) -> bool:
        """A document was closed: when it is one of the workspace's files, its diagnostics
        come from its text on disk again (pushed now, or in the next workspace pull)."""
        path = uri_path(uri)
        if path is None or not self.roots() or path not in set(self.index.known()):
            return False
        if not self._ls.pull_diagnostics:
            self._pushed.pop(path, None)
            self._crossed.pop(path, None)
        self._show_again()
        return True

    def tokens_expired(self, now: datetime) -> None:
        """Files no editor holds open whose stored token expired since their analysis:
        analysed again, and pushed (or the pull client asked to pull), as an open
        document's diagnostics turn over when its token expires."""
        if self.roots() and self.index.expired(now):
            self._show_again()

    # -- symbols ---------------------------------------------------------------------------------

    async def symbols(self, query: str) -> list[t.SymbolInformation]:
        files = await self.refresh()
        ls = self._ls
        opened = self.open_documents()
        paths = sorted({*files, *(p for p in opened if p.name.endswith(SUFFIX))}, key=str)
        out: list[t.SymbolInformation] = []
        for path in paths:
            doc = opened.get(path)
            if doc is not None:
                found, conv, uri = self.document_facts(doc), ls.converter(doc), doc.uri
            else:
                e = self.index.cached(path)
                if e is None:
                    continue
                found, conv, uri = e.facts, _converter(e, ls.encoding), _uri(path)
            label = self.index.label(path)
            for name in found.names:
                if matches(query, name):
                    start, end = found.header(name)
                    out.append(convert.workspace_symbol(name, uri, conv, start, end, label))
                    if len(out) >= MAX_SYMBOLS:
                        return out
        return out


def _notify_json(ls: SnowauthServer, method: str, params: convert.WireObject) -> None:
    """A notification whose params are already in their JSON form: pygls' ``notify`` would
    type them by the method (and unstructure them as lsprotocol objects)."""
    ls.protocol._send_data(JsonRPCNotification(method=method, params=params, jsonrpc="2.0"))


def _uri(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def _converter(e: Entry, encoding: str) -> convert.Converter:
    index: LineIndex = e.analysis.index
    return convert.Converter(index, encoding)


def _signature(found: list[CrossFinding]) -> tuple[object, ...]:
    return tuple((c.finding.code, c.finding.start, c.finding.end, c.finding.message, tuple(c.elsewhere)) for c in found)


def register(ls: SnowauthServer) -> None:
    project = ls.project = Project(ls)

    @ls.feature(t.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(params: t.WorkspaceDiagnosticParams) -> convert.WireObject:
        try:
            return await project.workspace_report(params)
        except Exception as exc:  # one broken feature must not take the server down
            log_exception("workspace_diagnostic", exc)
            return convert.WireObject(items=[])

    @ls.feature(t.WORKSPACE_SYMBOL)
    async def workspace_symbol(params: t.WorkspaceSymbolParams) -> list[t.SymbolInformation]:
        try:
            return await project.symbols(params.query)
        except Exception as exc:
            log_exception("workspace_symbol", exc)
            return []


def _only_moved(old: list[Facts], new: list[Facts], crossed: dict[Path, list[CrossFinding]]) -> bool:
    """Whether the cross-file findings of ``new`` are ``crossed`` (those of ``old``): every
    file that changed (an edit moves a document's text at every keystroke) kept its names
    and whether it has a `default`, and took part in no finding (none of its own, none
    pointing to it), so no span of it is shown anywhere."""
    if len(old) != len(new):
        return False
    involved: set[Path] | None = None
    for a, b in zip(old, new, strict=True):
        if a is b:
            continue
        if a.path != b.path or a.names != b.names or (a.default is None) != (b.default is None):
            return False
        if involved is None:
            involved = set(crossed)
            involved.update(path for found in crossed.values() for c in found for path, *_ in c.elsewhere)
        if a.path in involved:
            return False
    return True
