"""Bad input never makes analysis, completion, hover, symbols or lenses raise, and every span
stays inside the text (and never splits a surrogate pair)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snowauth import model
from snowauth.analysis import Analysis, analyze
from snowauth.completion import complete
from snowauth.hover import hover
from snowauth.lenses import lens_state_title, lenses
from snowauth.outline import symbols
from snowauth.secrets import Environment
from tests.kit.analysis import HEX32, render
from tests.kit.clock import NOW

ENV = Environment({"SNOW_SECRET": "s", "SNOW_PW": "p"}, None)

REALISTIC = f"""# Connections of the integration team
default = "dev"
connections.jwt.instance = "acme"
connections.jwt.grant_type = "jwt_bearer"
connections.jwt.client_id = "{HEX32}"
connections.jwt.client_secret = "${{env:SNOW_SECRET}}"
connections.jwt.jwt_key_file = "keys/jwt.pem"
connections.jwt.jwt_subject = "svc"
connections.jwt.jwt_algorithm = "ES256"
connections.prod = {{ instance = "https://acme.service-now.com", grant_type = "client_credentials", \
client_id = "x", client_secret = "${{prompt}}", token = {{ access_token = "a", expires_at = 2026-01-01T00:00:00Z }} }}

[connections.dev]
instance = "dev12345"                 # bare name
grant_type = "password"
client_id = "{HEX32}"
client_secret = "${{env:SNOW_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_PW}}"
scope = "useraccount"
timeout = 30

[connections.dev.token]
access_token = "eyJhbGciOi..."
refresh_token = "rt-123"
token_type = "Bearer"
scope = "useraccount"
expires_at = 2026-11-28T10:29:59Z
refresh_expires_at = 2027-03-08T09:59:59Z

