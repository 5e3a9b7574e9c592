"""A tiny editor for pytest-lsp clients: it owns document texts, applies the server's
`workspace/applyEdit` the way an editor does (refusing a stale version) and tells the
server about every change with `didChange`, as VS Code and Neovim do."""

from __future__ import annotations

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex


class Editor:
    def __init__(self, client: LanguageClient, encoding: str = "utf-16") -> None:
        self.client = client
        self.encoding = encoding
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[t.WorkspaceEdit] = []
        self.refuse_next = False

        self.refreshes: list[str] = []

        @client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
        def lens_refresh(_params: None) -> None:
            self.refreshes.append("codeLens")

        @client.feature(t.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: t.ApplyWorkspaceEditParams) -> t.ApplyWorkspaceEditResult:
            return self.apply(params.edit)

    def open(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            t.DidOpenTextDocumentParams(t.TextDocumentItem(uri=uri, language_id="snowauth-toml", version=1, text=text))
        )

    def type(self, uri: str, offset: int, text: str) -> None:
        """The user types ``text`` at ``offset``."""
        self._change(uri, [(offset, offset, text)])

    def _change(self, uri: str, edits: list[tuple[int, int, str]]) -> None:
        text = self.texts[uri]
        changes = []
        for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
            conv = Converter(LineIndex(text), self.encoding)
            changes.append(t.TextDocumentContentChangePartial(range=conv.range(start, end), text=new))
            text = text[:start] + new + text[end:]
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), changes
            )
        )

    def apply(self, edit: t.WorkspaceEdit) -> t.ApplyWorkspaceEditResult:
        if self.refuse_next:
            self.refuse_next = False
            return t.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by the test")
        per_doc: list[tuple[str, int | None, list[t.TextEdit]]] = []
        for change in edit.document_changes or []:
            assert isinstance(change, t.TextDocumentEdit)
            per_doc.append((change.text_document.uri, change.text_document.version, list(change.edits)))  # type: ignore[arg-type]
        for uri, edits in (edit.changes or {}).items():
            per_doc.append((uri, None, list(edits)))
        for uri, version, _ in per_doc:
            if uri not in self.texts or (version is not None and version != self.versions[uri]):
                return t.ApplyWorkspaceEditResult(applied=False, failure_reason="document version changed")
        for uri, _, edits in per_doc:
            conv = Converter(LineIndex(self.texts[uri]), self.encoding)
            spans = [(conv.offset(e.range.start), conv.offset(e.range.end), e.new_text) for e in edits]
            self._change(uri, spans)
        self.applied.append(edit)
        return t.ApplyWorkspaceEditResult(applied=True)
