"""The one place where core offsets become LSP positions and core results LSP types.

The core counts code points; the client counts UTF-16 code units (VS Code), UTF-8
bytes (Neovim, when it offers them first) or code points, as negotiated at
``initialize``. Lines break only at CR, LF and CRLF (positions.LineIndex).

Longer than the usual 500 lines on purpose: every feature's conversion lives here, so
that positions are counted in one way only (ARCHITECTURE.md); its sections follow the
features (diagnostics, completion, symbols and lenses and their kept pieces, navigation,
hints and semantic tokens, layout, workspace reports).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.findings import Edit, Finding, Fix
from snowauth.lsp import ext
from snowauth.positions import LineIndex, LineWalk
from snowauth.secrets import Environment

# the features' cores are imported where a conversion needs them at run time: not on the
# way to the first diagnostics (docs/decisions.md, "Cold start: what the first diagnostics need")
if TYPE_CHECKING:
    from snowauth.completion import Completion
    from snowauth.folding import Fold, LineFold
    from snowauth.hover import Hover
    from snowauth.inlay_hints import Hint as InlayHintData
    from snowauth.lenses import LensAction, LensInfo
    from snowauth.links import Link
    from snowauth.navigation import Rename, Target
    from snowauth.outline import Symbol
    from snowauth.semantic_tokens import Encoded, Encoder, Token
    from snowauth.workspace import CrossFinding


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

    def range_json(self, start: int, end: int) -> ext.LspRange:
        """``range`` as it goes on the wire (building lsprotocol objects costs more than
        the rest of a long file's outline)."""
        return {"start": self._position_json(start), "end": self._position_json(end)}

    def _position_json(self, offset: int) -> ext.LspPosition:
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
    c.register_unstructure_hook(WireObject, lambda w: w)
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
        source=f.source or "snowauth",
        related_information=[
            t.DiagnosticRelatedInformation(t.Location(uri, conv.range(s, e)), msg) for s, e, msg in f.related
        ]
        if related and f.related
        else None,
        tags=[t.DiagnosticTag.Unnecessary] if tags and 1 in f.tags else None,
    )


def diagnostic_report(items: list[t.Diagnostic]) -> t.RelatedFullDocumentDiagnosticReport:
    """The answer to a pull client's `textDocument/diagnostic`."""
    return t.RelatedFullDocumentDiagnosticReport(items=items)


def text_edit(conv: Converter, start: int, end: int, new_text: str) -> t.TextEdit:
    return t.TextEdit(conv.range(start, end), new_text)


def end_position(text: str, encoding: str) -> t.Position:
    """The position of the end of ``text`` (another file than the converter's)."""
    return Converter(LineIndex(text), encoding).position(len(text))


def markup(text: str, markdown: bool) -> t.MarkupContent:
    return t.MarkupContent(t.MarkupKind.Markdown if markdown else t.MarkupKind.PlainText, text)


def hover(h: Hover, conv: Converter, *, markdown: bool) -> t.Hover:
    return t.Hover(markup(h.markdown, markdown), conv.range(h.start, h.end))


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


def completion_list(items: Sequence[Completion], conv: Converter, *, markdown: bool) -> t.CompletionList:
    return t.CompletionList(
        is_incomplete=any(c.incomplete for c in items),
        items=[completion_item(c, conv, markdown=markdown) for c in items],
    )


_SYMBOL_KIND = {
    "connection": t.SymbolKind.Object,
    "key": t.SymbolKind.Property,
    "table": t.SymbolKind.Struct,
}


def document_symbols(
    symbols: list[Symbol], conv: Converter, uri: str, *, hierarchical: bool
) -> Wire | list[t.SymbolInformation]:
    """The outline: a tree (already in its wire form) for a client that takes one, else
    a flat list."""
    if hierarchical:
        return Wire(document_symbol_json(s, conv) for s in symbols)
    return symbol_information(symbols, conv, uri)


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


def text_edits(conv: Converter, edits: Iterable[Edit]) -> list[t.TextEdit]:
    return [text_edit(conv, e.start, e.end, e.text) for e in edits]


