"""syntax.parse: spans of keys, headers and values; every error message with its exact span;
recovery after errors; agreement with tomllib on what is valid TOML."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from snowauth.syntax import Entry, Header, parse
from tests.kit.analysis import codes, having, lc, password_keys, render, run


def entries(text: str) -> list[Entry]:
    return [it for it in parse(text).items if isinstance(it, Entry)]


# -- structure and spans ----------------------------------------------------------------


def test_statements_keep_exact_spans() -> None:
    text = '# comment\ndefault = "dev"  # trailing\n[ connections . dev ]\n  "quoted key" . bare-key = 1\n[[arr]]\n'
    p = parse(text)
    assert p.errors == []
    kinds = [type(it).__name__ for it in p.items]
    assert kinds == ["Entry", "Header", "Entry", "Header"]
    default, header, dotted, arr = p.items
    assert isinstance(default, Entry) and isinstance(header, Header)
    assert isinstance(dotted, Entry) and isinstance(arr, Header)
    assert [(k.name, text[k.start : k.end]) for k in default.key] == [("default", "default")]
    assert default.value is not None
    assert text[default.value.start : default.value.end] == '"dev"'
    assert text[default.start : default.end] == 'default = "dev"'
    assert text[header.start : header.end] == "[ connections . dev ]"
    assert [k.name for k in header.key] == ["connections", "dev"]
    assert [text[k.start : k.end] for k in header.key] == ["connections", "dev"]
    assert not header.is_array
    assert [k.name for k in dotted.key] == ["quoted key", "bare-key"]
    assert [text[k.start : k.end] for k in dotted.key] == ['"quoted key"', "bare-key"]
    assert text[dotted.key_start : dotted.key_end] == '"quoted key" . bare-key'
    assert arr.is_array and text[arr.start : arr.end] == "[[arr]]"


@pytest.mark.parametrize(
    ("literal", "kind", "data"),
    [
        ('"a\\tb\\n\\"\\\\"', "string", 'a\tb\n"\\'),
        ('"\\u00e9\\U0001F600"', "string", "é😀"),
        ("'C:\\path'", "string", "C:\\path"),
        ('"""\nline1\nline2"""', "string", "line1\nline2"),
        ('"""a \\\n    b"""', "string", "a b"),
        ('"""quote""""', "string", 'quote"'),
        ("'''\nraw \\n'''", "string", "raw \\n"),
        ("''''quoted'''''", "string", "'quoted''"),
        ('""', "string", ""),
        ("42", "integer", 42),
        ("-17", "integer", -17),
        ("+1_000", "integer", 1000),
        ("0xDEAD_beef", "integer", 0xDEADBEEF),
        ("0o755", "integer", 0o755),
        ("0b1010", "integer", 10),
        ("3.14", "float", 3.14),
        ("-1e-3", "float", -0.001),
        ("6.626e34", "float", 6.626e34),
        ("true", "boolean", True),
        ("false", "boolean", False),
        ("2026-11-28T10:29:59Z", "datetime", datetime(2026, 11, 28, 10, 29, 59, tzinfo=UTC)),
        (
            "2026-11-28 10:29:59.5+01:30",
            "datetime",
            datetime(2026, 11, 28, 10, 29, 59, 500000, tzinfo=timezone(timedelta(hours=1, minutes=30))),
        ),
        ("2026-11-28T10:29:59", "datetime", datetime(2026, 11, 28, 10, 29, 59)),
        ("2026-11-28", "date", date(2026, 11, 28)),
        ("10:29:59", "time", time(10, 29, 59)),
    ],
)
def test_scalar_values(literal: str, kind: str, data: object) -> None:
    text = f"k = {literal}\n"
    (e,) = entries(text)
    assert parse(text).errors == []
    assert e.value is not None
    assert (e.value.kind, e.value.data) == (kind, data)
    assert text[e.value.start : e.value.end] == literal
    assert tomllib.loads(text)["k"] == data


@pytest.mark.parametrize("literal", ["inf", "+inf", "-inf", "nan"])
def test_special_floats(literal: str) -> None:
    (e,) = entries(f"k = {literal}")
    assert e.value is not None and e.value.kind == "float"


def test_arrays_and_inline_tables_nest_with_spans() -> None:
    text = 'k = [ 1, [2, "x"], # c\n  { a.b = 1, c = [] } , ]\n'
    (e,) = entries(text)
    assert parse(text).errors == []
    v = e.value
    assert v is not None and v.kind == "array"
    assert text[v.start : v.end] == text[4:-1]
    items = v.data
    assert isinstance(items, list)
    assert [it.kind for it in items] == ["integer", "array", "table"]
    table = items[2]
    assert text[table.start : table.end] == "{ a.b = 1, c = [] }"
    members = table.data
    assert [[k.name for k in m.key] for m in members] == [["a", "b"], ["c"]]


# -- errors: message and exact span -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ('a = "\\x"', [((0, 5), (0, 7), "Invalid escape `\\x`")]),
        ('a = "ok\\ud800"', [((0, 7), (0, 13), "Invalid Unicode escape")]),
        ("[a", [((0, 0), (0, 2), "Expected `]` to close the table header")]),
        ("[[a]", [((0, 3), (0, 4), "Expected `]]` to close the table header")]),
        ("[a.]", [((0, 3), (0, 4), "Expected a key after `.`")]),
        ("[]", [((0, 1), (0, 2), "Expected a table name after `[`")]),
        ("a.=1", [((0, 2), (0, 4), "Expected a key after `.`")]),
        ('"a = 1', [((0, 0), (0, 6), 'Unterminated quoted key: add the closing `"`')]),
        ("'a = 1", [((0, 0), (0, 6), "Unterminated quoted key: add the closing `'`")]),
        ('"""k""" = 1', [((0, 0), (0, 3), "A key cannot be a multi-line string")]),
        ("a = 1 b", [((0, 5), (0, 7), "Unexpected text after the value")]),
        ("[a]x", [((0, 3), (0, 4), "Unexpected text after the table header")]),
        ('a = "abc', [((0, 4), (0, 8), 'Unterminated string: add the closing `"`')]),
        ("a = 'x", [((0, 4), (0, 6), "Unterminated string: add the closing `'`")]),
        (
            'a = """x\ny',
            [
                ((0, 4), (0, 7), 'Unterminated multi-line string: add the closing `"""`'),
                ((1, 0), (1, 1), "Expected `=` and a value after `y`"),  # recovery goes on
            ],
        ),
        ("a = '''x", [((0, 4), (0, 7), "Unterminated multi-line string: add the closing `'''`")]),
        ("a = [1,", [((0, 4), (0, 5), "Unterminated array: add the closing `]`")]),
        ("a = [1,2", [((0, 8), (0, 8), "Expected `,` or `]` in the array")]),
        ("a = [1", [((0, 6), (0, 6), "Expected `,` or `]` in the array")]),
        ("a = [1 2]", [((0, 7), (0, 9), "Expected `,` or `]` in the array")]),
        ("a = {a=1,}", [((0, 8), (0, 9), "TOML does not allow a trailing comma in an inline table")]),
        ("a = {a}", [((0, 6), (0, 7), "Expected `=` after the key `a`")]),
        ("a = {a=}", [((0, 5), (0, 7), "Missing value after `=`")]),
        ("a = {a = 1", [((0, 10), (0, 10), "Expected `,` or `}` in the inline table, found a line break")]),
        ("a = {a = 1\nb = 2", [((0, 10), (1, 0), "found a line break")]),
        ("a = {a = 1 b", [((0, 11), (0, 12), "Expected `,` or `}` in the inline table, found text")]),
        ("a = nope", [((0, 4), (0, 8), '`nope` is not a valid value: strings need quotes (write "nope" with quotes)')]),
        ("a = 1.2.3", [((0, 4), (0, 9), "`1.2.3` is not a valid number, date or boolean")]),
        ("a = 01", [((0, 4), (0, 6), "`01` is not a valid")]),
        ("a = 1979-02-30", [((0, 4), (0, 14), "Invalid date or time: day is out of range for month")]),
        ("a = 25:00:00", [((0, 4), (0, 12), "Invalid time: hour must be in 0..23")]),
        ("=", [((0, 0), (0, 1), "Expected a key (`name = value`), a `[table]` header or a comment")]),
        ("a = \n", [((0, 0), (0, 4), "Missing value after `=`")]),
        ("a = # c", [((0, 0), (0, 4), "Missing value after `=`")]),
        ("a", [((0, 0), (0, 1), "Expected `=` and a value after `a`")]),
        ("a b", [((0, 2), (0, 3), "Expected `=` after the key `a`")]),
        ("a = ,", [((0, 4), (0, 5), "Expected a value")]),
        ('a = "x\x00"', [((0, 6), (0, 7), "Control character U+0000 is not allowed in TOML")]),
        ("# bell \x07\x07", [((0, 7), (0, 9), "Control character U+0007")]),
        ("a = 'del \x7f'", [((0, 9), (0, 10), "Control character U+007F")]),
        ('a = "x\x0cy"', [((0, 6), (0, 7), "Control character U+000C")]),
        ("a = 1\x0c", [((0, 5), (0, 6), "Unexpected text after the value")]),
    ],
)
def test_error_spans_and_messages(text: str, errors: list[tuple[tuple[int, int], tuple[int, int], str]]) -> None:
    p = parse(text)
    got = [(lc(text, e.start), lc(text, e.end), e.message) for e in p.errors]
    assert len(got) == len(errors), got
    for (start, end, message), (wstart, wend, wmessage) in zip(got, errors, strict=True):
        assert (start, end) == (wstart, wend), (message, text)
        assert wmessage in message
    for e in p.errors:
        assert 0 <= e.start <= e.end <= len(text)
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)


