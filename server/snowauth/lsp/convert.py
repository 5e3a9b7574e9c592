"""The one place where core offsets become LSP positions and core results LSP types.

The core counts code points; the client counts UTF-16 code units (VS Code), UTF-8
bytes (Neovim, when it offers them first) or code points, as negotiated at
``initialize``. Lines break only at CR, LF and CRLF (positions.LineIndex).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types as t

from snowauth.analysis import Analysis
from snowauth.completion import Completion
from snowauth.findings import Edit, Finding, Fix
from snowauth.outline import Symbol
from snowauth.positions import LineIndex


def _units(s: str, encoding: str) -> int:
    if s.isascii():
        return len(s)
    if encoding == "utf-16":
        return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)
    if encoding == "utf-8":
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s)


_MARK = 256  # code points between two remembered columns of a long line


class Converter:
    """Positions of one text in one encoding."""

    __slots__ = ("_marks", "encoding", "index")

    def __init__(self, index: LineIndex, encoding: str) -> None:
        self.index = index
        self.encoding = encoding
        self._marks: dict[int, list[int]] = {}  # line -> its column in units every _MARK code points

    def _column(self, line: int, col: int) -> int:
        """The column ``col`` (code points) of ``line`` in the client's units.

        Counting from the start of the line for every position was quadratic on one long
        line with many findings (a hostile file puts 40,000 keys and one `é` on a line):
        past _MARK code points, the count starts from the last mark before the column."""
        index = self.index
        if col == 0 or self.encoding == "utf-32" or index.text.isascii():  # isascii: a flag, O(1)
            return col
        text, start = index.text, index.starts[line]
        if col <= _MARK:
            return _units(text[start : start + col], self.encoding)
        marks = self._marks.get(line)
        if marks is None:
            end = index.starts[line + 1] if line + 1 < len(index.starts) else len(text)
            marks = [0]
            for at in range(start, end, _MARK):
                marks.append(marks[-1] + _units(text[at : min(at + _MARK, end)], self.encoding))
            self._marks[line] = marks
        q = col // _MARK
        return marks[q] + _units(text[start + q * _MARK : start + col], self.encoding)

    def position(self, offset: int) -> t.Position:
        line, col = self.index.position(offset)
        return t.Position(line, self._column(line, col))

    def range(self, start: int, end: int) -> t.Range:
        return t.Range(self.position(start), self.position(end))

    def range_json(self, start: int, end: int) -> dict[str, dict[str, int]]:
        """``range`` as it goes on the wire (building lsprotocol objects costs more than
        the rest of a long file's outline)."""
        return {"start": self._position_json(start), "end": self._position_json(end)}

    def _position_json(self, offset: int) -> dict[str, int]:
        line, col = self.index.position(offset)
        return {"line": line, "character": self._column(line, col)}

    def offset(self, pos: t.Position) -> int:
        """The offset of a client position; past the end of a line means its end, and a
        position inside a character (between UTF-16 surrogates, inside a UTF-8 sequence)
        means the start of that character."""
        index = self.index
        if pos.line >= index.line_count():
            return len(index.text)
        if pos.line < 0:
            return 0
        text = index.line_text(pos.line)
        start = index.starts[pos.line]
        if text.isascii() or self.encoding == "utf-32":
            return start + max(0, min(pos.character, len(text)))
        units = 0
        utf16 = self.encoding == "utf-16"
        for i, ch in enumerate(text):
            o = ord(ch)
            width = (
                (2 if o > 0xFFFF else 1) if utf16 else 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
            )
            if units + width > pos.character:
                return start + i
            units += width
        return start + len(text)


class Wire(list[Any]):
    """A result already in its JSON form (dicts, lists, numbers, strings): sent as it
    is, without the converter walking it again (see ``converter``)."""


def converter() -> Any:
    """pygls' converter, which passes a ``Wire`` result through untouched."""
    from pygls.protocol import default_converter

    c = default_converter()  # type: ignore[no-untyped-call]
    c.register_unstructure_hook(Wire, lambda w: w)
    return c


def encoding_name(kind: object) -> str:
    value = str(getattr(kind, "value", kind) or "utf-16")
    return value if value in ("utf-8", "utf-16", "utf-32") else "utf-16"


# -- results ----------------------------------------------------------------------------

_SEVERITY = {
    1: t.DiagnosticSeverity.Error,
    2: t.DiagnosticSeverity.Warning,
    3: t.DiagnosticSeverity.Information,
    4: t.DiagnosticSeverity.Hint,
}


def diagnostic(f: Finding, conv: Converter, uri: str, *, related: bool, tags: bool) -> t.Diagnostic:
    return t.Diagnostic(
        range=conv.range(f.start, f.end),
        message=f.message,
        severity=_SEVERITY[f.severity],
        code=f.code,
        source="snowauth",
        related_information=[
            t.DiagnosticRelatedInformation(t.Location(uri, conv.range(s, e)), msg) for s, e, msg in f.related
        ]
        if related and f.related
        else None,
        tags=[t.DiagnosticTag.Unnecessary] if tags and 1 in f.tags else None,
    )


def diagnostics(a: Analysis, conv: Converter, uri: str, *, related: bool, tags: bool) -> list[t.Diagnostic]:
    return [diagnostic(f, conv, uri, related=related, tags=tags) for f in a.findings]


def text_edit(conv: Converter, start: int, end: int, new_text: str) -> t.TextEdit:
    return t.TextEdit(conv.range(start, end), new_text)


def markup(text: str, markdown: bool) -> t.MarkupContent:
    return t.MarkupContent(t.MarkupKind.Markdown if markdown else t.MarkupKind.PlainText, text)


_COMPLETION_KIND = {
    "key": t.CompletionItemKind.Property,
    "value": t.CompletionItemKind.EnumMember,
    "table": t.CompletionItemKind.Module,
    "variable": t.CompletionItemKind.Variable,
    "reference": t.CompletionItemKind.Reference,
}


def completion_item(c: Completion, conv: Converter, *, markdown: bool) -> t.CompletionItem:
    return t.CompletionItem(
        label=c.label,
        kind=_COMPLETION_KIND[c.kind],
        detail=c.detail or None,
        documentation=markup(c.documentation, markdown) if c.documentation else None,
        sort_text=c.sort_text or None,
        filter_text=c.filter_text,
        preselect=c.preselect or None,
        text_edit=text_edit(conv, c.start, c.end, c.insert_text),
        insert_text_format=t.InsertTextFormat.Snippet if c.snippet else t.InsertTextFormat.PlainText,
    )


_SYMBOL_KIND = {
    "connection": t.SymbolKind.Object,
    "key": t.SymbolKind.Property,
    "table": t.SymbolKind.Struct,
}


def document_symbol(s: Symbol, conv: Converter) -> t.DocumentSymbol:
    return t.DocumentSymbol(
        name=s.name,
        kind=_SYMBOL_KIND[s.kind],
        detail=s.detail or None,
        range=conv.range(s.start, s.end),
        selection_range=conv.range(s.selection_start, s.selection_end),
        children=[document_symbol(c, conv) for c in s.children] or None,
    )


def document_symbol_json(s: Symbol, conv: Converter) -> dict[str, Any]:
    """``document_symbol`` as it goes on the wire."""
    out: dict[str, Any] = {
        "name": s.name,
        "kind": int(_SYMBOL_KIND[s.kind]),
        "range": conv.range_json(s.start, s.end),
        "selectionRange": conv.range_json(s.selection_start, s.selection_end),
    }
    if s.detail:
        out["detail"] = s.detail
    if s.children:
        out["children"] = [document_symbol_json(c, conv) for c in s.children]
    return out


def symbol_information(
    symbols: list[Symbol], conv: Converter, uri: str, container: str | None = None
) -> list[t.SymbolInformation]:
    out: list[t.SymbolInformation] = []
    for s in symbols:
        out.append(
            t.SymbolInformation(
                location=t.Location(uri, conv.range(s.start, s.end)),
                name=s.name,
                kind=_SYMBOL_KIND[s.kind],
                container_name=container,
            )
        )
        out.extend(symbol_information(s.children, conv, uri, s.name))
    return out


def workspace_edit(
    uri: str,
    version: int | None,
    conv: Converter,
    fix: Fix,
    *,
    document_changes: bool,
    appends: list[tuple[str, bool, t.Position, str]] | None = None,
) -> t.WorkspaceEdit:
    """The edit of a fix. ``appends`` gives, per file to extend, its URI, whether it
    exists, the position of its end and the text to add there."""
    edits = [text_edit(conv, e.start, e.end, e.text) for e in fix.edits]
    if not document_changes:
        changes: dict[str, list[t.TextEdit]] = {uri: edits}
        for other, _exists, end, added in appends or []:
            changes.setdefault(other, []).append(t.TextEdit(t.Range(end, end), added))
        return t.WorkspaceEdit(changes=changes)
    ops: list[t.TextDocumentEdit | t.CreateFile | t.RenameFile | t.DeleteFile] = [
        t.TextDocumentEdit(t.OptionalVersionedTextDocumentIdentifier(uri, version), list(edits))
    ]
    for other, exists, end, added in appends or []:
        if not exists:
            ops.append(t.CreateFile(other, options=t.CreateFileOptions(ignore_if_exists=True)))
        ops.append(
            t.TextDocumentEdit(
                t.OptionalVersionedTextDocumentIdentifier(other, None),
                [t.TextEdit(t.Range(end, end), added)],
            )
        )
    return t.WorkspaceEdit(document_changes=ops)


def client_position(pos: object) -> t.Position:
    """A position a command argument gives as ``{"line", "character"}`` (missing: 0)."""
    p = pos if isinstance(pos, dict) else {}
    return t.Position(int(p.get("line", 0)), int(p.get("character", 0)))


def _edit_of(uri: str, version: int | None, edits: list[t.TextEdit], *, document_changes: bool) -> t.WorkspaceEdit:
    if document_changes:
        ident = t.OptionalVersionedTextDocumentIdentifier(uri, version)
        return t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(ident, list(edits))])
    return t.WorkspaceEdit(changes={uri: edits})


def edits_edit(
    uri: str, version: int | None, conv: Converter, edits: Sequence[Edit], *, document_changes: bool
) -> t.WorkspaceEdit:
    """The workspace edit of core text edits to one document, against ``version``."""
    return _edit_of(
        uri, version, [text_edit(conv, e.start, e.end, e.text) for e in edits], document_changes=document_changes
    )


def insertion_edit(
    uri: str, version: int | None, at: t.Position, text: str, *, document_changes: bool
) -> t.WorkspaceEdit:
    """The workspace edit that inserts ``text`` at ``at`` (a client position) in ``uri``."""
    return _edit_of(uri, version, [t.TextEdit(t.Range(at, at), text)], document_changes=document_changes)