def insertion(at: t.Position, text: str) -> t.TextEdit:
    """``text`` inserted at ``at`` (a position already in the client's units)."""
    return t.TextEdit(t.Range(at, at), text)


def versioned_edit(uri: str, version: int | None, edits: Iterable[t.TextEdit]) -> t.TextDocumentEdit:
    """Edits of one document that the client applies only to ``version`` (None: any)."""
    return t.TextDocumentEdit(t.OptionalVersionedTextDocumentIdentifier(uri, version), list(edits))


def document_edit(
    uri: str, version: int | None, edits: Iterable[t.TextEdit], *, document_changes: bool
) -> t.WorkspaceEdit:
    """A workspace edit of one document: against ``version`` when the client takes
    `documentChanges`, else as plain `changes`."""
    if document_changes:
        return t.WorkspaceEdit(document_changes=[versioned_edit(uri, version, edits)])
    return t.WorkspaceEdit(changes={uri: list(edits)})


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
    edits = text_edits(conv, fix.edits)
    if not appends:
        return document_edit(uri, version, edits, document_changes=document_changes)
    if not document_changes:
        changes: dict[str, list[t.TextEdit]] = {uri: edits}
        for other, _exists, end, added in appends:
            changes.setdefault(other, []).append(insertion(end, added))
        return t.WorkspaceEdit(changes=changes)
    ops: list[t.TextDocumentEdit | t.CreateFile | t.RenameFile | t.DeleteFile] = [versioned_edit(uri, version, edits)]
    for other, exists, end, added in appends:
        if not exists:
            ops.append(t.CreateFile(other, options=t.CreateFileOptions(ignore_if_exists=True)))
        ops.append(versioned_edit(other, None, [insertion(end, added)]))
    return t.WorkspaceEdit(document_changes=ops)


def client_position(pos: object) -> t.Position:
    """A position a command argument gives as ``{"line", "character"}`` (missing: 0)."""
    p = pos if isinstance(pos, dict) else {}
    return t.Position(int(p.get("line", 0)), int(p.get("character", 0)))


def edits_edit(
    uri: str, version: int | None, conv: Converter, edits: Sequence[Edit], *, document_changes: bool
) -> t.WorkspaceEdit:
    """The workspace edit of core text edits to one document, against ``version``."""
    return document_edit(uri, version, text_edits(conv, edits), document_changes=document_changes)


def insertion_edit(
    uri: str, version: int | None, at: t.Position, text: str, *, document_changes: bool
) -> t.WorkspaceEdit:
    """The workspace edit that inserts ``text`` at ``at`` (a client position) in ``uri``."""
    return document_edit(uri, version, [insertion(at, text)], document_changes=document_changes)


def code_action(fix: Fix, title: str, diag: t.Diagnostic, uri: str, edit: t.WorkspaceEdit | None) -> t.CodeAction:
    """A quick fix: its edit, and the command it runs on the fix's connection."""
    command = None
    if fix.action and fix.connection is not None:
        target: ext.CommandTarget = {"uri": uri, "connection": fix.connection}
        command = t.Command(fix.title, ext.ACTIONS[fix.action], arguments=[target])
    return t.CodeAction(
        title=title,
        kind=t.CodeActionKind.QuickFix,
        diagnostics=[diag],
        edit=edit,
        command=command,
        is_preferred=fix.preferred or None,
    )


def code_lenses(uri: str, conv: Converter, lenses: Iterable[tuple[LensInfo, Sequence[LensAction]]]) -> Wire:
    """The lenses of each connection's header, as they go on the wire (many of them in a
    long file): each runs its action's command (``ext.ACTIONS``) on the connection."""
    out = Wire()
    for info, actions in lenses:
        rng = conv.range_json(info.start, info.end)
        target: ext.CommandTarget = {"uri": uri, "connection": info.connection}
        for action in actions:
            command = {"title": action.title, "command": ext.ACTIONS[action.action], "arguments": [target]}
            out.append({"range": rng, "command": command})
    return out


