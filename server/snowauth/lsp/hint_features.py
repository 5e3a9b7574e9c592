"""LSP handlers for inlay hints (``inlay_hints``) and semantic tokens
(``semantic_tokens``), and the one timer that asks the client to show the time hints
again when their wording changes (`workspace/inlayHint/refresh`)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

from lsprotocol import types as t
from pygls.capabilities import get_capability

from snowauth import semantic_tokens
from snowauth.collector import gc_paused
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.lsp.server import SnowauthServer, guarded
from snowauth.secrets import Environment

#: past the instant a hint's wording changes, so that it has changed when the client asks
SLACK = 0.05


def register(ls: SnowauthServer) -> None:
    refresh = HintRefresh(ls)
    register_semantic_tokens(ls)

    @ls.feature(t.TEXT_DOCUMENT_INLAY_HINT, t.InlayHintOptions(resolve_provider=False))
    @guarded(None)
    def inlay_hint(params: t.InlayHintParams) -> list[t.InlayHint] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        a = doc.analysis(ls.env)
        start, end = conv.offset(params.range.start), conv.offset(params.range.end)
        from snowauth import inlay_hints  # at the first request: not on the way to the first diagnostics

        now = datetime.now(UTC)
        found = inlay_hints.hints(a, start, end, Environment(ls.env, doc.folder), now)
        refresh.shown(doc.uri, inlay_hints.next_change(found, now))
        return convert.inlay_hints(found, conv)


class HintRefresh:
    """When a shown hint's wording changes ("in 5 min" becomes "in 4 min", "in 3 s"
    becomes "expired 0 s ago"), ask the client to ask again: one timer for every
    document, set for the first change; only for a client that takes the request
    (`workspace.inlayHint.refreshSupport`)."""

    def __init__(self, ls: SnowauthServer) -> None:
        self._ls = ls
        self._due: dict[str, datetime] = {}  # uri -> first change of the hints shown last
        self._timer: asyncio.TimerHandle | None = None
        self._at: datetime | None = None

    @property
    def supported(self) -> bool:
        return bool(get_capability(self._ls.client_capabilities, "workspace.inlay_hint.refresh_support", False))

    def shown(self, uri: str, change: datetime | None) -> None:
        if change is None or not self.supported:
            return
        known = self._due.get(uri)
        if known is None or change < known:
            self._due[uri] = change
        self._arm()

    def _arm(self) -> None:
        due = min(self._due.values(), default=None)
        if due is not None and self._timer is not None and self._at == due:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._at = None
        if due is None:
            return
        delay = max(0.0, (due - datetime.now(UTC)).total_seconds()) + SLACK
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)
        self._at = due

    def _fire(self) -> None:
        self._timer = self._at = None
        now = datetime.now(UTC)
        changed = [uri for uri, due in self._due.items() if due <= now]
        for uri in changed:
            del self._due[uri]  # the client's next request sets it again
        for uri in [u for u in self._due if u not in self._ls.docs]:
            del self._due[uri]  # closed
        if any(uri in self._ls.docs for uri in changed):
            self._ls.workspace_inlay_hint_refresh(None)
        self._arm()


class SemanticTokens:
    """The semantic tokens of the open documents: each one's ``semantic_tokens.Tokens``
    (its chunks' encodings and the result sent last), numbered results for deltas."""

    def __init__(self, ls: SnowauthServer) -> None:
        self._ls = ls
        self._docs: dict[str, tuple[Document, semantic_tokens.Tokens]] = {}
        self._ids = itertools.count(1)

    @property
    def multiline(self) -> bool:
        return bool(
            get_capability(self._ls.client_capabilities, "text_document.semantic_tokens.multiline_token_support", False)
        )

    def of(self, doc: Document) -> semantic_tokens.Tokens:
        for uri in [u for u, (d, _) in self._docs.items() if self._ls.docs.get(u) is not d]:
            del self._docs[uri]  # closed, or opened again
        found = self._docs.get(doc.uri)
        if found is None or found[0] is not doc:
            tokens = semantic_tokens.Tokens(convert.semantic_encoder(self._ls.encoding, multiline=self.multiline))
            found = self._docs[doc.uri] = (doc, tokens)
        return found[1]

    def next_id(self) -> str:
        return str(next(self._ids))


def register_semantic_tokens(ls: SnowauthServer) -> None:
    state = SemanticTokens(ls)
    legend = convert.semantic_legend()

    @ls.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, legend)
    @guarded(None)
    def full(params: t.SemanticTokensParams) -> convert.RawTokens | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        with gc_paused():
            a = doc.analysis(ls.env)
            result_id = state.next_id()
            return convert.RawTokens(state.of(doc).full_json(a, doc.index, result_id), result_id)

    @ls.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA, legend)
    @guarded(None)
    def delta(params: t.SemanticTokensDeltaParams) -> convert.RawTokens | t.SemanticTokensDelta | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        with gc_paused():
            a = doc.analysis(ls.env)
            tokens = state.of(doc)
            result_id = state.next_id()
            edit = tokens.delta(a, doc.index, params.previous_result_id, result_id)
            if edit is None:  # not the result sent last: all of it
                return convert.RawTokens(tokens.full_json(a, doc.index, result_id), result_id)
            return convert.semantic_tokens_delta(*edit, result_id)

    @ls.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE, legend)
    @guarded(None)
    def range_(params: t.SemanticTokensRangeParams) -> t.SemanticTokens | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        start, end = conv.offset(params.range.start), conv.offset(params.range.end)
        with gc_paused():
            segments = state.of(doc).segments(doc.analysis(ls.env), doc.index, start, end)
            return convert.semantic_tokens(semantic_tokens.flatten(segments), None)
