"""LSP handlers for going to a definition, references, rename and document links: each
converts its params, calls the core (``navigation``, ``links``) and converts the result
(``convert``). A rename that cannot be done answers with a request error whose message
says why (the editor shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as t
from pygls.capabilities import get_capability

from snowauth.collector import gc_paused
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.lsp.failures import CommandFailed
from snowauth.lsp.lazy import LazyModule
from snowauth.lsp.server import SnowauthServer, guarded, log_exception
from snowauth.secrets import Environment

if TYPE_CHECKING:
    from snowauth import navigation
else:  # imported at the first request (lsp/lazy.py): not on the way to the first diagnostics
    navigation = LazyModule("snowauth.navigation")


def register(ls: SnowauthServer) -> None:
    @ls.feature(t.TEXT_DOCUMENT_DEFINITION)
    @guarded(None)
    def definition(params: t.DefinitionParams) -> list[t.Location] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        a = doc.analysis(ls.env)
        found = navigation.definition(a, conv.offset(params.position), Environment(ls.env, doc.folder))
        return [convert.location(doc.uri, conv, target) for target in found] or None

    @ls.feature(t.TEXT_DOCUMENT_REFERENCES)
    @guarded(None)
    def references(params: t.ReferenceParams) -> list[t.Location] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        a = doc.analysis(ls.env)
        found = navigation.name_at(a, conv.offset(params.position))
        if found is None:
            return None
        spans = navigation.references(a, found[0], include_declaration=params.context.include_declaration)
        return convert.locations(doc.uri, conv, spans)

    @ls.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(params: t.PrepareRenameParams) -> t.PrepareRenamePlaceholder | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        try:
            conv = ls.converter(doc)
            start, end, name = navigation.prepare_rename(doc.analysis(ls.env), conv.offset(params.position))
            return convert.prepare_rename(conv, start, end, name)
        except navigation.RenameError as exc:
            raise CommandFailed(str(exc)) from None
        except Exception as exc:
            log_exception("prepare_rename", exc)
            return None

    @ls.feature(t.TEXT_DOCUMENT_RENAME, t.RenameOptions(prepare_provider=True))
    def rename(params: t.RenameParams) -> t.WorkspaceEdit | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        try:
            conv = ls.converter(doc)
            env = Environment(ls.env, doc.folder)
            found = navigation.rename(doc.analysis(ls.env), conv.offset(params.position), params.new_name, env)
            return convert.rename_edit(doc.uri, doc.version, conv, found, document_changes=ls.document_changes)
        except navigation.RenameError as exc:
            raise CommandFailed(str(exc)) from None
        except Exception as exc:
            log_exception("rename", exc)
            return None

    # per open document: its links kept per connection across edits (convert.LinkCache)
    link_caches: dict[str, tuple[Document, convert.LinkCache]] = {}

    @ls.feature(t.TEXT_DOCUMENT_DOCUMENT_LINK, t.DocumentLinkOptions(resolve_provider=False))
    @guarded(None)
    def document_link(params: t.DocumentLinkParams) -> Any:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        tooltips = get_capability(ls.client_capabilities, "text_document.document_link.tooltip_support", False)
        key = ("links", conv.encoding, tooltips)
        found = doc.cache.get(key)  # asked again before the next edit
        if found is None:
            for uri in [u for u, (d, _) in link_caches.items() if ls.docs.get(u) is not d]:
                del link_caches[uri]  # closed, or opened again
            kept = link_caches.get(doc.uri)
            cache = kept[1] if kept is not None else None
            if cache is None or (cache.encoding, cache.tooltips) != (conv.encoding, tooltips):
                cache = convert.LinkCache(conv.encoding, tooltips)
                link_caches[doc.uri] = (doc, cache)
            with gc_paused():  # thousands of small objects, none freed: no collection passes
                found = cache.links(doc.analysis(ls.env), conv, Environment(ls.env, doc.folder))
            doc.cache[key] = found
        return found