def connection_info(c: Connection, conv: Converter, *, is_default: bool) -> ext.ConnectionInfo:
    """A connection as `snowauth/listConnections` describes it."""
    from snowauth.token_edits import toml_datetime

    start, end = c.extent if c.segments else c.header
    token: ext.TokenSummary | None = None
    if c.has_token:
        exp = c.token_expiry
        token = {"expiresAt": toml_datetime(exp) if exp else None, "hasRefreshToken": c.has_refresh_token}
    return {
        "name": c.name,
        "range": conv.range_json(start, end),
        "selectionRange": conv.range_json(*c.header),
        "isDefault": is_default,
        "token": token,
    }


def connections(a: Analysis, conv: Converter) -> ext.ListConnectionsResult:
    """The answer to `snowauth/listConnections`."""
    default = a.layout.default
    # only the connection `default` names: a lone connection is used without asking,
    # but labelling it "(default)" would say the file has a `default` it does not have
    default_name = default[1].data if default and default[1].kind == "string" else None
    return {
        "connections": [connection_info(c, conv, is_default=c.name == default_name) for c in a.connections.values()]
    }


# -- navigation: definition, references, rename, document links --------------------------------


def location(uri: str, conv: Converter, target: Target) -> t.Location:
    """A definition's place: a span of this document (``uri``), or of another file (its
    own text decides its positions in the client's encoding)."""
    from snowauth.navigation import FileSpot

    if isinstance(target, FileSpot):
        other = Converter(LineIndex(target.text), conv.encoding)
        return t.Location(target.path.as_uri(), other.range(target.start, target.end))
    return t.Location(uri, conv.range(*target))


def locations(uri: str, conv: Converter, spans: Iterable[tuple[int, int]]) -> list[t.Location]:
    return [t.Location(uri, conv.range(s, e)) for s, e in spans]


def prepare_rename(conv: Converter, start: int, end: int, placeholder: str) -> t.PrepareRenamePlaceholder:
    return t.PrepareRenamePlaceholder(range=conv.range(start, end), placeholder=placeholder)


def rename_edit(
    uri: str, version: int | None, conv: Converter, found: Rename, *, document_changes: bool
) -> t.WorkspaceEdit:
    """A rename: this document's edits against ``version``, and the other files' edits
    (their positions from their own text) in the same workspace edit."""
    edits = text_edits(conv, found.edits)
    others = [
        (path.as_uri(), text_edits(Converter(LineIndex(text), conv.encoding), file_edits))
        for path, text, file_edits in found.files
    ]
    if document_changes:
        ops: list[t.TextDocumentEdit | t.CreateFile | t.RenameFile | t.DeleteFile] = [
            versioned_edit(uri, version, edits)
        ]
        ops += [versioned_edit(other, None, e) for other, e in others]
        return t.WorkspaceEdit(document_changes=ops)
    changes = {uri: edits}
    for other, e in others:
        changes.setdefault(other, []).extend(e)
    return t.WorkspaceEdit(changes=changes)


def _link_template(k: Link, conv: Converter, line0: int, rel: list[int], tooltips: bool) -> str:
    parts = ['{"range":', _range_template(conv, k.start, k.end, line0, rel), ',"target":', _template_string(k.target)]
    if k.tooltip and tooltips:
        parts += [',"tooltip":', _template_string(k.tooltip)]
    parts.append("}")
    return "".join(parts)


def links_template(found: Iterable[Link], conv: Converter, line0: int, *, tooltips: bool) -> LineTemplate | None:
    """Document links as JSON text (separated by commas), their lines counted from
    ``line0``; their tooltips when the client shows them. None for no link."""
    rel: list[int] = []
    template = ",".join(_link_template(k, conv, line0, rel, tooltips) for k in found)
    return LineTemplate(template, tuple(rel), line0) if template else None