def test_a_header_without_closing_bracket_still_opens_its_table() -> None:
    p = parse("[connections.dev\ninstance = 1\n")
    header = p.items[0]
    assert isinstance(header, Header)
    assert [k.name for k in header.key] == ["connections", "dev"]
    assert len(p.errors) == 1


def test_several_errors_recover_and_later_connections_are_checked() -> None:
    good = "\n".join(f"{k} = {v}" for k, v in password_keys(client_secret='"hunter2"'))
    text = (
        'default = "dev\n'  # 0: unterminated string
        "[connections.broken\n"  # 1: bad header
        "x = = 1\n"  # 2: no value
        "y = [1, 2\n"  # 3: unterminated array: an array may span lines, so the error is
        "z = { a = 1,\n"  # 4: here, where the array cannot go on
        "[connections.dev]\n" + good + "\n"
        'scpoe = "x"\n'
        "[connections.other]\n"
        'instance = "http://example.com"\n'
        "a = tru\n"
    )
    a = run(text)
    syntax = [(lc(text, f.start)[0], f.message) for f in having(a, "toml-syntax")]
    assert [line for line, _ in syntax] == [0, 1, 2, 4, len(text.splitlines()) - 1]
    assert "Unterminated string" in syntax[0][1]
    assert "Expected `]`" in syntax[1][1]
    assert "Expected a value" in syntax[2][1]
    assert "Expected `,` or `]` in the array" in syntax[3][1]
    assert "`tru` is not a valid value" in syntax[4][1]
    # semantic diagnostics after the errors
    assert [f.connection for f in having(a, "literal-secret")] == ["dev"]
    assert [f.message for f in having(a, "unknown-key") if f.connection == "dev"] == [
        "Unknown key `scpoe` in the connection `dev`: did you mean `scope`?"
    ]
    assert [f.connection for f in having(a, "insecure-instance")] == ["other"]
    assert {f.connection for f in having(a, "missing-key")} == {"other", "broken"}
    assert "dev" in a.connections and "other" in a.connections


