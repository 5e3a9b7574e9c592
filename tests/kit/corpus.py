"""What the fuzzers feed the core: realistic connection files in every TOML form, the
fragments they are mutated with, mutation and edit-sequence models (as hypothesis
strategies and as seeded ``random`` generators over the same model), and ``exercise``:
run every core feature on a text and assert what must always hold.

A mutated file is ``mutate(BASES[i], ops)``; an edit sequence is a list of
``(position, deleted, inserted)`` applied one after the other. Both are plain data, so a
failure prints an input that reproduces it.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import strategies as st

from snowauth.analysis import Analysis, analyze
from snowauth.completion import complete
from snowauth.hover import hover
from snowauth.lenses import lens_state_title, lenses
from snowauth.lsp import convert
from snowauth.lsp.convert import Converter
from snowauth.outline import symbols
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from snowauth.token_edits import apply, remove_edits, write_edits
from snowauth.tokens import TokenSet
from tests.kit.analysis import HEX32
from tests.kit.clock import NOW

ENV_VARS = {"SNOW_SECRET": "s3cret-value", "SNOW_PW": "pw-value", "SNOW_RT": "rt-value"}
ENV = Environment(ENV_VARS, None)
LONG = os.environ.get("SNOWAUTH_FUZZ") == "long"

TOKENS = TokenSet(
    access_token="fuzz-access-$(id)~+/=",  # a token is visible ASCII (snowauth.token_text)
    token_type="Bearer",
    refresh_token='fuzz-refresh-"quoted"\\',
    scope="useraccount",
    expires_at=datetime(2099, 1, 1, 0, 0, 0, tzinfo=UTC),
    refresh_expires_at=datetime(2099, 4, 1, 0, 0, 0, tzinfo=UTC),
)

# -- realistic files, every TOML form -------------------------------------------------------

TABLES = f"""# Connections of the integration team — 開発チーム 🚀
default = "dev"

[connections.dev]   # the developer instance
instance = "dev12345"
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
expires_at = 2020-11-28T10:29:59Z
refresh_expires_at = 2099-03-08T09:59:59Z

[connections.svc]
instance = "https://acme.service-now.com/"
grant_type = "client_credentials"
client_id = "{HEX32}"
client_secret = "literal-secret"
client_auth = "basic"
token_store = "cache"
"""

DOTTED_TOP = f"""default = "jwt"
connections.jwt.instance = "acme"
connections.jwt.grant_type = "jwt_bearer"
connections.jwt.client_id = "{HEX32}"
connections.jwt.client_secret = "${{env:SNOW_SECRET}}"
connections.jwt.jwt_key_file = "keys/jwt.pem"
connections.jwt.jwt_subject = "svc"
connections.jwt.jwt_algorithm = "ES256"
connections.jwt.token.access_token = 'tok'
connections.jwt.token.expires_at = 2099-01-01T00:00:00Z
"""

DOTTED_UNDER = f"""[connections]
rt.instance = "http://127.0.0.1:8080"
rt.grant_type = "refresh_token"
rt.client_id = "{HEX32}"
rt.client_secret = "${{env:SNOW_SECRET}}"
rt.refresh_token = "${{env:SNOW_RT}}"
rt.token.access_token = "a"
rt.token.refresh_token = "r"
"日本".instance = "dev1"
"日本".grant_type = "client_credentials"
"""

INLINE = f"""[connections]
prod = {{ instance = "https://acme.service-now.com", grant_type = "client_credentials", \
client_id = "x", client_secret = "${{prompt}}", token = {{ access_token = "a", expires_at = 2020-01-01T00:00:00Z }} }}
local = {{ instance = "http://localhost:9", grant_type = "authorization_code", client_id = "{HEX32}", \
redirect_uri = "http://127.0.0.1:53682/callback", pkce = true }}
"""

TOKEN_INLINE = f"""[connections.browser]
instance = "http://[::1]:8080"
grant_type = "authorization_code"
client_id = '{HEX32}'
client_secret = "${{env:SNOW_SECRET}}"
redirect_uri = "http://localhost:53682/callback"
pkce = false
scope = \"\"\"
useraccount
admin\"\"\"
token = {{ access_token = "tok", token_type = "Bearer", expires_at = 2099-01-01T00:00:00Z }}
"""

ODD = """# odd but legal (and some not)
[connections."quoted name 😀"]
instance = "dev1"   # comment with "quotes" and [brackets]
grant_type = 'password'
client_id = "\\u0030123456789abcdef0123456789abcdef"
client_secret = '''multi
line literal'''
username = "é"
password = "${env:SNOW_PW}"
timeout = 1_000
scope = ["wrong", "type"]
unknwon_key = true

