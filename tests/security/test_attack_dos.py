"""Denial of service on open: a connection file written to make the passes over it hang
or crash. Each hostile file goes through the real `snowauth check` and through the real
language server over stdio; both must answer with the finding, and the statements after
the hostile part must still get their diagnostics.

The timeouts are hang detectors, not measures: the inputs are big enough that quadratic
work would take many minutes (200,000 unknown keys: 2 * 10^10 steps), while linear work
takes seconds."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.checks import SUGGEST_LIMIT
from snowauth.completion import complete
from snowauth.incremental import Incremental
from snowauth.secrets import Environment
from snowauth.syntax import MAX_DEPTH, parse
from tests.kit.cli import run_snowauth
from tests.kit.lsp import Editor, session_fixture

HANG = 120.0  # seconds: far beyond what linear work needs (20 s), far below quadratic work

client = session_fixture()

CONNECTION = (
    "[connections.dev]\n"
    'instance = "https://dev12345.service-now.com"\n'
    'grant_type = "client_credentials"\n'
    'client_id = "0123456789abcdef0123456789abcdef"\n'
    'client_secret = "${prompt}"\n'
)
# after the hostile part: its diagnostics prove the rest of the file was still read
SENTINEL = "\n[connections.sentinel]\nsentinel_bogus_key = 1\n"

DEEP = 3000  # levels: far past Python's recursion limit (1000)
PARTS = 100_000  # parts of one dotted key: quadratic path building is 5 * 10^9 steps
KEYS = 200_000


def deep_array() -> str:
    return "a = " + "[" * DEEP + "]" * DEEP + "\n"


def deep_inline_table() -> str:
    return "a = " + "{a=" * DEEP + "1" + "}" * DEEP + "\n"


def deep_array_in_a_connection() -> str:
    # the deep value sits among a connection's keys; the keys after it still count
    return CONNECTION.replace('client_id = "', "scope = " + "[" * DEEP + "]" * DEEP + '\nclient_id = "')


def deep_unclosed_arrays() -> str:
    # every line opens thousands of arrays that never close: no line may be read twice
    return "".join(f"k{i} = " + "[" * DEEP + "\n" for i in range(200))


def deep_values_with_escaped_quotes() -> str:
    # past the limit, values are skipped: a string that never closes must not be read to
    # the end of the text again from every line (`\"""` does not close the first one)
    lines = "".join(f"k{i} = " + "[" * (MAX_DEPTH + 1) + ' \\"""\n' for i in range(10_000))
    return "a = " + "[" * (MAX_DEPTH + 1) + ' """x\n' + lines


def deep_dotted_key() -> str:
    return ".".join(["a"] * PARTS) + " = 1\n"


def deep_header() -> str:
    return "[" + ".".join(["a"] * PARTS) + "]\n"


def unknown_keys() -> str:
    # each name is close to a known key: "did you mean" has to look for every one
    return CONNECTION + "".join(f"client_idd{i} = 1\n" for i in range(KEYS))


def unknown_top_level_keys() -> str:
    return "".join(f"top{i} = 1\n" for i in range(KEYS)) + CONNECTION