def test_recovery_inside_a_multiline_array() -> None:
    text = 'a = [\n  1,\n  2 3,\n]\nb = "ok"\nc = @\n'
    p = parse(text)
    # the stray `]` after the broken line is reported too; then the scan goes on
    assert [lc(text, e.start)[0] for e in p.errors] == [2, 3, 5]
    names = [[k.name for k in e.key] for e in entries(text)]
    assert ["b"] in names


def test_duplicate_errors_at_the_same_place_are_reported_once() -> None:
    p = parse('a = "\\q\\q"\n')
    assert len(p.errors) == 2  # two different places
    assert p.errors[0].start != p.errors[1].start


# -- unicode, BOM and line breaks ---------------------------------------------------------


def test_bom_is_skipped() -> None:
    text = "\ufeff" + render("table", password_keys())
    a = run(text)
    assert a.findings == []
    assert list(a.connections) == ["dev"]


def test_bom_in_the_middle_is_an_error() -> None:
    assert having(run("a = 1\n\ufeffb = 2\n"), "toml-syntax")


@pytest.mark.parametrize("odd", ["\u2028", "\u2029", "\x85", "\u000b"])
def test_unicode_separators_are_not_line_breaks_in_strings_and_comments(odd: str) -> None:
    text = f'# comment {odd} still comment = "x"\n[connections.dev]\nscope = "a{odd}b"\n'
    p = parse(text)
    control = odd == "\u000b"
    assert len(p.errors) == (2 if control else 0), p.errors
    values = [e.value.data for e in entries(text) if e.value is not None]
    assert values == [f"a{odd}b"]
    if not control:
        assert tomllib.loads(text)["connections"]["dev"]["scope"] == f"a{odd}b"