class LinkCache:
    """A document's links in the client's units, kept per connection across edits:
    editors ask for links after every edit, and a connection an edit did not touch is
    the same object in the next analysis (``incremental``), moved as a whole. Its
    address links are printed once as JSON text whose lines count from its header's line
    (``LineTemplate``: reprinted only when lines were added or removed above it); file
    links are looked up at every request (files come and go). The answer is JSON text
    (``RawJson``): a long file has thousands of links (docs/performance.md)."""

    def __init__(self, encoding: str, tooltips: bool) -> None:
        self.encoding = encoding
        self.tooltips = tooltips
        # id(connection) -> (the connection, its address links, reads files)
        self._kept: dict[int, tuple[Connection, LineTemplate | None, bool]] = {}

    def links(self, a: Analysis, conv: Converter, env: Environment) -> RawJson:
        from snowauth import links as doc_links

        out: list[bytes] = []
        kept: dict[int, tuple[Connection, LineTemplate | None, bool]] = {}
        position = conv.index.position
        tooltips = self.tooltips
        for c, start in a.connection_headers():
            entry = self._kept.get(id(c))
            line = -1
            if entry is None or entry[0] is not c:
                if a.connection(c.name) is not c:  # moves its spans to this text
                    continue
                line = position(start)[0]
                found = doc_links.address_links(a.text, c, env)
                entry = (c, links_template(found, conv, line, tooltips=tooltips), doc_links.reads_files(c))
            kept[id(c)] = entry
            if entry[1] is not None:
                out.append(entry[1].at(line if line >= 0 else position(start)[0]))
            if entry[2] and a.connection(c.name) is c:
                files = doc_links.file_links(a.text, c, env)
                if (printed := links_template(files, conv, 0, tooltips=tooltips)) is not None:
                    out.append(printed.data)
        self._kept = kept
        return RawJson(out)


def inlay_hints(hints: Iterable[InlayHintData], conv: Converter) -> list[t.InlayHint]:
    """Inlay hints (``inlay_hints.Hint``): each just after its value, padded on the left."""
    return [t.InlayHint(conv.position(h.offset), h.label, tooltip=h.tooltip, padding_left=True) for h in hints]


def semantic_legend() -> t.SemanticTokensLegend:
    """The legend of ``semantic_tokens`` (README.md describes it)."""
    from snowauth.semantic_tokens import TOKEN_MODIFIERS, TOKEN_TYPES

    return t.SemanticTokensLegend(list(TOKEN_TYPES), list(TOKEN_MODIFIERS))


def semantic_encoder(encoding: str, *, multiline: bool) -> Encoder:
    """Encodes a chunk's tokens (``semantic_tokens.Token``, code points in the chunk's
    text, which starts at a line start) in the relative form of LSP, in the client's
    units; a token over several lines is split per line unless the client takes
    ``multiline`` tokens."""
    from snowauth.semantic_tokens import Encoded

    def encode(region: str, tokens: list[Token]) -> Encoded:
        starts = LineIndex(region).starts
        ascii_ = region.isascii() or encoding == "utf-32"
        data = array("i")  # 4 bytes a number, not a list's pointer and int: kept per chunk
        n_lines = len(starts)
        line = 0  # the line of the token at hand: tokens come in order
        prev_line, prev_col, prev_at = 0, 0, 0
        first: int | None = None
        for start, end, kind, mods in tokens:
            while line + 1 < n_lines and starts[line + 1] <= start:
                line += 1
            if multiline or line + 1 >= n_lines or end < starts[line + 1]:
                pieces: list[tuple[int, int, int]] = [(line, start, end)]
            else:  # one token a line
                pieces = []
                n = line
                while n < n_lines and starts[n] < end:
                    stop = starts[n + 1] if n + 1 < n_lines else len(region)
                    while stop > starts[n] and region[stop - 1] in "\r\n":
                        stop -= 1  # the line's text, without its break
                    pieces.append((n, max(start, starts[n]), min(end, stop)))
                    n += 1
            for n, s, e in pieces:
                if e <= s:
                    continue
                length = e - s if ascii_ else _units(region[s:e], encoding)
                if n == prev_line and first is not None:  # counted on from the token before
                    col = prev_col + (s - prev_at if ascii_ else _units(region[prev_at:s], encoding))
                    data.extend((0, col - prev_col, length, kind, mods))
                else:
                    col = s - starts[n] if ascii_ else _units(region[starts[n] : s], encoding)
                    data.extend((n - prev_line, col, length, kind, mods))
                    if first is None:
                        first = n
                prev_line, prev_col, prev_at = n, col, s
        return Encoded(data, first or 0, prev_line)

    return encode


