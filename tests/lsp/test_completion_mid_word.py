"""Completion accepted in the middle of a word, over a real LSP session (VS Code and
Neovim presets): the item's edit replaces the whole key, value or name under the
cursor, not only the text before it (docs/decisions.md, "Completion replaces the word
under the cursor"). Each case applies the returned edit the way the editor does and
checks the resulting text."""

from __future__ import annotations

import tomllib

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex
from tests.kit.lsp import PRESETS, accept_completion, negotiated_encoding, session_fixture
from tests.kit.lsp import open_doc as _open

client = session_fixture(presets=PRESETS, env={"SNOW_MID_PASSWORD": "not-shown"})

URI = "file:///tmp/snowauth-mid-word/team.snowauth.toml"
DEV = '[connections.dev]\ninstance = "dev12345"\n'
PROD = '[connections.prod]\ninstance = "prod12345"\n'

# (text with the cursor `|`, the label accepted, the text expected after)
CASES = {
    "key typed alone": (DEV + "grant_t|ype\n", "grant_type", DEV + 'grant_type = "password"\n'),
    "key with its value after": (
        DEV + 'usern|me = "integration.user"\n',
        "username",
        DEV + 'username = "integration.user"\n',
    ),
    "key at the end of a word, value after": (
        DEV + 'user| = "integration.user"\n',
        "username",
        DEV + 'username = "integration.user"\n',
    ),
    "key in an inline table": (
        '[connections]\ndev = { instance = "dev12345", grant_t|ype = "password" }\n',
        "grant_type",
        '[connections]\ndev = { instance = "dev12345", grant_type = "password" }\n',
    ),
    "top-level key": (
        'defa|lt = "prod"\n' + PROD,
        "default",
        'default = "prod"\n' + PROD,
    ),
    "quoted value": (
        DEV + 'grant_type = "passw|rod"\n',
        "password",
        DEV + 'grant_type = "password"\n',
    ),
    "quoted value, quote not closed": (
        DEV + 'grant_type = "passw|rod\n',
        "password",
        DEV + 'grant_type = "password"\n',
    ),
    "bare value": (DEV + "pkce = tr|eu\n", "true", DEV + "pkce = true\n"),
    "default value": ('default = "pr|d"\n' + PROD, '"prod"', 'default = "prod"\n' + PROD),
    "environment variable": (
        DEV + 'password = "${env:SNOW_MID_P|WD}"\n',
        "SNOW_MID_PASSWORD",
        DEV + 'password = "${env:SNOW_MID_PASSWORD}"\n',
    ),
    "header name, ] after": (PROD + "[connections.d|ev]\n", "[connections.dev]", PROD + "[connections.dev]\n"),
    "header name, no ]": (PROD + "[connections.d|ev\n", "[connections.dev]", PROD + "[connections.dev]\n"),
    "connection name under [connections]": (
        '[connections]\npr|od.instance = "prod12345"\nprod.client_id = "x"\n',
        "prod",
        '[connections]\nprod.instance = "prod12345"\nprod.client_id = "x"\n',
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_accepting_an_item_mid_word_replaces_the_whole_word(client: LanguageClient, case: str) -> None:
    with_cursor, label, expected = CASES[case]
    offset = with_cursor.index("|")
    text = with_cursor.replace("|", "", 1)
    enc = negotiated_encoding(client)
    _open(client, URI, text)
    try:
        got = await client.text_document_completion_async(
            t.CompletionParams(t.TextDocumentIdentifier(URI), Converter(LineIndex(text), enc).position(offset))
        )
    finally:
        client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(URI)))
    assert isinstance(got, t.CompletionList)
    items = [i for i in got.items if i.label == label]
    assert len(items) == 1, [i.label for i in got.items]
    after = accept_completion(text, items[0], enc)
    assert after == expected
    tomllib.loads(after)  # still TOML
