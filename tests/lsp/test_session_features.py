"""Editor features over a real LSP session, for the VS Code (UTF-16, pull diagnostics)
and Neovim (UTF-8, push diagnostics) presets."""

from __future__ import annotations

import asyncio

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import Editor, diagnostics

URI = "file:///tmp/snowauth-features/f.snowauth.toml"
TEXT = """# 漢字 and 😀 before anything
[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "😀漢字"
client_secret = "${env:SNOW_FEATURES_SECRET}"
password = "x"

[connections.old.token]
access_token = "t"
expires_at = 2020-01-01T00:00:00Z
"""


def encoding(client: LanguageClient) -> str:
    general = client.capabilities.general if client.capabilities else None  # type: ignore[union-attr]
    offered = [str(getattr(e, "value", e)) for e in (general.position_encodings or [])] if general else []
    return offered[0] if offered else "utf-16"


async def test_diagnostics_follow_incremental_edits_with_exact_ranges(client: LanguageClient) -> None:
    editor = Editor(client, encoding(client))
    editor.open(URI, TEXT)
    diags = await diagnostics(client, URI, 1)
    shape = next(d for d in diags if d.code == "client-id-shape")
    # `client_id = "😀漢字"`: the value starts at column 12; its width depends on the encoding
    width = {"utf-16": 2 + 2 + 2, "utf-8": 2 + 4 + 6, "utf-32": 2 + 3}[encoding(client)]
    assert shape.range == t.Range(t.Position(4, 12), t.Position(4, 12 + width))
    ignored = next(d for d in diags if d.code == "ignored-key")
    assert ignored.range == t.Range(t.Position(6, 0), t.Position(6, 8))
    assert ignored.severity == t.DiagnosticSeverity.Warning
    # type a typo into a key after the emoji line: the diagnostics follow the edit
    line6 = TEXT.index('password = "x"')
    editor._change(URI, [(line6, line6 + len("password"), "pasword")])
    diags = await diagnostics(client, URI, 2)
    unknown = next(d for d in diags if d.code == "unknown-key")
    assert unknown.range == t.Range(t.Position(6, 0), t.Position(6, 7))
    assert "ignored-key" not in {d.code for d in diags}


async def test_completion_hover_symbols(client: LanguageClient) -> None:
    editor = Editor(client, encoding(client))
    editor.open(URI, TEXT.replace('password = "x"\n', "\n"))
    completion = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(URI), t.Position(6, 0))
    )
    assert isinstance(completion, t.CompletionList)
    labels = [i.label for i in sorted(completion.items, key=lambda i: i.sort_text or "")]
    # every required key is present: only optional ones remain, alphabetical
    assert "scope" in labels and labels[:-1] == sorted(labels[:-1]) and labels[-1] == "token"
    assert "password" not in labels and "instance" not in labels  # ignored by the grant; present
    item = next(i for i in completion.items if i.label == "scope")
    assert item.documentation is not None
    hover = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(URI), t.Position(3, 2)))
    assert hover is not None and "grant" in str(hover.contents)
    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(t.TextDocumentIdentifier(URI)))
    assert symbols is not None
    names = [s.name for s in symbols]
    assert names[:2] == ["dev", "old"] or names[:2] == ["dev", "instance"]


async def test_code_action_fixes_and_lenses(client: LanguageClient) -> None:
    editor = Editor(client, encoding(client))
    text = TEXT.replace('grant_type = "client_credentials"', 'grant_type = "pasword"')
    editor.open(URI, text)
    diags = await diagnostics(client, URI, 1)
    wrong = next(d for d in diags if d.code == "invalid-grant-type")
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(URI), wrong.range, t.CodeActionContext([wrong]))
    )
    assert actions
    fix = next(a for a in actions if isinstance(a, t.CodeAction) and a.title == 'Use "password"')
    assert fix.edit is not None
    assert editor.apply(fix.edit).applied
    diags = await diagnostics(client, URI, 2)
    assert "invalid-grant-type" not in {d.code for d in diags}
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(t.TextDocumentIdentifier(URI)))
    assert lenses is not None
    titles = [(lens.range.start.line, lens.command.title) for lens in lenses if lens.command]
    # one actionable lens where there is no token (Neovim's codelens.run() asks nothing), its
    # title carrying the state; with a token, the state rides on Refresh
    assert [title for line, title in titles if line == 1] == ["Fetch token (no token yet)"]
    old = [title for line, title in titles if line == 8]
    assert len(old) == 3 and old[0].startswith("Refresh (expired ") and old[0].endswith(" days ago)")
    assert old[1:] == ["Test connection", "Fetch token"]
    by_title = {lens.command.title: lens.command.command for lens in lenses if lens.command}
    assert by_title["Fetch token (no token yet)"] == "snowauth.fetchToken"
    assert by_title[old[0]] == "snowauth.refreshToken"
    assert all(lens.command and lens.command.arguments for lens in lenses)
    expired = next(d for d in diags if d.code == "token-expired")
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(URI), expired.range, t.CodeActionContext([expired]))
    )
    # lsprotocol's client-side structuring reads a command-only CodeAction as a Command
    # whose `command` is the nested object printed; both spellings carry the same data
    found = [
        a.command.command if isinstance(a, t.CodeAction) and a.command else str(getattr(a, "command", ""))
        for a in actions or []
    ]
    assert len(found) == 1 and "snowauth.fetchToken" in found[0]


async def test_expired_token_quick_fix_runs_the_refresh_command(client: LanguageClient) -> None:
    editor = Editor(client, encoding(client))
    text = TEXT.replace('access_token = "t"\n', 'access_token = "t"\nrefresh_token = "r"\n')
    editor.open(URI, text)
    diags = await diagnostics(client, URI, 1)
    expired = next(d for d in diags if d.code == "token-expired")
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(URI), expired.range, t.CodeActionContext([expired]))
    )
    # a command-only CodeAction may be read back as a Command (see above)
    found = [
        a.command.command if isinstance(a, t.CodeAction) and a.command else str(getattr(a, "command", ""))
        for a in actions or []
    ]
    assert len(found) == 1 and "snowauth.refreshToken" in found[0] and "fetchToken" not in found[0]


async def test_close_clears_and_bad_requests_get_answers(client: LanguageClient) -> None:
    editor = Editor(client, encoding(client))
    editor.open(URI, TEXT)
    await diagnostics(client, URI, 1)
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(URI)))
    if client.capabilities.text_document.diagnostic is None:  # type: ignore[union-attr]
        for _ in range(100):  # the server publishes an empty list for the closed file
            if list(client.diagnostics.get(URI, [None])) == []:
                break
            await asyncio.sleep(0.05)
        assert list(client.diagnostics[URI]) == []
    # requests about a closed document and out-of-range positions still get answers
    hover = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(URI), t.Position(999, 999)))
    assert hover is None
    editor.open(URI, TEXT)
    far = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(URI), t.Position(9999, 9999))
    )
    assert far is None or isinstance(far, t.CompletionList)