def semantic_tokens(data: list[int], result_id: str | None) -> t.SemanticTokens:
    return t.SemanticTokens(data=data, result_id=result_id)


def semantic_tokens_delta(start: int, deleted: int, data: list[int], result_id: str) -> t.SemanticTokensDelta:
    edits = [t.SemanticTokensEdit(start, deleted, data)] if deleted or data else []
    return t.SemanticTokensDelta(edits=edits, result_id=result_id)


# -- layout: formatting, folding ranges, selection ranges --------------------------------


def formatting_edits(conv: Converter, edits: Iterable[Edit]) -> Wire:
    """Formatting's text edits, as they go on the wire (thousands in a long file)."""
    return Wire({"range": conv.range_json(e.start, e.end), "newText": e.text} for e in edits)


def folding_ranges(folds: Iterable[Fold], conv: Converter, *, line_folding_only: bool) -> RawJson:
    """The folds as LSP folding ranges, as JSON text (``RawJson``: a long file has
    thousands, asked for after every edit). A client that folds whole lines only gets
    lines (a closing bracket alone on its line stays out); others get a value's inside
    to the character. A fold within one line is left out."""
    out: list[bytes] = []
    append = out.append
    walk = LineWalk(conv.index)  # folds come by their start
    for f in folds:
        if f.inner is not None and not line_folding_only:
            r = conv.range_json(*f.inner)
            start, end = r["start"], r["end"]
            if end["line"] > start["line"]:
                append(
                    b'{"startLine":%d,"startCharacter":%d,"endLine":%d,"endCharacter":%d}'
                    % (start["line"], start["character"], end["line"], end["character"])
                )
            continue
        line = walk.move(f.start)
        last = walk.peek(f.end)
        if last <= line:
            continue
        if f.kind:
            append(b'{"startLine":%d,"endLine":%d,"kind":%s}' % (line, last, _json_text(f.kind)))
        else:
            append(b'{"startLine":%d,"endLine":%d}' % (line, last))
    return RawJson(out)


def _json_text(s: str) -> bytes:
    import json

    return json.dumps(s).encode()


def selection_ranges(chains: Iterable[Sequence[tuple[int, int]]], conv: Converter) -> list[t.SelectionRange]:
    """Each chain of spans (innermost first) as nested selection ranges."""
    out = []
    for chain in chains:
        node: t.SelectionRange | None = None
        for start, end in reversed(chain):
            node = t.SelectionRange(conv.range(start, end), node)
        assert node is not None
        out.append(node)
    return out


# -- answers kept per connection across edits (lsp/kept.py) ----------------------------------


class RawJson:
    """A JSON array whose items are JSON text already (UTF-8 bytes): the protocol writes
    them into the response as they are (``lsp/protocol.py``), so a long file's outline
    is neither built as objects nor serialized, nor copied more than once, per request."""

    __slots__ = ("items",)

    def __init__(self, items: list[bytes]) -> None:
        self.items = items

    def json(self) -> bytes:
        """The array as JSON text."""
        return b"[" + b",".join(self.items) + b"]"

    def size(self) -> int:
        """The length of ``json()``."""
        items = self.items
        return sum(map(len, items)) + max(0, len(items) - 1) + 2

    def chunks(self, before: bytes, after: bytes) -> Iterator[bytes]:
        """``before`` + the array + ``after``, in pieces of about ``CHUNK`` bytes."""
        return _chunks(before + b"[", self.items, b"]" + after)