[[connections.array]]
instance = "x"

[connections.dev]
instance = "dev2"
[connections.dev]
"""

EMPTYISH = "\n\n# nothing but comments\n\n"

BASES: tuple[str, ...] = (
    TABLES,
    DOTTED_TOP,
    DOTTED_UNDER,
    INLINE,
    TOKEN_INLINE,
    ODD,
    EMPTYISH,
    TABLES.replace("\n", "\r\n"),
    INLINE.replace("\n", "\r"),
    DOTTED_TOP.replace("\n", "\r\n") + TOKEN_INLINE,
    "\ufeff" + DOTTED_UNDER,
)

LINES: tuple[str, ...] = (
    *sorted({line for base in BASES[:7] for line in base.splitlines() if line.strip()}),
    "[connections.new]",
    "[connections.new.token]",
    "[connections.dev.token.extra]",
    "[[connections.dev]]",
    "connections.dev.token = 5",
    "token.access_token = 'x'",
    'default = "nope"',
    "default = 5",
    'instance = "http://example.com"',
    'instance = "https://a.service-now.com?x=1"',
    'redirect_uri = "http://example.com:0/cb"',
    'grant_type = "passwrd"',
    'client_auth = "basic"',
    'ca_bundle = "missing.pem"',
    'client_secret = "${file:secret.txt}"',
    'password = "abc${env:X}"',
    'password = "${env:}"',
    'password = "${nope}"',
    "expires_at = 2026-13-40T99:99:99Z",
    "expires_at = 1979-05-27",
    "timeout = -1",
    "timeout = inf",
    "pkce = maybe",
    'x = """unterminated',
    "y = 'unterminated",
    "z = { a = 1,",
    "= 3",
    "[",
    "]]",
)

FRAGMENTS: tuple[str, ...] = (
    "😀",
    "👩\u200d💻",
    "漢字",
    "한국어",
    "e\u0301",
    "\U0001f1ef\U0001f1f5",
    "\r\n",
    "\r",
    "\n",
    "\x00",
    "\t",
    "\ufeff",
    "\u2028",
    "\x0c",
    "\x7f",
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\u",
    "\\U0001F600",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ".",
    ",",
    "#",
    " ",
    "${env:",
    "${env:SNOW_SECRET}",
    "${file:",
    "${prompt}",
    "}",
    "connections.",
    "token.",
    "access_token",
    "instance",
    "grant_type",
    "true",
    "1e3",
    "0x1F",
    "2026-01-01T00:00:00Z",
    "2020-02-30",
    "dev12345",
    "https://",
    "http://127.0.0.1:1/",
)

ALPHABET = st.one_of(
    st.sampled_from([*{ch for frag in FRAGMENTS for ch in frag}]),
    st.characters(codec="utf-8"),
)

# -- mutations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    kind: str  # ins | del | rep | dup_line | del_line | swap_lines | ins_line | eol
    a: int = 0
    b: int = 0
    text: str = ""


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def mutate(text: str, ops: Sequence[Op]) -> str:
    """Apply ``ops`` in order; positions wrap around the current length."""
    for op in ops:
        n = len(text)
        if op.kind == "ins":
            i = op.a % (n + 1)
            text = text[:i] + op.text + text[i:]
        elif op.kind == "del":
            i = op.a % (n + 1)
            text = text[:i] + text[i + op.b % 12 :]
        elif op.kind == "rep":
            i = op.a % (n + 1)
            text = text[:i] + op.text + text[i + op.b % 6 :]
        elif op.kind in ("dup_line", "del_line", "swap_lines", "ins_line"):
            lines = _lines(text)
            i = op.a % len(lines)
            if op.kind == "dup_line":
                lines.insert(i, lines[i])
            elif op.kind == "del_line":
                del lines[i]
            elif op.kind == "swap_lines":
                j = op.b % len(lines)
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(i, op.text + "\n")
            text = "".join(lines)
        elif op.kind == "eol":
            breaks = ("\r\n", "\r", "\n")[op.a % 3]
            text = "".join(line.rstrip("\r\n") + breaks for line in _lines(text))
    return text


