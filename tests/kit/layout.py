"""Connection files laid out every which way (hypothesis), and what formatting must keep
of them: the comments, each with the table and the key it annotates."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from snowauth.syntax import Entry, Header, parse
from tests.kit.fuzz import FUZZ

# value texts, as written: never touched by the formatter
VALUES = [
    '"dev12345"',
    "'literal \\ text'",
    '"esc \\" \\t \\u00e9"',
    '"""\nmulti  \n  line\\\n   joined  """',
    "'''\nraw  \n'''",
    "[\n  1,  \n  2, # two\n]",
    '[ "a", "b" ]',
    '{ a = 1, b = "x" }',
    "30",
    "true",
    "2030-01-01T00:00:00Z",
    '"café ✓ 😀"',
]
CONNECTION_KEYS = [
    "instance",
    "grant_type",
    "client_id",
    "client_secret",
    "username",
    "password",
    "scope",
    "token_store",
    "zeta",
    "alpha",
    "custom.dotted",
    '"quoted key"',
]
TOKEN_KEYS = ["access_token", "refresh_token", "token_type", "scope", "expires_at", "extra"]
EXPORT_KEYS = ["dotenv", "postman", "http_client", "other"]

_comment = st.sampled_from(["# note", "#", "# café ✓ 😀", "#  spaced  ", "# key = 'not a key'"])
_space = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def _lines_of(draw: st.DrawFn, keys: list[str], n: int) -> list[str]:
    out: list[str] = []
    for key in draw(st.lists(st.sampled_from(keys), max_size=n, unique=True)):
        for _ in range(draw(st.integers(0, 2))):
            out.append(draw(_space) + draw(_comment) + draw(_space))
        if draw(st.booleans()) and draw(st.booleans()):
            out.append(draw(_space))
        line = f"{draw(_space)}{key}{draw(_space)}={draw(_space)}{draw(st.sampled_from(VALUES))}"
        if draw(st.booleans()):
            line += draw(st.sampled_from([" ", "   ", ""])) + draw(_comment)
        out.append(line + draw(_space))
    return out


@st.composite
def messy_files(draw: st.DrawFn) -> str:
    """A valid connection file with comments, blank lines, indentation and trailing
    spaces anywhere, keys and tables in any order (a connection's tables apart)."""
    blocks: list[list[str]] = []
    top = [draw(_comment) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        top.append('default = "a"' + draw(_space))
    blocks.append(top)
    tables = []
    for name in draw(st.lists(st.sampled_from(["a", "b", '"c d"']), min_size=1, max_size=3, unique=True)):
        tables.append((f"connections.{name}", CONNECTION_KEYS))
        if draw(st.booleans()):
            tables.append((f"connections.{name}.token", TOKEN_KEYS))
        if draw(st.booleans()):
            tables.append((f"connections.{name}.export", EXPORT_KEYS))
        if draw(st.booleans()):
            tables.append((f"connections.{name}.extra", ["x", "y"]))
    for header, keys in draw(st.permutations(tables)):
        lines = [draw(_comment) for _ in range(draw(st.integers(0, 1)))]
        tail = f"  {draw(_comment)}" if draw(st.booleans()) else ""
        lines.append(f"{draw(_space)}[{header}]{tail}{draw(_space)}")
        lines += draw(_lines_of(keys, 6))
        lines += [draw(_comment) for _ in range(draw(st.integers(0, 1)))]
        blocks.append(lines)
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = "".join("\n".join(b) + "\n" * draw(st.integers(1, 3)) for b in blocks)
    if not draw(st.booleans()):
        text = text.rstrip("\n")
    return text.replace("\n", nl)


def comment_facts(text: str) -> dict[str, Any]:
    """The comments of a text without syntax errors: ``all`` (a Counter of their texts),
    ``tables`` (per table, a Counter of those in it, the block right above its header
    included), ``above`` (per table and key, the comment lines right above the key) and
    ``trailing`` (per table and key, the comment on its last line)."""
    parsed = parse(text)
    assert not parsed.errors, parsed.errors
    everything: Counter[str] = Counter()
    tables: dict[str, Counter[str]] = {}
    above: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
    trailing: Counter[tuple[str, str, str]] = Counter()
    table = ""
    pos = 0
    block: list[str] = []  # the comment lines since the last blank line or statement
    loose: list[str] = []
    for item in parsed.items:
        start = text.rfind("\n", 0, item.start) + 1
        for line in text[pos:start].split("\n")[:-1] if start > pos else []:
            s = line.strip().lstrip("\ufeff")
            if s.startswith("#"):
                block.append(s.rstrip())
            elif block:
                loose += block
                block = []
        end = text.find("\n", item.end)
        end = len(text) if end < 0 else end
        pos = end + 1
        if type(item) is Header:
            tables.setdefault(table, Counter()).update(loose)
            table = text[item.start : item.end]
            tables.setdefault(table, Counter()).update(block)
            rest = text[item.end : end].strip()
        else:
            assert type(item) is Entry and item.value is not None
            tables.setdefault(table, Counter()).update([*loose, *block])
            key = text[item.key_start : item.key_end]
            above[(table, key, tuple(block))] += 1
            rest = text[item.value.end : end].strip()
            if rest:
                trailing[(table, key, rest)] += 1
        everything.update([*loose, *block])
        if rest:
            everything[rest] += 1
            tables.setdefault(table, Counter())[rest] += 1
        block, loose = [], []
    for line in text[pos:].split("\n"):
        s = line.strip()
        if s.startswith("#"):
            everything[s] += 1
            tables.setdefault(table, Counter())[s] += 1
    return {"all": everything, "tables": tables, "above": above, "trailing": trailing}


def lines_ending_outside_values(text: str) -> list[str]:
    """The lines of ``text`` whose end is not inside a value (a multi-line string or
    array may hold trailing spaces of its own)."""
    inside = [(it.value.start, it.value.end) for it in parse(text).items if type(it) is Entry and it.value is not None]
    out = []
    at = 0
    for line in text.split("\n"):
        end = at + len(line.rstrip("\r"))
        if not any(s < end < e for s, e in inside):
            out.append(line.rstrip("\r"))
        at += len(line) + 1
    return out


# the layout properties in tests/core run on every `pytest tests/core`: a third of the
# hardening profile's examples (SNOWAUTH_FUZZ=long still multiplies them)
LAYOUT_FUZZ = settings(FUZZ, max_examples=max(50, FUZZ.max_examples // 3))


# -- folding ranges kept across edits ------------------------------------------------------------

# files to fold: non-ASCII text before the ranges, comment blocks, values over lines (nested),
# a connection over several tables, a table longer than a chunk of the scan (16 statements),
# tables of no connection, inline connections
FOLD_BASES = [
    "# café ✓ 😀\n# second line\n"
    'default = "a"\n\n'
    "[connections.a]\n"
    'instance = "dev1"\n'
    'scope = [\n  "é😀",\n  { x = [\n    1,\n  ] },\n]\n'
    '"café😀" = """café😀\ntext"""\n'
    "# one\n#two\n"
    "[connections.a.token]\n"
    'access_token = "x"\n'
    "expires_at = 2030-01-01T00:00:00Z\n\n"
    "[connections.a.export]\n"
    "dotenv = '''\n.env\n'''\n"
    "[connections.b]\n"
    'instance = "y"\n',
    "# café ✓ 😀\n[connections.long]\n"
    + "".join(f'key{k} = "v{k}"\n' if k % 7 else f"# k{k}\n# again\nkey{k} = [\n  {k},\n]\n" for k in range(40))
    + "[connections.long.token]\nx = 1\n[other]\ny = { a = 1,\n b = 2 }\n[connections]\n"
    + "".join(f'c{k} = {{ instance = "é{k}" }}\n' for k in range(20)),
    "# café ✓ 😀\r\n[connections.a]\r\nscope = [\r\n  1,\r\n]\r\n# x\r\n# y\r\n"
    '[connections.a.token]\r\nx = """\r\n"""\r\n',
]
# what an edit inserts: lines added, tables and connections begun, values and comments
# over lines opened and closed, non-ASCII text
FOLD_PIECES = [
    "x", "é", "😀", "\n", "\r\n", "\n\n", "#", "# note\n", "# a\n# b\n", "[", "]", "{", "}", '"""', "'''",
    '"', ",", " = ", "k = [\n  1,\n]\n", 'k = """\nt\n"""\n', "[connections.a]\n", "[connections.a.token]\n",
    "[connections.c]\n", "[connections.b.export]\n", "[other]\n", "[connections]\n", 'd = { instance = "i" }\n',
]  # fmt: skip
# where an edit lands: anywhere, or next to one of these (inside a value or a comment block)
FOLD_ANCHORS = ["", "#", "[\n", '"""', "'''", "\n", "{", "[connections.", "1,"]

fold_edits = st.lists(
    st.tuples(
        st.sampled_from(FOLD_ANCHORS),
        st.integers(0, 1 << 16),  # which place (an anchor's occurrence, or an offset)
        st.integers(0, 3),  # characters past it
        st.sampled_from([0, 0, 0, 1, 2, 6, 40]),  # characters removed (lines too)
        st.lists(st.sampled_from(FOLD_PIECES), max_size=3).map("".join),
        st.booleans(),  # ask for the folds after this edit
    ),
    min_size=1,
    max_size=14,
)


def fold_span(text: str, anchor: str, pick: int, past: int, length: int) -> tuple[int, int]:
    """Where a ``fold_edits`` edit lands in ``text``: [start, end), never between the CR
    and the LF of a line break."""
    places = [i for i in range(len(text)) if text.startswith(anchor, i)] if anchor else []
    start = min(len(text), places[pick % len(places)] + past) if places else pick % (len(text) + 1)
    end = min(len(text), start + length)

    def cursor(x: int) -> int:
        return x - 1 if 0 < x < len(text) and text[x - 1 : x + 1] == "\r\n" else x

    return cursor(start), max(cursor(start), cursor(end))


def fresh_folding_json(text: str, encoding: str, *, lines_only: bool) -> bytes:
    """The folding ranges of ``text`` as the language server sent them before they were
    kept across edits: the folds of a fresh scan (``folding.folding_ranges``) through the
    whole conversion (``convert.folding_ranges``)."""
    from snowauth.folding import folding_ranges
    from snowauth.lsp import convert
    from snowauth.positions import LineIndex

    conv = convert.Converter(LineIndex(text), encoding)
    return convert.folding_ranges(folding_ranges(text, parse(text).chunks), conv, line_folding_only=lines_only).json()