class LineTemplate:
    """A piece of JSON whose line numbers count from one line of the text (``line``):
    printed for another line (lines were added or removed above it), only they change.

    Only the printed piece is kept (UTF-8), with each line number's place in it and its
    line relative to ``line``: a long file's outline keeps no second copy as a template
    (docs/performance.md)."""

    __slots__ = ("data", "line", "spots")

    def __init__(self, template: str, rel: tuple[int, ...], line: int) -> None:
        # ``template``: ASCII (JSON escapes the rest) with ``%d`` per line, ``%%`` per "%"
        self.line = line
        spots: list[int] = []  # per line number: its line relative to ``line``, its place
        parts: list[str] = []
        at = 0
        numbers = iter(rel)
        for k, part in enumerate(_PLACEHOLDER.split(template)):
            if k % 2:  # a placeholder
                if part == "%%":
                    part = "%"
                else:
                    r = next(numbers)
                    spots.append(r)
                    spots.append(at)
                    part = str(line + r)
            parts.append(part)
            at += len(part)
        self.data = "".join(parts).encode()
        # two bytes a number in the usual piece (its lines and places under 32,768)
        self.spots = array("h" if max(map(abs, spots), default=0) < 1 << 15 else "i", spots)

    def at(self, line: int) -> bytes:
        """The piece printed for ``line``, as UTF-8."""
        if line != self.line:
            old, data, spots = self.line, self.data, self.spots
            parts: list[bytes] = []
            numbers: dict[int, tuple[bytes, int]] = {}  # by relative line: the new number, the old one's length
            done = 0  # of ``data``
            at = 0  # of the new piece
            for k in range(0, len(spots), 2):
                r, spot = spots[k], spots[k + 1]
                found = numbers.get(r)
                if found is None:
                    found = numbers[r] = (b"%d" % (line + r), len(b"%d" % (old + r)))
                number, was = found
                parts.append(data[done:spot])
                parts.append(number)
                at += spot - done
                if at >= 1 << 15 and spots.typecode == "h":  # the piece grew past two bytes' reach
                    spots = self.spots = array("i", spots)
                spots[k + 1] = at
                at += len(number)
                done = spot + was
            parts.append(data[done:])
            self.line, self.data = line, b"".join(parts)
        return self.data


_PLACEHOLDER = re.compile("(%%|%d)")


def _template_string(s: str) -> str:
    import json

    return json.dumps(s).replace("%", "%%")


def _range_template(conv: Converter, start: int, end: int, line0: int, rel: list[int]) -> str:
    index = conv.index
    l1, c1 = index.position(start)
    l2, c2 = index.position(end)
    rel.append(l1 - line0)
    rel.append(l2 - line0)
    return (
        '{"start":{"line":%d,"character":'
        + str(conv._column(l1, c1))
        + '},"end":{"line":%d,"character":'
        + str(conv._column(l2, c2))
        + "}}"
    )


def _symbol_template(s: Symbol, conv: Converter, line0: int, rel: list[int]) -> str:
    parts = [
        '{"name":',
        _template_string(s.name),
        ',"kind":',
        str(int(_SYMBOL_KIND[s.kind])),
        ',"range":',
        _range_template(conv, s.start, s.end, line0, rel),
        ',"selectionRange":',
        _range_template(conv, s.selection_start, s.selection_end, line0, rel),
    ]
    if s.detail:
        parts += [',"detail":', _template_string(s.detail)]
    if s.children:
        parts.append(',"children":[')
        parts.append(",".join(_symbol_template(c, conv, line0, rel) for c in s.children))
        parts.append("]")
    parts.append("}")
    return "".join(parts)


def symbol_template(s: Symbol, conv: Converter, line0: int) -> LineTemplate:
    """``document_symbol_json`` of one connection's symbol, its lines counted from ``line0``."""
    rel: list[int] = []
    template = _symbol_template(s, conv, line0, rel)
    return LineTemplate(template, tuple(rel), line0)


def range_template(conv: Converter, start: int, end: int, line0: int) -> LineTemplate:
    """``range_json`` as a piece of JSON, its lines counted from ``line0``."""
    rel: list[int] = []
    template = _range_template(conv, start, end, line0, rel)
    return LineTemplate(template, tuple(rel), line0)