_pos = st.integers(min_value=0, max_value=20_000)
_payload = st.one_of(st.sampled_from(FRAGMENTS), st.text(ALPHABET, min_size=1, max_size=6))
ops_strategy = st.one_of(
    st.builds(Op, st.just("ins"), _pos, st.just(0), _payload),
    st.builds(Op, st.just("del"), _pos, st.integers(1, 11)),
    st.builds(Op, st.just("rep"), _pos, st.integers(1, 5), _payload),
    st.builds(Op, st.sampled_from(["dup_line", "del_line"]), _pos),
    st.builds(Op, st.just("swap_lines"), _pos, _pos),
    st.builds(Op, st.just("ins_line"), _pos, st.just(0), st.sampled_from(LINES)),
    st.builds(Op, st.just("eol"), st.integers(0, 2)),
)

mutated_files = st.builds(
    mutate,
    st.sampled_from(BASES),
    st.lists(ops_strategy, min_size=1, max_size=12),
)
random_files = st.one_of(
    st.text(ALPHABET, max_size=400),
    st.lists(st.one_of(st.sampled_from(LINES), st.text(ALPHABET, max_size=30)), max_size=25).flatmap(
        lambda lines: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda nl: nl.join(lines))
    ),
)
files = st.one_of(mutated_files, mutated_files, random_files)


def random_op(rng: random.Random) -> Op:
    kind = rng.choice(["ins", "ins", "del", "rep", "dup_line", "del_line", "swap_lines", "ins_line", "eol"])
    pos = rng.randrange(20_000)
    if kind == "ins" or kind == "rep":
        payload = rng.choice(FRAGMENTS) if rng.random() < 0.7 else random_chars(rng, rng.randint(1, 6))
        return Op(kind, pos, rng.randint(1, 5), payload)
    if kind == "del":
        return Op(kind, pos, rng.randint(1, 11))
    if kind == "swap_lines":
        return Op(kind, pos, rng.randrange(20_000))
    if kind == "ins_line":
        return Op(kind, pos, 0, rng.choice(LINES))
    if kind == "eol":
        return Op(kind, rng.randrange(3))
    return Op(kind, pos)


