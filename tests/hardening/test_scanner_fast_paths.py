"""The scanner's fast paths (a run of plain `key = "string"` lines, a plain `[header]`, a
plain inline-table member, a line that is one plain inline table) read what the full scanner reads: the same statements,
errors and chunks, on generated lines that are plain, almost plain, and nasty."""

from __future__ import annotations

import re
from unittest import mock

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth import syntax
from snowauth.syntax import scan

NEVER = re.compile(r"(?!)")

keys = st.sampled_from(
    ["instance", "client_id", "a-b_9", '"quoted"', "'lit'", "a.b", "a . b", '"caf\u00e9 \u2713"', "x\t", "", "é"]
)
values = st.sampled_from(
    [
        '"plain"', '""', '"${env:SNOW_SECRET}"', '"caf\u00e9 \u2713 \U0001f600"', '"tab\\there"', '"a\\"b"',
        '"bad\\q"', '"\\u00e9"', '"unterminated', "'literal'", '"""\nmulti\nline"""', "'''\nraw\n'''", "42",
        "2026-11-28T09:00:00Z", "true", "[1, 2]", '{ a = "x", b = "y" }', '{ a = "x", }', '{ a = 1, b = "z" }',
        '"x" # comment', '"x" trailing', "", '"\x01"',
        '{ a = "x", b = 2026-11-28T09:00:00Z }', '{ a = 2026-13-28T09:00:00Z }', '{a="x",b="y"}',
        '{ a = "x" , b = "y" } # c', '{ a = "x" } x', "{}", "{ }", '{ a = "x",', '{ a = 2026-11-28T09:00:00Zx }',
        '{ a = 2026-11-28T09:00:00Z, }', '{ a = "x" }}', '{ "q" = "x" }', '{ a = "\x01" }', '{ a = "x\r" }',
    ]
)  # fmt: skip
lines = st.one_of(
    st.tuples(st.sampled_from(["", " ", "\t"]), keys, st.sampled_from([" = ", "=", " =\t"]), values).map("".join),
    st.sampled_from(
        [
            "[connections.dev]",
            "[connections]",
            "[ connections . dev ]",
            "[[connections.x]]",
            "[a.b",
            "[\u00e9]",
            "# comment",
            "",
            "   ",
            "\t# tab",
            "[connections.dev] # c",
            "x = \r",
            "key",
        ]
    ),
)
texts = st.tuples(st.lists(lines, max_size=60), st.sampled_from(["\n", "\r\n"]), st.booleans()).map(
    lambda t: t[1].join(t[0]) + (t[1] if t[2] else "")
)


def _scanned(text: str) -> str:
    chunks, stop = scan(text)
    return repr([(c.start, c.reach, c.items, c.errors) for c in chunks]) + repr(stop)


def _slow(text: str) -> str:
    with (
        mock.patch.object(syntax, "_FAST_ENTRY", NEVER),
        mock.patch.object(syntax, "_FAST_HEADER", NEVER),
        mock.patch.object(syntax, "_FAST_MEMBER", NEVER),
        mock.patch.object(syntax, "_FAST_INLINE", NEVER),
    ):
        return _scanned(text)


@settings(max_examples=400, deadline=None)
@given(text=texts)
def test_the_fast_paths_read_what_the_full_scanner_reads(text: str) -> None:
    note(repr(text))
    assert _scanned(text) == _slow(text)


def test_long_runs_of_plain_lines_are_chunked_alike() -> None:
    text = "".join(f"[connections.c{k}]\n" + "".join(f'k{j} = "v{j}"\n' for j in range(k % 40)) for k in range(60))
    assert _scanned(text) == _slow(text)
    assert _scanned(text.replace("\n", "\r\n")) == _slow(text.replace("\n", "\r\n"))