[connections.local]
instance = "http://127.0.0.1:8080"
grant_type = "authorization_code"
client_id = '{HEX32}'
redirect_uri = "http://localhost:53682/callback"
client_secret = "${{env:SNOW_SECRET}}"
pkce = false
scope = \"\"\"
useraccount
admin\"\"\"
token.access_token = 'tok'
"""


def splits_pair(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and "\ud800" <= text[offset - 1] <= "\udbff" and "\udc00" <= text[offset] <= "\udfff"


def check_spans(a: Analysis) -> None:
    text, n = a.text, len(a.text)
    for f in a.findings:
        assert 0 <= f.start <= f.end <= n, (f.code, f.start, f.end, n)
        assert not splits_pair(text, f.start) and not splits_pair(text, f.end), f
        for s, e, _ in f.related:
            assert 0 <= s <= e <= n
        for fix in f.fixes:
            for edit in fix.edits:
                assert 0 <= edit.start <= edit.end <= n, (f.code, fix.title)


def exercise(text: str, offsets: list[int] | None = None) -> Analysis:
    """Run every core feature on ``text``; assert what must always hold."""
    a = analyze(text, ENV, NOW)
    check_spans(a)
    n = len(text)
    for off in offsets if offsets is not None else sorted({0, n // 3, n // 2, n}):
        for c in complete(a, off, ENV, snippets=True):
            assert 0 <= c.start <= c.end <= n
        complete(a, off, ENV, snippets=False)
        h = hover(a, off, NOW)
        if h is not None:
            assert 0 <= h.start <= h.end <= n
    for s in symbols(a):
        assert 0 <= s.start <= s.selection_start <= s.selection_end <= s.end <= n
        for child in s.children:
            assert s.start <= child.start <= child.end <= s.end
    for lens in lenses(a):
        assert 0 <= lens.start <= lens.end <= n
        lens_state_title(lens, NOW)
    return a


def test_realistic_file_is_forty_lines_and_clean_but_for_known_findings() -> None:
    assert len(REALISTIC.splitlines()) == 40
    a = exercise(REALISTIC)
    assert {f.code for f in a.findings} <= {
        "client-id-shape",
        "token-expired",
        "unresolved-reference",
    }, [(f.code, f.message) for f in a.findings]
    assert set(a.connections) == {"dev", "prod", "local", "jwt"}


def test_every_prefix_of_a_realistic_file() -> None:
    for end in range(len(REALISTIC) + 1):
        exercise(REALISTIC[:end], [end, max(0, end - 1), end // 2])


def test_every_line_dropped_and_every_line_doubled() -> None:
    lines = REALISTIC.splitlines(keepends=True)
    for i in range(len(lines)):
        exercise("".join(lines[:i] + lines[i + 1 :]))
        exercise("".join(lines[: i + 1] + lines[i:]))


@pytest.mark.parametrize("seed", range(12))
def test_binary_junk(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(rng.choice([1, 50, 2000, 20000])))
    text = data.decode("utf-8", "replace")
    offsets = sorted({0, len(text)} | {rng.randrange(len(text) + 1) for _ in range(20)})
    exercise(text, offsets)
    # junk spliced into a good file
    cut = rng.randrange(len(REALISTIC))
    exercise(REALISTIC[:cut] + text[:300] + REALISTIC[cut:])


@pytest.mark.timeout(120)  # a hang detector; the speed is measured by benchmarks/
def test_ten_megabyte_file() -> None:
    head = REALISTIC + '[connections.huge]\nscope = "' + "x" * 500_000 + '"\n'
    filler = "# " + "padding " * 12 + "\n"
    text = head + filler * ((10_000_000 - len(head)) // len(filler) + 1)
    assert len(text) >= 10_000_000
    a = exercise(text, [0, len(text) // 2, len(text)])
    assert set(a.connections) == {"dev", "prod", "local", "jwt", "huge"}


@pytest.mark.timeout(120)  # a hang detector; the speed is measured by benchmarks/
def test_ten_thousand_connections() -> None:
    one = render("table", [("instance", '"dev{i}"'), ("grant_type", '"client_credentials"')])
    text = "".join(one.replace("{i}", str(i)).replace("connections.dev", f"connections.c{i}") for i in range(10_000))
    a = exercise(text, [len(text) - 1])
    assert len(a.connections) == 10_000
    assert len(symbols(a)) == 10_000
    missing = [f for f in a.findings if f.code == "missing-key"]
    assert len(missing) == 2 * 10_000  # client_id, client_secret


def test_deeply_dotted_keys() -> None:
    # deep, but within the nesting limit (100 levels a statement: key parts, arrays and
    # inline tables); x and y pass it (tests/security/test_attack_dos.py has the rest)
    deep = ".".join(f"k{i}" for i in range(45))
    text = (
        f"{deep} = 1\n"
        f"[{deep}]\n"
        f"connections.dev.{deep} = 1\n"
        f"[connections.dev.token.{deep}]\n"
        f"[connections]\ndev2 = {{ {deep} = {{ {deep} = 1 }} }}\n"
        + "x = "
        + "[" * 200
        + "]" * 200
        + "\n"
        + "y = "
        + "{ a = " * 100
        + "1"
        + " }" * 100
        + "\n"
    )
    a = exercise(text)
    assert "dev" in a.connections
    assert [f.code for f in a.findings if f.code == "toml-syntax"] == []
    assert [f.code for f in a.findings].count("nesting-too-deep") == 2


def test_array_of_tables_where_a_table_is_expected() -> None:
    text = (
        "[[connections.dev]]\ninstance = 'a'\n[[connections.dev]]\ninstance = 'b'\n"
        "[[connections]]\n[connections.dev]\ngrant_type = 'password'\n[[connections.dev.token]]\n"
        "expires_at = 2020-01-01T00:00:00Z\n"
    )
    a = exercise(text, list(range(len(text) + 1)))
    assert [f.code for f in a.findings].count("array-of-tables") == 4


WRONG_VALUES = [
    '"text"',
    "''",
    "42",
    "-1",
    "3.5",
    "inf",
    "nan",
    "true",
    "false",
    "2026-11-28T10:29:59Z",
    "2026-11-28T10:29:59",
    "2026-11-28",
    "10:29:59",
    "[]",
    '["a", 1]',
    "[[1], [2]]",
    "{}",
    '{ a = "b" }',
    '{ instance = "x" }',
]


@pytest.mark.parametrize("value", WRONG_VALUES)
def test_values_of_every_type_for_every_key(value: str) -> None:
    conn = "\n".join(f"{k} = {value}" for k in model.CONNECTION_KEYS)
    token = "\n".join(f"{k} = {value}" for k in model.TOKEN_KEYS)
    text = f"default = {value}\nconnections.x = {value}\n[connections.dev]\n{conn}\n[connections.dev.token]\n{token}\n"
    text += f"[connections]\nin = {{ {', '.join(f'{k} = {value}' for k in model.CONNECTION_KEYS)} }}\n"
    a = exercise(text, [len(text) // 4, len(text) // 2, len(text)])
    dev = a.connections["dev"]
    if value.startswith("{"):
        # a table where a value belongs: one wrong-type on each key
        assert sorted(p.name for p, _ in dev.wrong_tables) == sorted([*model.CONNECTION_KEYS, *model.TOKEN_KEYS])
        tables = {(p.start, p.end) for p, _ in dev.wrong_tables}
        assert tables <= {(f.start, f.end) for f in a.findings if f.code == "wrong-type"}
        return
    for key, spec in model.CONNECTION_KEYS.items():
        assign = dev.keys[key]
        expect_ok = {
            "string": value.startswith(('"', "'")),
            "boolean": value in ("true", "false"),
            "number": value in ("42", "-1", "3.5", "inf", "nan"),
        }[spec.type]
        wrong = [
            f
            for f in a.findings
            if f.code == "wrong-type" and (f.start, f.end) == (assign.value.start, assign.value.end)
        ]
        assert (wrong == []) is expect_ok, (key, value)


@pytest.mark.parametrize(
    "text",
    [
        "[",
        "[[",
        "]",
        "]]",
        "[connections",
        "[connections.dev",
        "[connections.dev]]",
        "[[connections.dev]",
        "{",
        "}",
        "a = {",
        "a = }",
        "a = {{",
        "a = [",
        "a = ]",
        "a = [[",
        "a = [{",
        "a = {[",
        '"',
        "'",
        '"""',
        "'''",
        'a = "',
        "a = '",
        'a = """',
        'a = """\n\n',
        "a = '''\nx",
        '[connections."dev]',
        "[connections.'dev]",
        '[connections.dev]\ninstance = "x\n',
        '[connections]\ndev = { instance = "x", grant_type = \'y',
        "[connections]\ndev = { instance = [1, {a = }",
        "key",
        "key =",
        "key = ",
        "connections.dev.instance",
        "connections.dev.instance =",
        "[connections.dev]\ninstance",
        "[connections.dev]\ninstance =",
        "[connections.dev]\ninstance = ",
        "[connections]\ndev =",
        "[connections]\ndev = {",
        "[connections]\ndev = { instance",
        "[connections]\ndev = { instance =",
        "\x00",
        "a = \x00",
        'a = "\x00"',
        "[connections.dev\x00]",
        '[connections.dev]\ninstance = "\x00\x00"\nclient_id\x00 = 1',
        "\ufeff",
        "\ufeff\ufeff",
        "\r",
        "\r\r\n\n\r",
        "a = 1\r",
        "\u2028\u2029\x85\x0c\x0b",
        "😀 = 1",
        "a = 😀",
        '[connections."😀"]\ninstance = "😀"',
        "\ud83d",
        'a = "\ud83d"',
        "\ud83d\ude00",
        "a.\ud83d\ude00 = 1",
        "a = \\",
        'a = "\\',
        'a = "\\u12"',
        'a = "\\U0011FFFF"',
    ],
)
def test_unbalanced_truncated_and_odd_characters(text: str) -> None:
    exercise(text, list(range(len(text) + 1)))


