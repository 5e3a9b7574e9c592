"""Semantic tokens over a real session, for the VS Code (UTF-16) and Neovim (UTF-8)
presets: the legend, exact tokens after a non-ASCII line, a delta after an edit that,
applied to the previous result, equals a full result, and a range."""

from __future__ import annotations

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.semantic_tokens import TOKEN_MODIFIERS, TOKEN_TYPES
from tests.kit.lsp import Editor, apply_semantic_delta, decode_semantic_tokens, negotiated_encoding, session_fixture

client = session_fixture(presets=("visual-studio-code", "neovim"))

URI = "file:///tmp/snowauth-semantic/s.snowauth.toml"
TEXT = """# café ✓ 😀
[connections.dev]
client_id = "é😀" # x
password = "${env:SNOW_PW}"
"""


async def _full(client: LanguageClient) -> t.SemanticTokens:
    result = await client.text_document_semantic_tokens_full_async(
        t.SemanticTokensParams(t.TextDocumentIdentifier(URI))
    )
    assert result is not None
    return result


async def test_the_legend_and_exact_tokens(client: LanguageClient) -> None:
    provider = client.initialize_result.capabilities.semantic_tokens_provider  # type: ignore[attr-defined]
    assert isinstance(provider, t.SemanticTokensOptions)
    assert list(provider.legend.token_types) == list(TOKEN_TYPES)
    assert list(provider.legend.token_modifiers) == ["declaration", "unknown", "secret"]
    assert provider.range and isinstance(provider.full, t.SemanticTokensFullDelta) and provider.full.delta
    encoding = negotiated_encoding(client)
    Editor(client, encoding).open(URI, TEXT)
    result = await _full(client)
    u16 = encoding == "utf-16"
    assert decode_semantic_tokens(result.data, TOKEN_TYPES, TOKEN_MODIFIERS) == [
        (0, 0, 11 if u16 else 16, "comment", ()),
        (1, 1, 11, "namespace", ()),
        (1, 13, 3, "namespace", ("declaration",)),
        (2, 0, 9, "property", ()),
        (2, 12, 5 if u16 else 8, "string", ()),
        (2, 18 if u16 else 21, 3, "comment", ()),
        (3, 0, 8, "property", ()),
        (3, 11, 1, "string", ()),
        (3, 12, 14, "macro", ("secret",)),
        (3, 26, 1, "string", ()),
    ]
    assert result.result_id


async def test_a_delta_after_an_edit_equals_a_full_result(client: LanguageClient) -> None:
    encoding = negotiated_encoding(client)
    editor = Editor(client, encoding)
    text = TEXT + "".join(f'[connections.c{i}]\ninstance = "dev{i}"\n# note é{i}\n' for i in range(50))
    editor.open(URI, text)
    first = await _full(client)
    assert first.result_id is not None
    at = text.index("dev25") + 3
    editor.type(URI, at, "😀")
    delta = await client.text_document_semantic_tokens_full_delta_async(
        t.SemanticTokensDeltaParams(t.TextDocumentIdentifier(URI), first.result_id)
    )
    assert isinstance(delta, t.SemanticTokensDelta)
    assert len(delta.edits) == 1 and len(delta.edits[0].data or []) == 1  # the string's length
    updated = apply_semantic_delta(list(first.data), delta)
    again = await _full(client)
    assert updated == list(again.data)
    # the token typed into: the string is one character (two UTF-16 units, four bytes) longer
    string = [tok for tok in decode_semantic_tokens(updated, TOKEN_TYPES, TOKEN_MODIFIERS) if tok[3] == "string"]
    assert (78 + 2, 11, len('"dev25"') + (2 if encoding == "utf-16" else 4), "string", ()) in string
    # a stale result id: the whole result again
    stale = await client.text_document_semantic_tokens_full_delta_async(
        t.SemanticTokensDeltaParams(t.TextDocumentIdentifier(URI), first.result_id)
    )
    assert isinstance(stale, t.SemanticTokens) and list(stale.data) == updated


async def test_a_range(client: LanguageClient) -> None:
    """The tokens of the chunks that hold the range: the few lines around it."""
    text = TEXT + "".join(f'[connections.c{i}]\ninstance = "${{env:X{i}}}"\n' for i in range(50))
    Editor(client, negotiated_encoding(client)).open(URI, text)
    line = 4 + 2 * 30 + 1  # the instance of c30
    result = await client.text_document_semantic_tokens_range_async(
        t.SemanticTokensRangeParams(t.TextDocumentIdentifier(URI), t.Range(t.Position(line, 0), t.Position(line, 5)))
    )
    assert result is not None
    tokens = decode_semantic_tokens(result.data, TOKEN_TYPES, TOKEN_MODIFIERS)
    assert (line, 12, len("${env:X30}"), "macro", ("secret",)) in tokens
    assert all(line - 2 <= at <= line + 2 for at, *_ in tokens), tokens