def random_chars(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            out.append(rng.choice(rng.choice(FRAGMENTS)))
        elif r < 0.8:
            out.append(chr(rng.randrange(0x20, 0x7F)))
        else:
            cp = rng.randrange(0x80, 0x30000)
            out.append(chr(cp) if not 0xD800 <= cp <= 0xDFFF else "\ufffd")
    return "".join(out)


def random_file(rng: random.Random) -> str:
    """A mutated realistic file (mostly) or junk lines, from the same model as ``files``."""
    if rng.random() < 0.85:
        return mutate(rng.choice(BASES), [random_op(rng) for _ in range(rng.randint(1, 12))])
    lines = [rng.choice(LINES) if rng.random() < 0.6 else random_chars(rng, rng.randint(0, 30)) for _ in range(25)]
    return rng.choice(["\n", "\r\n", "\r"]).join(lines)


# -- edit sequences ---------------------------------------------------------------------------

Edit3 = tuple[int, int, str]  # (position, deleted characters, inserted text)

edit_strategy = st.tuples(_pos, st.integers(0, 8), st.one_of(st.just(""), _payload, st.sampled_from(LINES)))
edit_sequences = st.tuples(st.sampled_from(BASES), st.lists(edit_strategy, min_size=1, max_size=40))


def random_edit(rng: random.Random) -> Edit3:
    r = rng.random()
    inserted = (
        ""
        if r < 0.25
        else rng.choice(FRAGMENTS)
        if r < 0.6
        else rng.choice(LINES) + rng.choice(["\n", "\r\n", ""])
        if r < 0.8
        else random_chars(rng, rng.randint(1, 8))
    )
    return rng.randrange(20_000), rng.randint(0, 8), inserted


def span(text: str, edit: Edit3) -> tuple[int, int, str]:
    """The concrete (start, end, inserted) of an edit on ``text`` (an editor's cursor is
    never between the CR and the LF of a line break)."""
    pos, deleted, inserted = edit
    start = cursor(text, pos % (len(text) + 1))
    return start, max(start, cursor(text, start + deleted)), inserted


def apply_edit(text: str, edit: Edit3) -> str:
    start, end, inserted = span(text, edit)
    return text[:start] + inserted + text[end:]


# -- what must always hold ----------------------------------------------------------------------


@dataclass
class Stats:
    """Counts for FINDINGS.md, printed at the end of the run."""

    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


STATS = Stats()


class Positions:
    """Checks that offsets are character boundaries in the text, in every encoding."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = LineIndex(text)
        self.convs = [Converter(self.index, enc) for enc in ("utf-8", "utf-16", "utf-32")]

    def check(self, offset: int, what: object) -> None:
        text = self.text
        assert isinstance(offset, int) and 0 <= offset <= len(text), (what, offset, len(text))
        assert not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"), (
            "an offset between CR and LF",
            what,
            offset,
        )
        for conv in self.convs:
            pos = conv.position(offset)
            assert 0 <= pos.line < self.index.line_count(), (what, conv.encoding, pos)
            line = self.index.line_text(pos.line)
            assert pos.character <= convert._units(line, conv.encoding), (what, conv.encoding, pos, line)
            assert conv.offset(pos) == offset, (what, conv.encoding, offset, pos)
        # the same offset counted in UTF-8 bytes and UTF-16 units splits no character
        head = text[:offset]
        assert head.encode("utf-8").decode("utf-8") == head
        assert head.encode("utf-16-le").decode("utf-16-le") == head

    def check_span(self, start: int, end: int, what: object) -> None:
        assert start <= end, (what, start, end)
        self.check(start, what)
        self.check(end, what)


def cursor(text: str, offset: int) -> int:
    """A place an editor's cursor can be: not between the CR and LF of a line break."""
    offset = max(0, min(offset, len(text)))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


def exercise(text: str, offsets: Sequence[int] | None = None, *, edits: bool = True) -> Analysis:
    """Run analysis, completion, hover, symbols, lenses and token edits on ``text``;
    assert that nothing raises and every range is inside the text, on boundaries."""
    a = analyze(text, ENV, NOW)
    p = Positions(text)
    n = len(text)
    for f in a.findings:
        p.check_span(f.start, f.end, (f.code, f.message))
        for s, e, _msg in f.related:
            p.check_span(s, e, (f.code, "related"))
        for fix in f.fixes:
            for edit in fix.edits:
                p.check_span(edit.start, edit.end, (f.code, fix.title))
            fixed = apply(text, list(fix.edits))
            analyze(fixed, ENV, NOW)
    for conv in p.convs:
        for f in a.findings:
            convert.diagnostic(f, conv, "file:///fuzz.snowauth.toml", related=True, tags=True)
    wanted = offsets if offsets is not None else (0, n // 3, n // 2, n - 1 if n else 0, n)
    points = sorted({cursor(text, off) for off in wanted})
    for off in points:
        for snippets in (True, False):
            for c in complete(a, off, ENV, snippets=snippets):
                p.check_span(c.start, c.end, ("completion", c.label))
        h = hover(a, off, NOW)
        if h is not None:
            p.check_span(h.start, h.end, "hover")
    for s in symbols(a):
        p.check_span(s.start, s.end, ("symbol", s.name))
        p.check_span(s.selection_start, s.selection_end, ("symbol selection", s.name))
        assert s.start <= s.selection_start <= s.selection_end <= s.end, s
        for child in s.children:
            p.check_span(child.start, child.end, ("symbol child", child.name))
    for lens in lenses(a):
        p.check_span(lens.start, lens.end, ("lens", lens.connection))
        lens_state_title(lens, NOW)
    if edits:
        for c in a.connections.values():
            for label, made in (("write", write_edits(a, c, TOKENS)), ("remove", remove_edits(a, c))):
                for e in made:
                    p.check_span(e.start, e.end, (label, c.name))
                spans = sorted((e.start, e.end) for e in made)
                for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
                    assert e1 <= s2, ("overlapping token edits", label, c.name, spans)
                analyze(apply(text, made), ENV, NOW)
    return a