def test_crlf_and_lone_cr() -> None:
    text = 'a = 1\r\nb = "x"\rc = 3'
    p = parse(text)
    # CRLF is a line break; a lone CR is an error, after which the scanner reads on
    assert [(e.start, e.end) for e in p.errors] == [(14, 15)]
    assert [[k.name for k in e.key] for e in entries(text)] == [["a"], ["b"], ["c"]]


def test_non_ascii_offsets_are_code_points() -> None:
    text = 'k = "😀漢字e\u0301" # 😀\nj = bad'
    p = parse(text)
    (err,) = p.errors
    assert text[err.start : err.end] == "bad"
    (k, _) = entries(text)
    assert k.value is not None and k.value.data == "😀漢字e\u0301"
    assert (k.value.start, k.value.end) == (4, 4 + 7)


# -- agreement with tomllib ----------------------------------------------------------------


CORPUS = [
    "a = 1\na = 2",
    "a = 1\n[a]",
    "[a.b]\n[a]\n[a]",
    "[a]\n[a.b]\n[a]",
    "a = {}\n[a.b]",
    "a.b = 1\n[a]",
    "[a]\nb.c = 1\n[a.b]",
    "[a.b.c]\n[a]\nb.d = 1",
    "[connections.dev]\na=1\n[connections]\ndev.b = 2",
    "[connections.dev.token]\na=1\n[connections]\ndev.b = 2",
    "[connections]\ndev.a = 1\n[connections.dev.token]\nb=1",
    "[connections]\ndev.a = 1\n[connections.dev]\nb=1",
    "connections.dev.a = 1\n[connections]\ndev.b = 1",
    "connections.dev.a = 1\n[connections.dev.token]\nb = 1",
    "[connections.dev]\ntoken.a = 1\n[connections.dev.token]\nb = 1",
    "[connections.dev.token]\nb = 1\n[connections.dev]\ntoken.a = 1",
    "[connections]\ndev = {a = 1}\n[connections]",
    "[connections]\ndev = {a = 1}\ndev.b = 1",
    "[connections]\ndev = {a = 1, a = 2}",
    "[connections]\ndev = {a.b = 1, a.c = 2}",
    "[connections]\ndev = {a.b = 1, a = 2}",
    "x = [1, 2,]",
    "x = [1 2]",
    "x = { a = 1, }",
    "x = '''a''''",
    'x = """a"""""',
    'x = """a""""""',
    "x = 1_000",
    "x = 1__0",
    "x = _1",
    "x = 01",
    "x = +inf",
    "x = 1e",
    "x = 0x",
    "x = 1979-05-27 07:32:00",
    "x = 07:32:00",
    "x = 1979-05-27T07:32Z",
    '"a"."b" = 1\na.b = 2',
    'a = "\\x"',
    'a = "\\u00e9"',
    'a = "tab\there"',
    'a = "ctl\x01"',
    "# comment \x00",
    "[ a . b ]\n",
    "[ a ]]\n",
    "[[a]\n",
    "a = 1 # c\r\nb = 2",
    "=1",
    "a=1 b=2",
    '"" = 1',
    'a = """\nfoo\\\n  bar"""',
    "a = true1",
    "a = TRUE",
    "a = 1.",
    "a = .5",
    "a = -0",
    "[a]\n[[a]]",
    "[[a]]\n[a]",
    "a = [{b = 1}]\n[a.c]",
]


@pytest.mark.parametrize("text", CORPUS)
def test_validity_agrees_with_tomllib(text: str) -> None:
    try:
        tomllib.loads(text)
        valid = True
    except tomllib.TOMLDecodeError:
        valid = False
    a = run(text)
    toml_errors = [
        f for f in a.findings if f.code in ("toml-syntax", "duplicate-key", "duplicate-table", "duplicate-connection")
    ]
    if "[[" in text:
        # arrays of tables follow TOML's rules, and the format (which has none) says so too
        assert "array-of-tables" in codes(a)
    assert (toml_errors == []) is valid, [(f.code, f.message) for f in toml_errors]


def test_lone_cr_is_not_a_line_break_in_toml() -> None:
    # TOML 1.0 breaks lines at LF and CRLF only (docs/decisions.md); editors and LSP
    # positions still count a lone CR as one
    (err,) = parse("a = 1\rb = 2").errors
    assert (err.start, err.end, err.code) == (5, 6, "toml-syntax")
    assert "carriage return" in err.message
