"""LSP handlers: each converts its params, calls the core (completion, hover, outline,
lenses, analysis) and converts the result (``convert``). The core of a feature is
imported by its handler, at its first request: not on the way to the first diagnostics
(docs/decisions.md, "Cold start: what the first diagnostics need")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from snowauth.collector import gc_paused
from snowauth.lsp import convert, ext, kept
from snowauth.lsp.diagnostics import expiry_tick
from snowauth.lsp.documents import Document, uri_path
from snowauth.lsp.server import SnowauthServer, guarded
from snowauth.secrets import Environment

if TYPE_CHECKING:
    from snowauth.findings import Fix


def register(ls: SnowauthServer) -> None:
    @ls.feature(t.INITIALIZE)
    def initialize(params: t.InitializeParams) -> None:
        ls.read_initialization_options(params.initialization_options)

    @ls.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: t.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.docs[doc.uri] = Document(doc.uri, doc.text, doc.version)
        ls.diagnostics.changed(doc.uri)
        ls.check_git(doc.uri)
        ls.watcher.watch(doc.uri)
        if ls.auto_refresh is not None:
            ls.auto_refresh.document_changed(doc.uri)

    @ls.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: t.DidSaveTextDocumentParams) -> None:
        ls.check_git(params.text_document.uri)
        ls.watcher.watch(params.text_document.uri)

    @ls.feature(t.INITIALIZED)
    def initialized(_params: t.InitializedParams) -> None:
        ls.spawn(expiry_tick(ls))
        if ls.project is not None:
            ls.project.start()

    @ls.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: t.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return  # an edit to a document that was never opened: nothing to apply it to
        doc.apply(list(params.content_changes), params.text_document.version, ls.encoding)
        kept.forget_analysis(doc.kept)
        ls.diagnostics.changed(doc.uri)
        if ls.auto_refresh is not None:
            ls.auto_refresh.document_changed(doc.uri)

    @ls.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: t.DidCloseTextDocumentParams) -> None:
        if ls.docs.pop(params.text_document.uri, None) is not None:
            ls.diagnostics.clear(params.text_document.uri)
        if ls.auto_refresh is not None:
            ls.auto_refresh.document_closed(params.text_document.uri)

    @ls.feature(
        t.TEXT_DOCUMENT_DIAGNOSTIC,
        t.DiagnosticOptions(identifier="snowauth", inter_file_dependencies=True, workspace_diagnostics=True),
    )
    @guarded(None)
    def diagnostic(params: t.DocumentDiagnosticParams) -> t.DocumentDiagnosticReport:
        doc = ls.docs.get(params.text_document.uri)
        return convert.diagnostic_report(ls.diagnostics.of(doc) if doc else [])

    @ls.feature(
        t.TEXT_DOCUMENT_COMPLETION,
        t.CompletionOptions(trigger_characters=[".", '"', "[", "=", ":", "{", ","]),
    )
    @guarded(None)
    def completion(params: t.CompletionParams) -> t.CompletionList | None:
        from snowauth import completion as completions

        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        a = doc.analysis(ls.env)
        conv = doc.converter(ls.encoding)
        env = Environment(ls.env, doc.folder)
        items = completions.complete(a, conv.offset(params.position), env, snippets=ls.snippets)
        return convert.completion_list(items, conv, markdown=ls.completion_markdown)

    @ls.feature(t.TEXT_DOCUMENT_HOVER)
    @guarded(None)
    def hover(params: t.HoverParams) -> t.Hover | None:
        from snowauth import hover as hovers

        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        h = hovers.hover(
            doc.analysis(ls.env), conv.offset(params.position), datetime.now(UTC), Environment(ls.env, doc.folder)
        )
        return convert.hover(h, conv, markdown=ls.markdown) if h is not None else None

    @ls.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(None)
    def symbols(
        params: t.DocumentSymbolParams,
    ) -> list[dict[str, Any]] | list[t.SymbolInformation] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        hierarchical = ls.hierarchical_symbols
        key = ("symbols", hierarchical, conv.encoding)
        found: Any = doc.cache.get(key)  # editors ask again and again (outline, breadcrumbs…)
        if found is None:
            with gc_paused():
                a = doc.analysis(ls.env)
                if hierarchical:  # only the connections an edit touched are made again
                    found = kept.document_symbols(kept.kept_for(doc.kept, conv.encoding), a, conv)
                else:
                    from snowauth import outline

                    found = convert.document_symbols(outline.symbols(a), conv, doc.uri, hierarchical=False)
            doc.cache[key] = found
        return found  # type: ignore[no-any-return]

    @ls.feature(
        t.TEXT_DOCUMENT_CODE_ACTION,
        t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]),
    )
    @guarded(None)
    def code_action(params: t.CodeActionParams) -> list[t.CodeAction] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        a = doc.analysis(ls.env)
        conv = doc.converter(ls.encoding)
        start, end = conv.offset(params.range.start), conv.offset(params.range.end)
        actions: list[t.CodeAction] = []
        from snowauth.gitstate import export_findings, token_findings

        name = doc.path.name if doc.path is not None else None
        git_findings = [
            *token_findings(a, doc.git, name, fixes=True),
            *export_findings(a, doc.exports_git, doc.folder, fixes=True),
        ]
        for f in [*a.findings, *git_findings]:
            if f.end < start or f.start > end or not f.fixes:
                continue
            diag = convert.diagnostic(f, conv, doc.uri, related=False, tags=False)
            for fix in f.fixes:
                action = _action(ls, doc, conv, fix, diag)
                if action is not None:
                    actions.append(action)
        return actions

    @ls.feature(t.TEXT_DOCUMENT_CODE_LENS)
    @guarded(None)
    def code_lens(params: t.CodeLensParams) -> list[dict[str, Any]] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        now = datetime.now(UTC)
        with gc_paused():
            a = doc.analysis(ls.env)
            # only the connections an edit touched are made again
            return kept.code_lenses(kept.kept_for(doc.kept, conv.encoding), a, conv, doc.uri, now)  # type: ignore[return-value]

    @ls.feature(ext.LIST_CONNECTIONS)
    @guarded({"connections": []})
    def list_connections(params: Any) -> ext.ListConnectionsResult:
        uri = _get(params, "uri")
        doc = _document_or_file(ls, uri) if isinstance(uri, str) else None
        if doc is None:
            return {"connections": []}
        return convert.connections(doc.analysis(ls.env), doc.converter(ls.encoding))


def _get(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _document_or_file(ls: SnowauthServer, uri: str) -> Document | None:
    """The open document, else the file read from disk once; None when neither is."""
    doc = ls.docs.get(uri)
    if doc is not None:
        return doc
    path = uri_path(uri)
    if path is None or not path.is_file():
        return None
    from snowauth.files import read_text

    try:
        return Document(uri, read_text(path)[0], None)
    except OSError:  # not a regular file, too large, unreadable
        return None


def _action(
    ls: SnowauthServer, doc: Document, conv: convert.Converter, fix: Fix, diag: t.Diagnostic
) -> t.CodeAction | None:
    from snowauth.lsp import fixes

    edit = None
    title = fix.title
    if fix.edits or fix.appends:
        found = fixes.appends(ls, doc, fix)
        if found is None:
            return None
        title, appends = found
        edit = convert.workspace_edit(
            doc.uri, doc.version, conv, fix, document_changes=ls.document_changes, appends=appends
        )
    return convert.code_action(fix, title, diag, doc.uri, edit)