def lenses_text(uri: str, info: LensInfo, rng: str, actions: Sequence[LensAction]) -> bytes:
    """``code_lenses`` of one connection as JSON text (its range ``rng`` already is):
    the lenses, separated by commas, as UTF-8."""
    import json

    target = json.dumps({"uri": uri, "connection": info.connection})
    return ",".join(
        '{"range":'
        + rng
        + ',"command":{"title":'
        + json.dumps(a.title)
        + ',"command":'
        + json.dumps(ext.ACTIONS[a.action])
        + ',"arguments":['
        + target
        + "]}}"
        for a in actions
    ).encode()


def document_symbol_tree(symbols: list[Symbol], conv: Converter) -> Wire:
    """``document_symbols`` for a client that takes a tree."""
    return Wire(document_symbol_json(s, conv) for s in symbols)


# -- the workspace: files no editor holds open, symbols of every file ------------------------


class WireObject(dict[str, Any]):
    """A result or notification object already in its JSON form (see ``Wire``): a
    workspace's reports hold thousands of diagnostics, which lsprotocol objects would
    take seconds to build and unstructure."""


#: a span of another file as a location on the wire ({"uri", "range"}), None when unknown
Locate = Callable[[Path, int, int], dict[str, Any] | None]


def diagnostic_json(f: Finding, conv: Converter, uri: str, *, related: bool, tags: bool) -> dict[str, Any]:
    """``diagnostic`` as it goes on the wire."""
    out: dict[str, Any] = {
        "range": conv.range_json(f.start, f.end),
        "message": f.message,
        "severity": f.severity,
        "code": f.code,
        "source": f.source or "snowauth",
    }
    if related and f.related:
        out["relatedInformation"] = [
            {"location": {"uri": uri, "range": conv.range_json(s, e)}, "message": msg} for s, e, msg in f.related
        ]
    if tags and 1 in f.tags:
        out["tags"] = [int(t.DiagnosticTag.Unnecessary)]
    return out


def cross_file_diagnostic(
    c: CrossFinding, conv: Converter, uri: str, locate: Locate, *, related: bool
) -> dict[str, Any]:
    """A finding that points to other files (workspace.cross_file), on the wire; ``locate``
    turns a span of another file into a location in the client's encoding."""
    d = diagnostic_json(c.finding, conv, uri, related=False, tags=False)
    if related:
        infos = [
            {"location": loc, "message": message}
            for path, start, end, message in c.elsewhere
            if (loc := locate(path, start, end)) is not None
        ]
        if infos:
            d["relatedInformation"] = infos
    return d


def cross_file_lsp(c: CrossFinding, conv: Converter, uri: str, locate: Locate, *, related: bool) -> t.Diagnostic:
    """``cross_file_diagnostic`` as an lsprotocol object (an open document's diagnostics)."""
    d = diagnostic(c.finding, conv, uri, related=False, tags=False)
    if related:
        infos = []
        for path, start, end, message in c.elsewhere:
            loc = locate(path, start, end)
            if loc is not None:
                r = loc["range"]
                rng = t.Range(t.Position(**r["start"]), t.Position(**r["end"]))
                infos.append(t.DiagnosticRelatedInformation(t.Location(loc["uri"], rng), message))
        d.related_information = infos or None
    return d


def publish_json(uri: str, items: list[dict[str, Any]]) -> WireObject:
    """`textDocument/publishDiagnostics` params for a file no editor holds open (no version)."""
    return WireObject(uri=uri, diagnostics=items)


