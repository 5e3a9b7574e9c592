"""Property-based fuzzing of token writing (docs/reference.md, token_store): on valid connection files in every
TOML form (tables, dotted keys at the top or under `[connections]`, inline tables),
with comments, blank lines, CRLF or LF, with or without a final line break, and odd
connection names, writing a token and then removing it gives back the original bytes;
writing leaves the other connections as they were and adds no finding."""

from __future__ import annotations

from dataclasses import astuple, dataclass

from hypothesis import given, note
from hypothesis import strategies as st

from snowauth.analysis import analyze
from snowauth.token_edits import apply, remove_edits, write_edits
from tests.kit.analysis import HEX32
from tests.kit.clock import NOW
from tests.kit.corpus import ENV, STATS, TOKENS, Positions
from tests.kit.fuzz import FUZZ

NAMES = ["dev", "prod-1", "my_conn", "x", '"quoted name"', '"開発"', '"a.b"', "'literal'", '"😀"']
COMMENTS = ["", "  # note", " # 日本語 😀", "\t# tab"]
GRANTS = {
    "password": [
        ("username", '"integration.user"'),
        ("password", '"${env:SNOW_PW}"'),
    ],
    "client_credentials": [("scope", '"useraccount"')],
}


@dataclass(frozen=True)
class Conn:
    name: str
    form: str  # table | dotted_top | dotted | inline
    keys: tuple[tuple[str, str], ...]
    comments: tuple[str, ...]
    blank_after: tuple[bool, ...]
    styles: tuple[tuple[str, str, str], ...]  # per key: (quote, " = ", indent)


@st.composite
def connections(draw: st.DrawFn) -> list[Conn]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique_by=lambda n: n.strip("\"'")))
    out = []
    for name in names:
        grant = draw(st.sampled_from(sorted(GRANTS)))
        keys = [
            ("instance", '"dev12345"'),
            ("grant_type", f'"{grant}"'),
            ("client_id", f'"{HEX32}"'),
            ("client_secret", '"${env:SNOW_SECRET}"'),
            *GRANTS[grant],
        ]
        if draw(st.booleans()):
            keys.append(("timeout", draw(st.sampled_from(["30", "1_0", "2.5", "+5"]))))
        keys = draw(st.permutations(keys))
        form = draw(st.sampled_from(["table", "dotted_top", "dotted", "inline"]))
        comments = tuple(draw(st.sampled_from(COMMENTS)) for _ in keys)
        blanks = tuple(draw(st.booleans()) if form != "inline" else False for _ in keys)
        styles = tuple(
            (
                draw(st.sampled_from(["", "", '"', "'"])),
                draw(st.sampled_from([" = ", " = ", "=", "  =\t"])),
                draw(st.sampled_from(["", "", "  ", "\t"])) if form != "inline" else "",
            )
            for _ in keys
        )
        out.append(Conn(name, form, tuple(keys), comments, blanks, styles))
    if any(c.form in ("dotted", "inline") for c in out):
        # TOML: a `[connections]` header cannot follow `connections.x.y = …` at the top
        out = [Conn(c.name, "table", *astuple(c)[2:]) if c.form == "dotted_top" else c for c in out]
    return out


def render(conns: list[Conn], nl: str, final_newline: bool, preamble: str) -> str:
    if preamble == "default":
        preamble = f'default = "{key_name(conns[0].name)}"'
    top: list[str] = [preamble] if preamble else []
    under: list[str] = []
    tables: list[str] = []
    for c in conns:
        if c.form == "inline":
            members = ", ".join(f"{q}{k}{q}{eq}{v}" for (k, v), (q, eq, _) in zip(c.keys, c.styles, strict=True))
            under.append(f"{c.name} = {{ {members} }}{c.comments[0]}")
            continue
        lines = top if c.form == "dotted_top" else under if c.form == "dotted" else tables
        if c.form == "table":
            lines.append(f"[connections.{c.name}]{c.comments[-1]}")
        prefix = {"dotted_top": f"connections.{c.name}.", "dotted": f"{c.name}.", "table": ""}[c.form]
        for (k, v), comment, blank, (q, eq, indent) in zip(c.keys, c.comments, c.blank_after, c.styles, strict=True):
            lines.append(f"{indent}{prefix}{q}{k}{q}{eq}{v}{comment}")
            if blank:
                lines.append("")
        if c.form == "table":
            lines.append("")
    body = top + (["[connections]", *under] if under else []) + tables
    text = nl.join(body)
    text = text.rstrip("\r\n") + (nl if final_newline else "")
    return text


files = st.builds(
    render,
    connections(),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.sampled_from(["", "# connections", "default", "# 開発 🚀\n"]),
)


def key_name(name: str) -> str:
    return name.strip("\"'")


@FUZZ
@given(text=files)
def test_fuzz_write_then_remove_gives_back_the_original_bytes(text: str) -> None:
    note(repr(text))
    a = analyze(text, ENV, NOW)
    assert not [f for f in a.findings if f.severity == 1], [(f.code, f.message) for f in a.findings]
    before = {name: {k: x.value.data for k, x in c.keys.items()} for name, c in a.connections.items()}
    for name, c in a.connections.items():
        edits = write_edits(a, c, TOKENS)
        positions = Positions(text)
        for e in edits:
            positions.check_span(e.start, e.end, ("write", name))
        written = apply(text, edits)
        note(repr(written))
        a2 = analyze(written, ENV, NOW)
        errors = [(f.code, f.message) for f in a2.findings if f.severity == 1]
        assert not errors, errors
        token = a2.connections[name].token
        assert token["access_token"].value.data == TOKENS.access_token
        assert token["refresh_token"].value.data == TOKENS.refresh_token
        assert token["expires_at"].value.data == TOKENS.expires_at
        assert {n: {k: x.value.data for k, x in c2.keys.items()} for n, c2 in a2.connections.items()} == before
        others = {n: set(c2.token) for n, c2 in a2.connections.items() if n != name}
        assert all(not keys for keys in others.values()), others
        # written again (a refresh): updated in place, in the same form
        again = apply(written, write_edits(a2, a2.connections[name], TOKENS))
        assert again == written
        removed = apply(written, remove_edits(a2, a2.connections[name]))
        assert removed == text
        STATS.add("token edits: write + remove round trips")
    STATS.add("token edits: valid files")
