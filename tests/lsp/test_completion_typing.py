"""Completion as a person uses it, over a real LSP session: every item offered in the
places where a connection is typed from scratch is accepted the way an editor does it
(the snippet expanded, the user's own text typed into its first placeholder, the other
placeholders left at their defaults, `$0` empty), and the file must still be TOML.

Presets: VS Code and Neovim (both expand snippets) and a client without snippet support
(the text is inserted as it is)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from snowauth import model
from snowauth.analysis import analyze
from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from tests.kit.clock import NOW
from tests.kit.lsp import SERVER

URI = "file:///tmp/snowauth-typing/team.snowauth.toml"
URL = "https://dev1.service-now.com"
PRESETS = ("visual-studio-code", "neovim", "plain")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ}),
    params=list(PRESETS),
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    preset = str(request.param)
    caps = client_capabilities("visual-studio-code" if preset == "plain" else preset)
    if preset == "plain":  # a client that inserts plain text only
        item = caps.text_document.completion.completion_item  # type: ignore[union-attr]
        item.snippet_support = False  # type: ignore[union-attr]

    await lsp_client.initialize_session(t.InitializeParams(capabilities=caps))
    yield lsp_client
    await lsp_client.shutdown_session()


def encoding(client: LanguageClient) -> str:
    general = client.capabilities.general if client.capabilities else None  # type: ignore[union-attr]
    offered = [str(getattr(e, "value", e)) for e in (general.position_encodings or [])] if general else []
    return offered[0] if offered else "utf-16"


# -- a snippet expander, as editors implement the LSP snippet syntax -------------------------------


@dataclass
class Stop:
    number: int
    start: int
    end: int
    choices: list[str] | None


def expand(snippet: str) -> tuple[str, list[Stop]]:
    """The text of ``snippet`` with every placeholder at its default (a choice at its first
    value, `$0` empty) and where each tab stop landed."""
    out: list[str] = []
    stops: list[Stop] = []
    i = 0

    def length() -> int:
        return sum(map(len, out))

    while i < len(snippet):
        ch = snippet[i]
        if ch == "\\" and i + 1 < len(snippet) and snippet[i + 1] in "\\$}":
            out.append(snippet[i + 1])
            i += 2
            continue
        m = re.compile(r"\$(\d+)|\$\{(\d+)\}").match(snippet, i)
        if m:
            n = int(m.group(1) or m.group(2))
            stops.append(Stop(n, length(), length(), None))
            i = m.end()
            continue
        m = re.compile(r"\$\{(\d+)\|((?:[^|\\]|\\.)*)\|\}").match(snippet, i)
        if m:
            choices = [re.sub(r"\\(.)", r"\1", c) for c in re.split(r"(?<!\\),", m.group(2))]
            stops.append(Stop(int(m.group(1)), length(), length() + len(choices[0]), choices))
            out.append(choices[0])
            i = m.end()
            continue
        m = re.compile(r"\$\{(\d+):").match(snippet, i)
        if m:
            j, inner = m.end(), []
            while True:  # the default, up to the first `}` not escaped
                c = snippet[j]
                if c == "\\" and snippet[j + 1] in "\\$}":
                    inner.append(snippet[j + 1])
                    j += 2
                    continue
                if c == "}":
                    break
                assert c != "$", f"unescaped `$` (or a nested placeholder) in {snippet!r}"
                inner.append(c)
                j += 1
            text = "".join(inner)
            stops.append(Stop(int(m.group(1)), length(), length() + len(text), None))
            out.append(text)
            i = j + 1
            continue
        # a `$` not escaped starts a variable (`${env:X}` would become a placeholder)
        assert ch != "$", f"unescaped `$` in {snippet!r} at {i}"
        out.append(ch)
        i += 1
    return "".join(out), stops


def typed_for(line_before: str, default: str, user_text: str) -> str:
    """What a person types into a placeholder: their text in a string, a number where a
    number is asked, a name where a key or a table name is asked."""
    in_string = line_before.count('"') % 2 == 1 or line_before.count("'") % 2 == 1
    if in_string:
        return user_text
    if re.fullmatch(r"-?\d+(\.\d+)?", default):
        return "45"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z", default):
        return "2031-05-01T10:00:00Z"
    return "my-value"


def accept(text: str, item: t.CompletionItem, enc: str, user_text: str, *, exact: bool = False) -> tuple[str, int]:
    """The document after accepting ``item`` and typing ``user_text`` into its first
    placeholder (a choice: picking its last value; unless ``exact``, what a person types
    there: see ``typed_for``), and where the cursor is then."""
    edit = item.text_edit
    assert isinstance(edit, t.TextEdit), item  # the server always sends a range
    conv = Converter(LineIndex(text), enc)
    start, end = conv.offset(edit.range.start), conv.offset(edit.range.end)
    if item.insert_text_format != t.InsertTextFormat.Snippet:
        return text[:start] + edit.new_text + text[end:], start + len(edit.new_text)
    body, stops = expand(edit.new_text)
    cursor = start + len(body)
    final = [s for s in stops if s.number == 0]
    if final:
        cursor = start + final[0].start
    first = [s for s in stops if s.number != 0]
    if first:
        stop = min(first, key=lambda s: s.number)
        line_before = (text[:start] + body[: stop.start]).rsplit("\n", 1)[-1]
        default = body[stop.start : stop.end]
        typed = typed_for(line_before, default, user_text)
        if exact or stop.choices:
            typed = user_text if exact else stop.choices[-1]  # type: ignore[index]
        body = body[: stop.start] + typed + body[stop.end :]
        cursor = start + stop.start + len(typed)
    return text[:start] + body + text[end:], cursor


def assert_toml(text: str, why: str) -> None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise AssertionError(f"{why} gives invalid TOML ({e}):\n{text}") from None
    syntax = [f.message for f in analyze(text, Environment({}, None), NOW).findings if f.code == "toml-syntax"]
    assert not syntax, (why, syntax, text)


async def complete(client: LanguageClient, text: str, offset: int) -> t.CompletionList:
    conv = Converter(LineIndex(text), encoding(client))
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(URI, "snowauth-toml", 1, text)))
    try:
        got = await client.text_document_completion_async(
            t.CompletionParams(t.TextDocumentIdentifier(URI), conv.position(offset))
        )
    finally:
        client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(URI)))
    assert isinstance(got, t.CompletionList)
    return got


# -- the places where a connection is typed ------------------------------------------------------

OTHER = '[connections.prod]\ninstance = "prod1"\n\n'
CONTEXTS = {
    "empty file": "|",
    "empty line of a new file, word typed": "conn|",
    "new connection table": "[connections.dev]\n|",
    "after [": "[|",
    "after [ with ] auto-closed": "[|]",
    "after [connections.": OTHER + "[connections.|",
    "after [connections.de": OTHER + "[connections.de|",
    "after [connections.de with ]": OTHER + "[connections.de|]",
    "after [connections.dev.": OTHER + "[connections.dev.|",
    "default value": "default = |\n" + OTHER,
    "default value in quotes": 'default = "|"\n' + OTHER,
    "inside the token table": "[connections.dev.token]\n|",
    **{f"table of a {g} connection": f'[connections.dev]\ngrant_type = "{g}"\n|' for g in model.GRANTS},
    **{f"value of {k}": f"[connections.dev]\n{k} = |" for k in model.CONNECTION_KEYS},
    **{f"value of {k} in quotes": f'[connections.dev]\n{k} = "|"' for k in model.CONNECTION_KEYS},
    **{f"value of {k} in an open quote": f'[connections.dev]\n{k} = "|' for k in model.CONNECTION_KEYS},
}
# places where some item must be offered (the others may rightly offer nothing)
MUST_OFFER = {"empty file", "new connection table", "after [", "after [connections.de", "default value"}


@pytest.mark.parametrize("user_text", [URL, "my-value"])
async def test_every_item_typed_into_gives_valid_toml(client: LanguageClient, user_text: str) -> None:
    enc = encoding(client)
    offered, broken = 0, []
    for name, with_cursor in CONTEXTS.items():
        offset = with_cursor.index("|")
        text = with_cursor.replace("|", "", 1)
        items = (await complete(client, text, offset)).items
        if name in MUST_OFFER:
            assert items, f"nothing offered in {name}"
        for item in items:
            after, cursor = accept(text, item, enc, user_text)
            if item.insert_text_format != t.InsertTextFormat.Snippet and after[:cursor].endswith("connections."):
                # without snippets the header's name is typed after the insert, then the
                # item that closes the header is taken
                after, cursor = after[:cursor] + "my-value" + after[cursor:], cursor + len("my-value")
                top = visible((await complete(client, after, cursor)).items, after[:cursor], enc)[0]
                after, _ = accept(after, top, enc, user_text)
            try:
                assert_toml(after, f"{name}: accepting {item.label!r} and typing")
            except AssertionError as e:
                broken.append(str(e))
            offered += 1
    assert not broken, "\n\n".join(broken)
    assert offered > 150


def visible(items: Sequence[t.CompletionItem], text: str, enc: str) -> list[t.CompletionItem]:
    """The items an editor keeps on screen: those whose filter text starts with the word
    typed from the edit's start to the cursor, best sort text first."""
    out = []
    for item in items:
        edit = item.text_edit
        assert isinstance(edit, t.TextEdit)
        word = text[Converter(LineIndex(text), enc).offset(edit.range.start) :]
        if (item.filter_text or item.label).lower().startswith(word.lower()):
            out.append(item)
    return sorted(out, key=lambda i: (not i.preselect, i.sort_text or i.label))


