"""The plain way of building a connection (``plain_build``, used when a file is opened)
equals the table rules' (``document.build_connection``) on every connection it accepts,
and accepts the forms almost every file is made of."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth.document import build_connection
from snowauth.incremental import Incremental
from snowauth.plain_build import plain_connection
from tests.kit.analysis import HEX32, password_keys, render

KEYS = ["instance", "grant_type", "client_id", "client_secret", "username", "password", "scope", "timeout"]
TOKEN_KEYS = ["access_token", "refresh_token", "expires_at", "token_type", "bogus"]
VALUES = [
    '"dev1"', '"password"', f'"{HEX32}"', '"${env:SNOW_SECRET}"', "30", "1.5", "true", "2026-11-28T09:00:00Z",
    '"caf\u00e9 \u2713 \U0001f600"', '"a\\tb\\u00e9"', "'lit'", '"""\nmulti\nline"""', "[1, 2]", "{ a = 1 }", '""',
]  # fmt: skip

key = st.sampled_from([*KEYS, "token", "export", "unknown_key", "token.access_token", "a.b", '"instance"'])
line = st.one_of(
    st.tuples(key, st.sampled_from(VALUES)).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.lists(st.tuples(st.sampled_from(TOKEN_KEYS), st.sampled_from(VALUES)), max_size=4).map(
        lambda kv: "token = { " + ", ".join(f"{k} = {v}" for k, v in kv) + " }"
    ),
    st.sampled_from(["# a comment", "", "client_id =", "client_secret", "[connections.dev.token]", "[other]"]),
)
connection = st.one_of(
    st.lists(line, max_size=20).map(lambda ls: "[connections.dev]\n" + "\n".join(ls) + "\n"),
    st.lists(st.tuples(key, st.sampled_from(VALUES)), max_size=6).map(
        lambda kv: "[connections]\ndev = { " + ", ".join(f"{k} = {v}" for k, v in kv) + " }\n"
    ),
)
newline = st.sampled_from(["\n", "\r\n"])


def _compare(text: str) -> int:
    """Build every connection both ways; the number the plain way accepted."""
    engine = Incremental(text)
    accepted = 0
    for g in engine.groups.values():
        if g.name is None:
            continue
        for c in g.chunks:
            c.rebase()
        plain = plain_connection(g.name, g.chunks, engine._section_end)
        b = build_connection(g.name, g.chunks, engine._section_end, len(text))
        if plain is None:
            continue
        accepted += 1
        conn, created = plain
        assert not b.out.issues, b.out.issues
        assert repr(conn) == repr(b.out.connections[g.name])
        assert created == b.created[g.name]
    return accepted


@settings(max_examples=300, deadline=None)
@given(
    before=st.sampled_from(["", "# caf\u00e9 \u2713 \U0001f600\n", 'default = "dev"\n', "[connections]\nx = 1\n"]),
    body=connection,
    after=st.sampled_from(["", '[connections.other]\ninstance = "o"\n', "\t# tab\n", "[connections.dev]\n"]),
    nl=newline,
)
def test_a_plain_connection_is_built_as_the_table_rules_build_it(before: str, body: str, after: str, nl: str) -> None:
    text = (before + body + after).replace("\n", nl)
    note(repr(text))
    _compare(text)


def test_the_usual_forms_are_plain() -> None:
    token = [("access_token", '"AT"'), ("expires_at", "2026-11-28T09:00:00Z")]
    table = render("table", password_keys(), name="a") + 'token = { access_token = "AT" }\n'
    inline = render("inline", password_keys(), name="b")
    many = "".join(render("table", password_keys(), name=f"c{i}") for i in range(20))
    assert _compare(table) == 1
    assert _compare(inline) == 1
    assert _compare(many + inline) == 21
    # written another way: built by the table rules
    assert _compare(render("dotted", password_keys(), name="d")) == 0
    assert _compare(render("table", password_keys(), token, name="e")) == 0
    assert _compare(render("inline", password_keys(), token, name="f")) == 0


inline_line = st.sampled_from(
    [
        'dev = { instance = "dev1", grant_type = "password" }',
        'other = { instance = "o" }',
        'dev.instance = "d"',
        'dev = "not a table"',
        "dev = {}",
        'connections.dev.instance = "t"',
        'connections.other.instance = "t"',
        "[connections.dev]",
        "[connections.dev.token]",
        "[connections.other]",
        "[[connections.dev]]",
        "[connections]",
        "[other]",
        'instance = "i"',
        "# caf\u00e9 \u2713 \U0001f600",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(inline_line, max_size=40),
    top=st.booleans(),
    nl=newline,
)
def test_inline_connections_among_other_statements_are_built_as_the_table_rules_build_them(
    lines: list[str], top: bool, nl: str
) -> None:
    """``dev = { … }`` under `[connections]` (chunks of many statements), with the same name
    elsewhere (a dotted key, its own table, at the top) or not."""
    text = nl.join(([] if top else ["[connections]"]) + lines) + nl
    note(repr(text))
    _compare(text)


def test_many_inline_connections_are_plain() -> None:
    text = "[connections]\n" + "".join(f'c{k} = {{ instance = "dev{k}" }}\n' for k in range(40))
    assert _compare(text) == 40
    assert _compare(text + 'c7.scope = "x"\n') == 39
    # the same name at the top, or in a table of its own: built by the table rules
    assert _compare('connections.c1.scope = "x"\n' + text) == 39
    assert _compare(text + "[connections.c2]\n") == 39
