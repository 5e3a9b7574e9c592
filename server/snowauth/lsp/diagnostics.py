"""A document's diagnostics: which findings it shows (at most MAX_DIAGNOSTICS), and when
they go to the client again: after edits, file changes and git checks (pushed, or a
refresh asked of a pull client), and when a token expires (``expiry_tick``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lsprotocol import types as t

from snowauth.collector import gc_paused
from snowauth.findings import INFORMATION, Finding
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.workspace import expiries

if TYPE_CHECKING:
    from snowauth.lsp.server import SnowauthServer

MAX_DIAGNOSTICS = 1000  # per document; the rest are counted in one diagnostic
TICK = 30.0  # seconds between two looks for tokens that expired
EXPIRY_SLACK = 0.05  # seconds after a token's expiry that it is looked at


class Diagnostics:
    """Diagnostics of the open documents of one client, and the publishing loops running."""

    def __init__(self, ls: SnowauthServer) -> None:
        self._ls = ls
        self._publishing: dict[str, asyncio.Task[None]] = {}

    def of(self, doc: Document) -> list[t.Diagnostic]:
        """The document's diagnostics: its findings, the last failed fetch, the token
        findings of its git state; the most severe MAX_DIAGNOSTICS when there are more."""
        from snowauth.gitstate import export_findings, token_findings

        ls = self._ls
        a = doc.analysis(ls.env)
        conv = doc.converter(ls.encoding)
        found = [*a.findings, *doc.extra, *token_findings(a, doc.git)]
        if doc.exports_git:  # (else none: and asking would list every connection at every edit)
            found += export_findings(a, doc.exports_git, doc.folder)
        items = self.convert(found, conv, doc.uri)
        if ls.project is not None:  # a connection name or `default` in another file too
            items.extend(ls.project.cross_diagnostics(doc))
        return items

    def convert(self, found: list[Finding], conv: convert.Converter, uri: str) -> list[t.Diagnostic]:
        """Findings of one file as diagnostics (``shown``)."""
        ls = self._ls
        related, tags = ls.related_information, ls.diagnostic_tags
        return [convert.diagnostic(f, conv, uri, related=related, tags=tags) for f in shown(found)]

    def changed(self, *uris: str) -> None:
        """Diagnostics of ``uris`` may have changed: push them, or ask a pull client to pull."""
        ls = self._ls
        if ls.project is not None:  # other files' cross-file findings may change too
            ls.project.soon()
        if ls.pull_diagnostics:
            if ls.diagnostics_refresh:
                ls.workspace_diagnostic_refresh(None)
            return
        for uri in uris:
            if uri not in self._publishing:  # else the running loop publishes the latest version
                self._publishing[uri] = ls.spawn(self._publish_loop(uri))

    async def _publish_loop(self, uri: str) -> None:
        ls = self._ls
        try:
            while True:
                await asyncio.sleep(0)  # let a burst of queued edits land first
                doc = ls.docs.get(uri)
                if doc is None:
                    return
                version = doc.version
                # the collector's one pass over a new analysis' objects (~20 ms at 10,000
                # lines) comes after the diagnostics are sent, not before
                with gc_paused():
                    items = self.of(doc)
                    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, items, version))
                if doc.version == version and ls.docs.get(uri) is doc:
                    return
        finally:
            self._publishing.pop(uri, None)

    def clear(self, uri: str) -> None:
        """The document was closed: a push client drops its diagnostics, unless the file is
        one of the workspace's, whose diagnostics come from its text on disk again."""
        ls = self._ls
        if ls.project is not None and ls.project.closed(uri):
            return
        if not ls.pull_diagnostics:
            ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, []))


def shown(found: list[Finding]) -> list[Finding]:
    """The findings a file shows, in order: the most severe MAX_DIAGNOSTICS when there are
    more, after one line counting the rest."""
    hidden = 0
    if len(found) > MAX_DIAGNOSTICS:
        # a hostile (or generated) file with 200,000 problems would make every edit send
        # tens of megabytes: the most severe first, the rest counted in one line
        hidden = len(found) - MAX_DIAGNOSTICS
        found = sorted(found, key=lambda f: (f.severity, f.start))[:MAX_DIAGNOSTICS]
    out = sorted(found, key=lambda f: (f.start, f.end))
    if hidden:
        more = Finding(
            0,
            0,
            INFORMATION,
            "too-many-problems",
            f"{hidden} more problems are not shown (the editor shows the first {MAX_DIAGNOSTICS}): "
            "run `snowauth check` on this file to list them all",
        )
        out.insert(0, more)
    return out


async def expiry_tick(ls: SnowauthServer, period: float = TICK) -> None:
    """Keep time-dependent results current: a token that expires turns its diagnostic
    and lens state over without an edit, in an open document or in a file no editor holds
    open (workspace diagnostics). Looks every ``period`` seconds, and at the next expiry
    when that comes sooner."""
    while True:
        if not await _slept(ls, _until_next_look(ls, period)):
            continue  # a file with tokens was analysed meanwhile: its expiries may come sooner
        now = datetime.now(UTC)
        has_tokens = False
        for uri, doc in list(ls.docs.items()):
            a, since = doc.last_analysis, doc.analysed_at
            if a is None or since is None:
                continue
            turns = expiries(a)
            has_tokens = has_tokens or bool(turns)
            if any(since < e <= now for e in turns):
                doc.invalidate()
                ls.diagnostics.changed(uri)
        if ls.project is not None:
            ls.project.tokens_expired(now)
        if has_tokens and ls.code_lens_refresh:
            ls.workspace_code_lens_refresh(None)


async def _slept(ls: SnowauthServer, seconds: float) -> bool:
    """Sleep ``seconds``; False when woken earlier by the workspace's analyses."""
    if ls.project is None:
        await asyncio.sleep(seconds)
        return True
    wake = ls.project.expiries_changed
    try:
        await asyncio.wait_for(wake.wait(), seconds)
    except TimeoutError:
        return True
    wake.clear()
    return False


def _until_next_look(ls: SnowauthServer, period: float) -> float:
    """Seconds to the next look: ``period``, or less when a token expires sooner (a
    moment after it, so that it has expired when looked at)."""
    now = datetime.now(UTC)
    due = [e for doc in list(ls.docs.values()) if (a := doc.last_analysis) is not None for e in expiries(a) if e > now]
    if ls.project is not None and (later := ls.project.index.next_expiry(now)) is not None:
        due.append(later)
    if not due:
        return period
    return min(period, (min(due) - now).total_seconds() + EXPIRY_SLACK)
