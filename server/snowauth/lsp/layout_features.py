"""LSP handlers for a file's layout: formatting (whole and range), folding ranges and
selection ranges, and the `format.alignValues` setting. Each converts its params, calls
the core (``formatting``, ``folding``, ``selection``) and converts the result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as t
from pygls.capabilities import get_capability

from snowauth.collector import gc_paused
from snowauth.lsp import convert, kept
from snowauth.lsp.lazy import LazyModule
from snowauth.lsp.server import SnowauthServer, guarded

if TYPE_CHECKING:
    from snowauth import formatting, formatting_cache, selection
else:  # imported at the first request (lsp/lazy.py)
    formatting, formatting_cache, selection = (
        LazyModule(f"snowauth.{m}") for m in ("formatting", "formatting_cache", "selection")
    )


def read_settings(ls: SnowauthServer, settings: Any) -> None:
    """`workspace/didChangeConfiguration`'s ``{"snowauth": {"format": {"alignValues": …}}}``."""
    ours = settings.get("snowauth") if isinstance(settings, dict) else None
    fmt = ours.get("format") if isinstance(ours, dict) else None
    if isinstance(fmt, dict) and isinstance(fmt.get("alignValues"), bool):
        ls.align_values = fmt["alignValues"]


def register(ls: SnowauthServer) -> None:
    @ls.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(params: t.DidChangeConfigurationParams) -> None:
        read_settings(ls, params.settings)

    @ls.feature(t.TEXT_DOCUMENT_FORMATTING, t.DocumentFormattingOptions())
    @guarded(None)
    def format_document(params: t.DocumentFormattingParams) -> convert.RawJson | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        cache = doc.kept.get("formatting")
        if not isinstance(cache, formatting_cache.FormatCache):
            cache = doc.kept["formatting"] = formatting_cache.FormatCache()
        with gc_paused():
            chunks = doc.analysis(ls.env).chunks
            edits = formatting_cache.format_edits_kept(doc.text, chunks, cache, align_values=ls.align_values)
            return convert.formatting_edits_json(ls.converter(doc), edits or [])

    @ls.feature(t.TEXT_DOCUMENT_RANGE_FORMATTING, t.DocumentRangeFormattingOptions())
    @guarded(None)
    def format_range(params: t.DocumentRangeFormattingParams) -> convert.RawJson | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        start, end = conv.offset(params.range.start), conv.offset(params.range.end)
        with gc_paused():
            parsed = doc.analysis(ls.env).parsed
            edits = formatting.range_edits(doc.text, start, end, align_values=ls.align_values, parsed=parsed)
            return convert.formatting_edits_json(conv, edits or [])

    @ls.feature(t.TEXT_DOCUMENT_FOLDING_RANGE, t.FoldingRangeOptions())
    @guarded(None)
    def folding_range(params: t.FoldingRangeParams) -> convert.RawJson | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        lines_only = bool(
            get_capability(ls.client_capabilities, "text_document.folding_range.line_folding_only", False)
        )
        key = ("folding", lines_only, conv.encoding)
        found: Any = doc.cache.get(key)
        if found is None:
            with gc_paused():
                found = kept.folding_ranges(doc.kept, doc.analysis(ls.env), conv, lines_only=lines_only)
            doc.cache[key] = found
        return found  # type: ignore[no-any-return]

    @ls.feature(t.TEXT_DOCUMENT_SELECTION_RANGE, t.SelectionRangeOptions())
    @guarded(None)
    def selection_range(params: t.SelectionRangeParams) -> list[t.SelectionRange] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        offsets = [conv.offset(p) for p in params.positions]
        chains = selection.selection_ranges(doc.text, doc.analysis(ls.env).parsed, offsets)
        return convert.selection_ranges(chains, conv)