@pytest.mark.parametrize("auto_closed", [True, False])
async def test_typing_a_new_header_name_then_enter_closes_the_header(client: LanguageClient, auto_closed: bool) -> None:
    """`[`, accept the connection item, type `dev` letter by letter, Enter: `[connections.dev]`."""
    enc = encoding(client)
    closing = "]" if auto_closed else ""
    text, cursor = "[" + closing, 1
    first = visible((await complete(client, text, cursor)).items, text[:cursor], enc)[0]
    assert "connections" in first.label
    # the first letter replaces the name placeholder (a plain client: it is typed after the insert)
    snippet = first.insert_text_format == t.InsertTextFormat.Snippet
    text, cursor = accept(text, first, enc, "d", exact=True)
    if not snippet:
        text, cursor = text[:cursor] + "d" + text[cursor:], cursor + 1
    assert text[:cursor] == "[connections.d" and text[cursor:] in ("", "]"), text
    listed = await complete(client, text, cursor)
    for letter in "ev":
        text, cursor = text[:cursor] + letter + text[cursor:], cursor + 1
        if listed.is_incomplete:  # the editor asks again; else it filters what it has
            listed = await complete(client, text, cursor)
    shown = visible(listed.items, text[:cursor], enc)
    assert shown, "nothing on screen after typing `dev`"
    assert [i.label for i in shown] != ["connections.dev.token"]
    top = shown[0]
    assert top.label == "[connections.dev]", [i.label for i in shown]
    after, _ = accept(text, top, enc, "")
    assert after.startswith("[connections.dev]") and "token" not in after, after
    assert_toml(after, "Enter on the first item")
    assert tomllib.loads(after) == {"connections": {"dev": {}}}