def workspace_report(uri: str, result_id: str, items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """One file of the answer to `workspace/diagnostic`: its diagnostics, or "unchanged"
    (``items`` None) when the client's previous result is still right."""
    if items is None:
        return {"uri": uri, "resultId": result_id, "version": None, "kind": "unchanged"}
    return {"uri": uri, "items": items, "version": None, "kind": "full", "resultId": result_id}


def workspace_symbol(name: str, uri: str, conv: Converter, start: int, end: int, container: str) -> t.SymbolInformation:
    """A connection as a workspace symbol: the outline's kind, its header's location."""
    return t.SymbolInformation(
        name=name,
        kind=_SYMBOL_KIND["connection"],
        location=t.Location(uri, conv.range(start, end)),
        container_name=container,
    )


class RawTokens:
    """A semantic tokens result whose numbers are JSON text already
    (``semantic_tokens.json_pieces``): the protocol writes it as ``RawJson`` is written,
    so a long file's ~250,000 numbers are neither a list nor serialized per request."""

    __slots__ = ("head", "pieces")

    def __init__(self, pieces: list[bytes], result_id: str | None) -> None:
        self.pieces = pieces
        rid = b"" if result_id is None else b'"resultId":%s,' % _json_text(result_id)
        self.head = b"{" + rid + b'"data":['

    def size(self) -> int:
        """The length of the result's JSON text."""
        pieces = self.pieces
        return len(self.head) + sum(map(len, pieces)) + max(0, len(pieces) - 1) + 2

    def chunks(self, before: bytes, after: bytes) -> Iterator[bytes]:
        """``before`` + the result + ``after``, in pieces of about ``CHUNK`` bytes."""
        return _chunks(before + self.head, self.pieces, b"]}" + after)


# -- formatting's edits as JSON text ------------------------------------------------------------


def formatting_edits_json(conv: Converter, edits: Iterable[Edit]) -> RawJson:
    """``formatting_edits`` as JSON text (``RawJson``): a long file's formatting makes
    thousands of edits, which as dicts, then serialized by pygls, were a megabyte more
    at its peak (docs/performance.md)."""
    index = conv.index
    column = conv._column
    out: list[bytes] = []
    append = out.append
    texts: dict[str, bytes] = {}  # short ones (most edits of a long file insert a blank line)
    for e in edits:
        l1, c1 = index.position(e.start)
        c1 = column(l1, c1)
        if e.end == e.start:
            l2, c2 = l1, c1
        else:
            l2, c2 = index.position(e.end)
            c2 = column(l2, c2)
        found = texts.get(e.text) if len(e.text) <= 2 else None
        if found is None:
            found = _json_text(e.text)
            if len(e.text) <= 2:
                texts[e.text] = found
        append(
            b'{"range":{"start":{"line":%d,"character":%d},"end":{"line":%d,"character":%d}},"newText":%s}'
            % (l1, c1, l2, c2, found)
        )
    return RawJson(out)


# -- answers written as JSON text, sent a piece at a time -----------------------------------

CHUNK = 1 << 16  # bytes per write of a long answer


def _chunks(head: bytes, items: list[bytes], tail: bytes) -> Iterator[bytes]:
    """``head`` + ``items`` separated by commas + ``tail``, joined ``CHUNK`` bytes at a
    time: a long file's outline (2.6 MB) is written without a copy of it whole, which
    was the peak of memory after each edit (docs/performance.md)."""
    seq = [head]
    size = len(head)
    sep = b""
    for item in items:
        seq.append(sep)
        seq.append(item)
        sep = b","
        size += len(item) + 1
        if size >= CHUNK:
            yield b"".join(seq)
            seq.clear()
            size = 0
    seq.append(tail)
    yield b"".join(seq)


# -- folding ranges kept per chunk across edits (folding.LineFolds, lsp/kept.py) -------------


def folding_piece(folds: Sequence[LineFold], conv: Converter) -> bytes:
    """One chunk's folds (``folding.LineFold``, each folding a line) as ``folding_ranges``
    writes them, separated by commas: a value folded to the character with its columns
    in the client's units, others by lines (with their kind)."""
    out: list[bytes] = []
    append = out.append
    for start, end, kind, first, last in folds:
        if first >= 0:
            append(
                b'{"startLine":%d,"startCharacter":%d,"endLine":%d,"endCharacter":%d}'
                % (start, conv._column(start, first), end, conv._column(end, last))
            )
        elif kind:
            append(b'{"startLine":%d,"endLine":%d,"kind":%s}' % (start, end, _json_text(kind)))
        else:
            append(b'{"startLine":%d,"endLine":%d}' % (start, end))
    return b",".join(out)
