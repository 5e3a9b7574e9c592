"""LSP handlers: each a few lines over the core (completion, hover, outline, lenses,
analysis) and ``convert``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lsprotocol import types as t

from snowauth import completion as completions
from snowauth import hover as hovers
from snowauth import lenses as code_lenses
from snowauth import outline
from snowauth.analysis import gc_paused
from snowauth.findings import FileAppend, Fix
from snowauth.lsp import convert
from snowauth.lsp.documents import Document, uri_path
from snowauth.lsp.server import SnowauthServer, guarded
from snowauth.secrets import DOTENV, Environment
from snowauth.token_edits import toml_datetime

GITIGNORE = ".gitignore"

COMMANDS = {
    "fetch": "snowauth.fetchToken",
    "refresh": "snowauth.refreshToken",
    "test": "snowauth.testConnection",
}


def register(ls: SnowauthServer) -> None:
    @ls.feature(t.INITIALIZE)
    def initialize(params: t.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and options.get("trusted") is False:
            ls.trusted = False

    @ls.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: t.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.docs[doc.uri] = Document(doc.uri, doc.text, doc.version)
        ls.diagnostics_changed(doc.uri)
        ls.check_git(doc.uri)
        ls.watch(doc.uri)

    @ls.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: t.DidSaveTextDocumentParams) -> None:
        ls.check_git(params.text_document.uri)
        ls.watch(params.text_document.uri)

    @ls.feature(t.INITIALIZED)
    def initialized(_params: t.InitializedParams) -> None:
        ls.spawn(ls.tick())

    @ls.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: t.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return  # an edit to a document that was never opened: nothing to apply it to
        doc.apply(list(params.content_changes), params.text_document.version, ls.encoding)
        ls.diagnostics_changed(doc.uri)

    @ls.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: t.DidCloseTextDocumentParams) -> None:
        if ls.docs.pop(params.text_document.uri, None) is not None:
            ls.clear_diagnostics(params.text_document.uri)

    @ls.feature(
        t.TEXT_DOCUMENT_DIAGNOSTIC,
        t.DiagnosticOptions(identifier="snowauth", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    @guarded(None)
    def diagnostic(params: t.DocumentDiagnosticParams) -> t.DocumentDiagnosticReport:
        doc = ls.docs.get(params.text_document.uri)
        items = ls.lsp_diagnostics(doc) if doc else []
        return t.RelatedFullDocumentDiagnosticReport(items=items)

    @ls.feature(
        t.TEXT_DOCUMENT_COMPLETION,
        t.CompletionOptions(trigger_characters=[".", '"', "[", "=", ":", "{", ","]),
    )
    @guarded(None)
    def completion(params: t.CompletionParams) -> t.CompletionList | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        a = doc.analysis(ls.env)
        conv = doc.converter(ls.encoding)
        env = Environment(ls.env, doc.folder)
        items = completions.complete(a, conv.offset(params.position), env, snippets=ls.snippets)
        return t.CompletionList(
            is_incomplete=any(c.incomplete for c in items),
            items=[convert.completion_item(c, conv, markdown=ls.completion_markdown) for c in items],
        )

    @ls.feature(t.TEXT_DOCUMENT_HOVER)
    @guarded(None)
    def hover(params: t.HoverParams) -> t.Hover | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        h = hovers.hover(doc.analysis(ls.env), conv.offset(params.position), datetime.now(UTC))
        if h is None:
            return None
        return t.Hover(convert.markup(h.markdown, ls.markdown), conv.range(h.start, h.end))

    @ls.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(None)
    def symbols(
        params: t.DocumentSymbolParams,
    ) -> list[dict[str, Any]] | list[t.SymbolInformation] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        conv = ls.converter(doc)
        hierarchical = bool(ls.cap("text_document.document_symbol.hierarchical_document_symbol_support"))
        key = ("symbols", hierarchical, conv.encoding)
        found: Any = doc.cache.get(key)  # editors ask again and again (outline, breadcrumbs…)
        if found is None:
            with gc_paused():
                symbols = outline.symbols(doc.analysis(ls.env))
                if hierarchical:
                    found = convert.Wire(convert.document_symbol_json(s, conv) for s in symbols)
                else:
                    found = convert.symbol_information(symbols, conv, doc.uri)
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
        from snowauth.gitstate import token_findings

        name = doc.path.name if doc.path is not None else None
        for f in [*a.findings, *token_findings(a, doc.git, name, fixes=True)]:
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
        out = convert.Wire()  # as they go on the wire: many of them in a long file

        def lens(rng: dict[str, Any], title: str, command: str, arg: list[dict[str, str]]) -> None:
            out.append({"range": rng, "command": {"title": title, "command": command, "arguments": arg}})

        with gc_paused():
            for info in code_lenses.lenses(doc.analysis(ls.env)):
                rng = conv.range_json(info.start, info.end)
                arg = [{"uri": doc.uri, "connection": info.connection}]
                for action in code_lenses.lens_actions(info, now):
                    lens(rng, action.title, COMMANDS[action.action], arg)
        return out

    @ls.feature("snowauth/listConnections")
    @guarded({"connections": []})
    def list_connections(params: Any) -> dict[str, Any]:
        uri = _get(params, "uri")
        doc = ls.docs.get(uri) if isinstance(uri, str) else None
        if doc is None and isinstance(uri, str):
            path = uri_path(uri)
            if path is None or not path.is_file():
                return {"connections": []}
            from snowauth.files import read_text

            try:
                doc = Document(uri, read_text(path)[0], None)
            except OSError:  # not a regular file, too large, unreadable
                return {"connections": []}
        if doc is None:
            return {"connections": []}
        a = doc.analysis(ls.env)
        conv = doc.converter(ls.encoding)
        default = a.layout.default
        # only the connection `default` names: a lone connection is used without asking,
        # but labelling it "(default)" would say the file has a `default` it does not have
        default_name = default[1].data if default and default[1].kind == "string" else None
        result = []
        for c in a.connections.values():
            start, end = c.extent if c.segments else c.header
            exp = c.token_expiry
            token = None
            if c.has_token:
                token = {
                    "expiresAt": toml_datetime(exp) if exp else None,
                    "hasRefreshToken": c.has_refresh_token,
                }
            result.append(
                {
                    "name": c.name,
                    "range": _range_json(conv.range(start, end)),
                    "selectionRange": _range_json(conv.range(*c.header)),
                    "isDefault": c.name == default_name,
                    "token": token,
                }
            )
        return {"connections": result}


def _get(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _range_json(r: t.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _dotenv_unignored(ls: SnowauthServer, folder: Path) -> bool:
    """Whether a `.env` written in ``folder`` might be published by git. git's own answer
    (found in the background on open and save, trusted workspaces only) when there is
    one; else (not known yet, an untrusted workspace where git never runs, a repository
    git was not asked about) yes inside anything git takes for a repository, unless the
    `.gitignore` beside it already has a `.env` line."""
    from snowauth import gitstate

    state = ls.dotenv_git.get(folder) if ls.trusted else None
    if state == gitstate.SAFE:
        return False
    if state in (gitstate.UNIGNORED, gitstate.TRACKED):
        return True
    return gitstate.in_repository(folder) and not gitstate.gitignore_lists(folder, DOTENV)


def _action(
    ls: SnowauthServer, doc: Document, conv: convert.Converter, fix: Fix, diag: t.Diagnostic
) -> t.CodeAction | None:
    command = None
    if fix.action:
        command = t.Command(fix.title, COMMANDS[fix.action], arguments=[{"uri": doc.uri, "connection": fix.connection}])
    edit = None
    title = fix.title
    if fix.edits or fix.appends:
        appends = []
        wanted = list(fix.appends)
        if doc.folder is not None and any(app.name == DOTENV for app in wanted) and _dotenv_unignored(ls, doc.folder):
            # the secret goes to a .env that git would publish: ignore it first
            wanted.insert(0, FileAppend(GITIGNORE, DOTENV + "\n"))
            title = title[:-1] + ", which is added to .gitignore)" if title.endswith(")") else title
        for app in wanted:
            if doc.folder is None or not ls.document_changes or not ls.resource_create:
                return None  # the fix needs to create or extend a file the client cannot
            from snowauth import files

            if app.name in ("", ".", "..") or "/" in app.name or "\\" in app.name:
                return None  # only a file directly in the document's folder
            target = doc.folder / app.name
            # the client writes wherever the path leads: checked again now (the analysis
            # may be older than the folder), a link (say to ~/.bashrc) is never written through
            if files.append_refusal(target, files.SECRET_MAX_BYTES) is not None:
                return None
            other_uri = target.as_uri()
            other = ls.docs.get(other_uri)
            if other is not None:
                text = other.text
            else:
                try:
                    text = files.read_bytes(target, files.SECRET_MAX_BYTES, follow_links=False).decode("utf-8")
                except FileNotFoundError:
                    text = ""
                except (OSError, UnicodeDecodeError):
                    return None  # its end is unknown: no edit rather than a wrong one
            from snowauth.positions import LineIndex

            idx = LineIndex(text)
            end = convert.Converter(idx, ls.encoding).position(len(text))
            lead = "\n" if text and not text.endswith(("\n", "\r")) else ""
            appends.append((other_uri, target.exists(), end, lead + app.text))
        edit = convert.workspace_edit(
            doc.uri, doc.version, conv, fix, document_changes=ls.document_changes, appends=appends
        )
    return t.CodeAction(
        title=title,
        kind=t.CodeActionKind.QuickFix,
        diagnostics=[diag],
        edit=edit,
        command=command,
        is_preferred=fix.preferred or None,
    )