# -- property test --------------------------------------------------------------------------

ALPHABET = [
    *"[]{}=,.\"'#\n\r\t \\$:_-.0123456789abcxyzTZ",
    "\r\n",
    "😀",
    "漢",
    "e\u0301",
    "\u2028",
    "\x00",
    "\ufeff",
    "\ud83d\ude00",  # a surrogate pair, as a broken client could send it
    "connections",
    "dev",
    "instance",
    "grant_type",
    "token",
    "expires_at",
    '"${env:',
    '"""',
    "'''",
    "2026-11-28T10:29:59Z",
]
BASES = [
    REALISTIC,
    render("table", [("instance", '"dev1"'), ("grant_type", '"password"')], [("expires_at", "2020-01-01T00:00:00Z")]),
    render("inline", [("instance", '"dev1"'), ("client_secret", '"hunter2"')], [("access_token", '"a"')]),
    render("dotted", [("instance", '"http://x.com"'), ("pkce", "true")]),
    render("dotted_top", [("instance", '"dev1"'), ("scope", "1")]),
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, list[int]]:
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "duplicate"]))
        at = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(ALPHABET)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif op == "replace":
            text = text[:at] + draw(st.sampled_from(ALPHABET)) + text[at + draw(st.integers(1, 5)) :]
        elif op == "truncate":
            text = text[:at]
        else:
            end = min(len(text), at + draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
    offsets = draw(st.lists(st.integers(0, len(text)), min_size=1, max_size=4))
    return text, offsets


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_never_break_the_core(case: tuple[str, list[int]]) -> None:
    text, offsets = case
    exercise(text, offsets)
