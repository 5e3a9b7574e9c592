"""The plain layout of a whole file (``plain_layout``, the one-pass analysis' build) equals
the table rules' (``document.build``) on every file it accepts, the findings of
``analyze`` are those of the table rules' layout byte for byte, and the forms almost
every file is made of are accepted."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth.analysis import analyze
from snowauth.checks import Checker
from snowauth.document import build
from snowauth.plain_layout import plain_layout
from snowauth.syntax import parse
from tests.kit.analysis import HEX32, environment, password_keys, render
from tests.kit.clock import NOW

KEYS = ["instance", "grant_type", "client_id", "client_secret", "username", "password", "scope", "timeout"]
TOKEN_KEYS = ["access_token", "refresh_token", "expires_at", "token_type", "bogus"]
VALUES = [
    '"dev1"', '"password"', f'"{HEX32}"', '"${env:SNOW_SECRET}"', "30", "1.5", "true", "2026-11-28T09:00:00Z",
    '"caf\u00e9 \u2713 \U0001f600"', '"a\\tb\\u00e9"', "'lit'", '"""\nmulti\nline"""', "[1, 2]", "{ a = 1 }", '""',
    '"http://dev.example.com"', "2020-01-01T00:00:00Z",
]  # fmt: skip
NAMES = ["dev", "prod", '"a.b"', "other"]

key = st.sampled_from([*KEYS, "token", "export", "unknown_key", "token.access_token", "a.b", '"instance"'])
pairs = st.lists(st.tuples(key, st.sampled_from(VALUES)), max_size=5)
line = st.one_of(
    st.tuples(key, st.sampled_from(VALUES)).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.lists(st.tuples(st.sampled_from(TOKEN_KEYS), st.sampled_from(VALUES)), max_size=4).map(
        lambda kv: "token = { " + ", ".join(f"{k} = {v}" for k, v in kv) + " }"
    ),
    st.sampled_from(["# a comment", "", "client_id =", "client_secret"]),
)
TOP = [
    'default = "dev"', 'default = "prod"', "x = 1", "y = [1, 2]", "z = { a = 1 }", "connections = 1",
    'connections.dev.instance = "d"', "# caf\u00e9 \u2713 \U0001f600", "", "q =",
]  # fmt: skip
top_line = st.sampled_from(TOP)
inline_line = st.one_of(
    st.tuples(st.sampled_from(NAMES), pairs).map(
        lambda np: f"{np[0]} = {{ " + ", ".join(f"{k} = {v}" for k, v in np[1]) + " }"
    ),
    st.sampled_from(["dev = 1", 'dev.instance = "d"', "# c", ""]),
)
SCALARS = [v for v in VALUES if not v.startswith(("[", "{"))]


def _assignments(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in pairs)


plain_keys = st.lists(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(SCALARS)), max_size=6, unique_by=lambda kv: kv[0]
)
plain_token = st.lists(
    st.tuples(st.sampled_from(TOKEN_KEYS[:4]), st.sampled_from(SCALARS)), max_size=3, unique_by=lambda kv: kv[0]
)
plain_table = st.tuples(st.sampled_from(NAMES), plain_keys, st.one_of(st.none(), plain_token)).map(
    lambda nkt: (
        nkt[0],
        f"[connections.{nkt[0]}]\n"
        + "".join(f"{k} = {v}\n" for k, v in nkt[1])
        + ("" if nkt[2] is None else f"token = {{ {_assignments(nkt[2])} }}\n"),
    )
)
plain_inline = st.tuples(st.sampled_from(["i1", "i2", '"i.3"', "dev"]), plain_keys).map(
    lambda np: (np[0], f"{np[0]} = {{ {_assignments(np[1])} }}\n")
)
plain_file = st.tuples(
    st.lists(
        st.sampled_from(['default = "dev"', "x = 1", 'note = "caf\u00e9 \u2713 \U0001f600"', "# c", ""]), max_size=3
    ),
    st.lists(plain_table, max_size=5, unique_by=lambda nt: nt[0]),
    st.lists(plain_inline, max_size=3, unique_by=lambda nt: nt[0]),
    st.booleans(),
).map(
    lambda f: (
        "".join(s + "\n" for s in f[0])
        + ("" if f[3] else "[connections]\n" + "".join(t for _, t in f[2]))
        + "".join(t for _, t in f[1])
        + ("[connections]\n" + "".join(t for _, t in f[2]) if f[3] else "")
    )
)
section = st.one_of(
    st.tuples(st.sampled_from(NAMES), plain_keys, st.one_of(st.none(), plain_token)).map(
        lambda nkt: (
            f"[connections.{nkt[0]}]\n"
            + "".join(f"{k} = {v}\n" for k, v in nkt[1])
            + ("" if nkt[2] is None else "token = { " + ", ".join(f"{k} = {v}" for k, v in nkt[2]) + " }\n")
        )
    ),
    st.lists(st.tuples(st.sampled_from(NAMES), plain_keys), max_size=3, unique_by=lambda np: np[0]).map(
        lambda nps: (
            "[connections]\n" + "".join(f"{n} = {{ " + ", ".join(f"{k} = {v}" for k, v in p) + " }\n" for n, p in nps)
        )
    ),
)
section = st.one_of(
    plain_table.map(lambda nt: nt[1]),
    st.tuples(st.sampled_from(NAMES), st.lists(line, max_size=8)).map(
        lambda nl: f"[connections.{nl[0]}]\n" + "".join(s + "\n" for s in nl[1])
    ),
    st.lists(inline_line, max_size=4).map(lambda ls: "[connections]\n" + "".join(s + "\n" for s in ls)),
    st.sampled_from(["[other]\nx = 1\n", "[[connections.dev]]\n", "[connections.dev.token]\naccess_token = 'a'\n"]),
    st.sampled_from(["[connections.dev.export]\n", "[connections.prod.instance]\n", "[connections]\n"]),
)


def _compare(text: str) -> bool:
    """Both layouts and both sets of findings equal; whether the plain way accepted the file."""
    parsed = parse(text)
    plain = plain_layout(parsed)
    ruled = build(parsed)
    env = environment()
    analysed = analyze(text, env, NOW)
    expected = Checker(text, env, NOW).run(parse(text), build(parse(text)))
    assert repr(analysed.findings) == repr(expected)
    assert repr(analysed.layout) == repr(ruled)
    if plain is None:
        return False
    assert not ruled.issues, ruled.issues
    assert repr(plain) == repr(ruled)
    return True


mixed_file = st.tuples(st.lists(top_line, max_size=3), st.lists(section, max_size=6)).map(
    lambda ts: "".join(s + "\n" for s in ts[0]) + "".join(ts[1])
)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(plain_file, mixed_file), nl=st.sampled_from(["\n", "\r\n"]))
def test_a_plain_file_is_laid_out_as_the_table_rules_lay_it_out(text: str, nl: str) -> None:
    text = text.replace("\n", nl)
    note(repr(text))
    _compare(text)


def test_the_usual_forms_are_plain() -> None:
    keys = password_keys()
    table = render("table", keys, name="a") + 'token = { access_token = "AT", expires_at = 2030-01-01T00:00:00Z }\n'
    many = "".join(render("table", keys, name=f"c{i}") for i in range(20))
    inline = "[connections]\n" + "".join(f'i{i} = {{ instance = "dev", client_id = "{HEX32}" }}\n' for i in range(5))
    assert _compare('# caf\u00e9 \u2713 \U0001f600\ndefault = "a"\nother = 1\n\n' + table + many + inline)
    assert _compare(render("inline", keys, name="b"))
    assert _compare("")
    # written another way, or a problem of TOML's: laid out by the table rules
    assert not _compare(render("dotted", keys, name="d"))
    assert not _compare(render("table", keys, [("access_token", '"AT"')], name="e"))
    assert not _compare(table + table)
    assert not _compare(table + '[connections]\na = { instance = "x" }\n')
    assert not _compare('[connections]\na = { instance = "x" }\n[connections.a]\n')
    assert not _compare(table + 'instance = "again"\n')
    assert not _compare('default = "a"\ndefault = "b"\n' + table)
