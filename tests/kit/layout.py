"""Connection files laid out every which way (hypothesis), and what formatting must keep
of them: the comments, each with the table and the key it annotates."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st

from snowauth.syntax import Entry, Header, parse

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