def keys_on_one_long_line() -> str:
    # every finding's column is counted in UTF-16 units (the `é`): not from the line start
    # each time
    return '[connections]\ndev = {s = "é", ' + ", ".join(f"k{i} = 1" for i in range(KEYS // 5)) + "}\n"


def many_headers() -> str:
    return CONNECTION + "[connections.dev]\n" * KEYS


# name -> (text without the sentinel, the code that must be reported)
ATTACKS: dict[str, tuple[Callable[[], str], str]] = {
    "deep-array": (deep_array, "nesting-too-deep"),
    "deep-inline-table": (deep_inline_table, "nesting-too-deep"),
    "deep-array-in-a-connection": (deep_array_in_a_connection, "nesting-too-deep"),
    "deep-unclosed-arrays": (deep_unclosed_arrays, "nesting-too-deep"),
    "deep-values-with-escaped-quotes": (deep_values_with_escaped_quotes, "nesting-too-deep"),
    "deep-dotted-key": (deep_dotted_key, "nesting-too-deep"),
    "deep-header": (deep_header, "nesting-too-deep"),
    "unknown-keys": (unknown_keys, "unknown-key"),
    "unknown-top-level-keys": (unknown_top_level_keys, "unknown-key"),
    "keys-on-one-long-line": (keys_on_one_long_line, "unknown-key"),
    "many-headers": (many_headers, "duplicate-connection"),
}


def hostile(name: str) -> str:
    return ATTACKS[name][0]() + SENTINEL


def sentinel_found(messages: list[str]) -> bool:
    return any("`sentinel_bogus_key`" in m for m in messages)


def read_to_the_end(found: list[t.Diagnostic], text: str) -> bool:
    """The server's diagnostics cover the whole file: the sentinel's, or (when the editor
    gets only the first 1,000 of a file's problems) a count of the others that makes up
    every problem the core finds in the file, the sentinel's among them."""
    if sentinel_found([d.message for d in found]):
        return True
    more = [d for d in found if d.code == "too-many-problems"]
    total = len(analyze(text, Environment({}, None)).findings)
    return len(more) == 1 and int(more[0].message.split()[0]) + len(found) - 1 == total


# -- the command line -------------------------------------------------------------------


@pytest.mark.timeout(2 * HANG)
@pytest.mark.parametrize("name", list(ATTACKS))
def test_check_reports_a_hostile_file_promptly(name: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.snowauth.toml"
    path.write_text(hostile(name), encoding="utf-8")
    out = run_snowauth("check", "--format", "json", str(path), timeout=HANG)
    assert out.stderr == "", out.stderr[-2000:]  # no traceback, nothing but the findings
    assert out.returncode == 1  # the file has errors, and the command said so
    rows = json.loads(out.stdout)
    code = ATTACKS[name][1]
    assert any(r["code"] == code for r in rows)
    assert sentinel_found([r["message"] for r in rows])
    if code == "nesting-too-deep":
        deep = [r for r in rows if r["code"] == code]
        assert all(r["severity"] == "error" and f"more than {MAX_DEPTH} levels" in r["message"] for r in deep)
        assert all("remove the extra nesting" in r["message"] for r in deep)


# -- the language server ------------------------------------------------------------------


async def published(client: LanguageClient, uri: str, version: int) -> list[t.Diagnostic]:
    """The diagnostics the server pushes for ``version`` (a hang fails the test)."""

    async def wait() -> list[t.Diagnostic]:
        while True:
            params = await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)

    return await asyncio.wait_for(wait(), HANG)


def sentinel_header(text: str) -> t.Position:
    """The position of `connections` in the sentinel's header."""
    line = text.count("\n", 0, text.index("[connections.sentinel]"))
    return t.Position(line, 3)


async def hover_answers(client: LanguageClient, uri: str, text: str) -> None:
    params = t.HoverParams(t.TextDocumentIdentifier(uri), sentinel_header(text))
    h = await asyncio.wait_for(client.text_document_hover_async(params), HANG)
    assert h is not None and "connections" in str(h.contents)


@pytest.mark.timeout(4 * HANG)
@pytest.mark.parametrize("name", list(ATTACKS))
async def test_the_server_reports_a_hostile_file_and_keeps_answering(
    name: str, client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.snowauth.toml"
    text = hostile(name)
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    editor = Editor(client)
    editor.open(uri, text)
    found = await published(client, uri, 1)
    code = ATTACKS[name][1]
    assert any(d.code == code for d in found)
    assert read_to_the_end(found, text)
    assert len(found) <= 1001  # at most 1,000 problems and the count of the others
    await hover_answers(client, uri, text)
    # an edit in the middle of the hostile part: scanned and checked again, promptly
    middle = len(text) // 2
    editor.type(uri, middle, "x")
    found = await published(client, uri, 2)
    assert read_to_the_end(found, editor.texts[uri])
    await hover_answers(client, uri, editor.texts[uri])


async def test_completion_on_a_line_thousands_of_tables_deep(client: LanguageClient, tmp_path: Path) -> None:
    # completion looks at the line before the cursor for the tables around it: once, not
    # once per table (quadratic), and without recursion (thousands of them)
    path = tmp_path / "hostile.snowauth.toml"
    line = '[connections]\ndev = {s = "' + "x" * 100_000 + '", ' + "a = {" * DEEP
    text = line + "\n" + SENTINEL
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    Editor(client).open(uri, text)
    found = await published(client, uri, 1)
    assert any(d.code == "nesting-too-deep" for d in found) and sentinel_found([d.message for d in found])
    doc = t.TextDocumentIdentifier(uri)
    at_end = t.Position(1, len(line.split("\n")[1]))
    deep = await asyncio.wait_for(client.text_document_completion_async(t.CompletionParams(doc, at_end)), HANG)
    assert isinstance(deep, t.CompletionList)  # an answer, not a failure turned into None
    at_start = t.Position(1, len("dev = {"))  # in the connection's own table: its keys
    near = await asyncio.wait_for(client.text_document_completion_async(t.CompletionParams(doc, at_start)), HANG)
    assert isinstance(near, t.CompletionList) and "instance" in [i.label for i in near.items]
    await hover_answers(client, uri, text)


# -- the limits themselves ------------------------------------------------------------------


def test_nesting_is_reported_where_the_limit_is_passed() -> None:
    within = "a = " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"  # the key is a level
    assert parse(within).errors == []
    past = "a = " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\nb = 2\n"
    errors = parse(past).errors
    assert [(e.code, e.start) for e in errors] == [("nesting-too-deep", 4 + MAX_DEPTH - 1)]
    dotted = ".".join(["k"] * (MAX_DEPTH + 5)) + " = 1\n"
    assert [(e.code, e.start) for e in parse(dotted).errors] == [("nesting-too-deep", 2 * MAX_DEPTH)]
    # the statements around a value nested too deep are read as usual
    a = analyze(CONNECTION.replace("client_id =", "scope = " + "[" * 500 + "]" * 500 + "\nclient_id ="))
    assert "client_id" in a.connections["dev"].keys
    assert [f.code for f in a.findings if f.code in ("nesting-too-deep", "toml-syntax")] == ["nesting-too-deep"]


def test_completion_inside_thousands_of_open_tables() -> None:
    text = "[connections]\ndev = " + "{a = " * DEEP
    assert complete(analyze(text), len(text), Environment({}, None), snippets=True) == []
    text = "[connections]\ndev = {x = 1, token = {"
    labels = [c.label for c in complete(analyze(text), len(text), Environment({}, None), snippets=True)]
    assert "access_token" in labels


DEEP_PIECES: list[Callable[[random.Random], str]] = [
    lambda r: "a = " + "[" * r.randint(95, 110) + "1" + "]" * r.randint(95, 110) + "\n",
    lambda r: "b = " + "[" * r.randint(99, 105) + "\n" + "1,\n" * r.randint(0, 3) + "]" * r.randint(0, 106) + "\n",
    lambda r: "c = " + "{a=" * r.randint(48, 53) + "1" + "}" * r.randint(48, 53) + "\n",
    lambda r: "d = " + "[" * 101 + ' """x\n' + r.choice(["", "y\n", '"""]]\n']) + "]" * r.randint(0, 101) + "\n",
    lambda r: "e = " + "[" * 101 + " '''\nz\n'''" + "]" * 101 + "\n",
    lambda r: "f = " + "[" * 101 + ' \\"""\n',
    lambda r: CONNECTION + "scope = " + "[" * 101 + "]" * 101 + "\n",
    lambda r: ".".join(["k"] * r.randint(95, 105)) + " = 1\n",
    lambda r: "[" + ".".join(["h"] * r.randint(95, 105)) + "]\n",
    lambda r: "g = " + "[" * 101 + "{x=1,\n y=2}" + "]" * 101 + "\n",
    lambda r: "h = [\n" + "[" * 101 + "\n" + "]" * 101 + ",\n]\n",
]
TYPED = ["[", "]", "{", "}", '"', "'", "\n", "\\", "#", "=", "x", ",", '"""', "k = "]


@pytest.mark.parametrize("seed", range(20))
def test_edits_around_values_nested_too_deep_analyse_as_a_fresh_open(seed: int) -> None:
    # past the limit, the skip decides where scanning resumes: the editor's incremental
    # analysis must find what a fresh analysis of the same text finds
    r = random.Random(seed)
    text = "".join(r.choice(DEEP_PIECES)(r) for _ in range(r.randint(3, 10)))
    env, now = Environment({}, None), datetime(2026, 1, 1, tzinfo=UTC)
    engine = Incremental(text)
    engine.analysis(env, now)
    for _ in range(30):
        if r.random() < 0.6:
            at, typed = r.randint(0, len(text)), r.choice(TYPED)
            new = text[:at] + typed + text[at:]
            engine.edit(new, at, at, len(typed))
        else:
            at = r.randrange(len(text))
            end = min(len(text), at + r.randint(1, 4))
            new = text[:at] + text[end:]
            engine.edit(new, at, end, 0)
        text = new
        found = [(f.start, f.end, f.code, f.message) for f in engine.analysis(env, now).findings]
        assert found == [(f.start, f.end, f.code, f.message) for f in analyze(text, env, now).findings]


def test_did_you_mean_is_looked_for_a_bounded_number_of_times() -> None:
    text = CONNECTION + "".join(f"client_idd{i} = 1\n" for i in range(SUGGEST_LIMIT + 50))
    unknown = [f for f in analyze(text).findings if f.code == "unknown-key"]
    assert len(unknown) == SUGGEST_LIMIT + 50
    assert all("did you mean `client_id`" in f.message for f in unknown[:SUGGEST_LIMIT])
    assert all("known keys: instance" in f.message for f in unknown[SUGGEST_LIMIT:])
