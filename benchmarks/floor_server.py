"""The floor of this stack: a bare pygls server that does no work of its own.

It publishes one fixed diagnostic for every opened or changed document, answers
completion with one item and hover with one line, and leaves document sync to pygls
(incremental, as ours). Started exactly as ours is (`python -m …` with the same
interpreter), so the difference is what snowauth adds.
"""

from __future__ import annotations

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

server = LanguageServer("floor", "0", text_document_sync_kind=t.TextDocumentSyncKind.Incremental)
DIAGNOSTIC = t.Diagnostic(t.Range(t.Position(0, 0), t.Position(0, 1)), "floor", severity=t.DiagnosticSeverity.Warning)


def _publish(ls: LanguageServer, uri: str, version: int) -> None:
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, [DIAGNOSTIC], version))


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, params.text_document.version)


@server.feature(t.TEXT_DOCUMENT_COMPLETION)
def completion(params: t.CompletionParams) -> t.CompletionList:
    return t.CompletionList(False, [t.CompletionItem("instance", kind=t.CompletionItemKind.Property)])


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(params: t.HoverParams) -> t.Hover:
    return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, "**floor**"))


if __name__ == "__main__":
    server.start_io()
