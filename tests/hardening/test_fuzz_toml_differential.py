"""Differential fuzzing against tomllib: snowauth reports no TOML-validity finding
(``TOML_VALIDITY_CODES``) exactly when ``tomllib.loads`` accepts the text, and then reads
the same values. A leading BOM is taken off for tomllib only: TOML allows one, tomllib
does not.

The inputs: TOML-ish documents from a grammar that mixes valid and invalid pieces at
every level (keys, strings, escapes, numbers, dates, arrays, inline tables, headers,
arrays of tables, line breaks), and raw mutations of the valid files of the toml-test
corpus. Bounded in CI, long under ``SNOWAUTH_FUZZ=long`` (``make fuzz``). Every
disagreement found became a case of ``REGRESSIONS``.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from snowauth.analysis import analyze
from snowauth.document import TOML_VALIDITY_CODES
from snowauth.files import read_text
from snowauth.incremental import Incremental
from snowauth.syntax import parse
from tests.kit.clock import NOW
from tests.kit.corpus import ENV, LONG, STATS, Op, mutate
from tests.kit.fuzz import FUZZ
from tests.kit.toml_values import data_of, same

# the long profile runs each property for minutes
TIMEOUT = pytest.mark.timeout(3600 if LONG else 300)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "toml-test"
VALID_FILES = tuple(
    read_text(CORPUS / name)[0]
    for name in (CORPUS / "files-toml-1.0.0").read_text(encoding="utf-8").split()
    if name.startswith("valid/")
)


def toml_errors(text: str) -> list[tuple[int, int, str, str]]:
    return [
        (f.start, f.end, f.code, f.message) for f in analyze(text, ENV, NOW).findings if f.code in TOML_VALIDITY_CODES
    ]


def agree(text: str) -> bool:
    """Assert that snowauth and tomllib agree on ``text``; True when it is valid TOML."""
    try:
        theirs = tomllib.loads(text.removeprefix("\ufeff"))
        valid, why = True, "tomllib accepts"
    except tomllib.TOMLDecodeError as exc:
        valid, why = False, f"tomllib rejects: {exc}"
    errors = toml_errors(text)
    assert (errors == []) is valid, (text, why, errors)
    if valid:
        ours = data_of(parse(text))
        assert same(ours, theirs), (text, ours, theirs)
    return valid


# -- the grammar ----------------------------------------------------------------------------


def mostly(valid: list[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """One of ``valid``, or one time in 30 one of ``invalid`` (a document makes a few
    dozen such choices: about half the documents stay valid)."""
    return st.tuples(st.integers(0, 29), st.sampled_from(valid), st.sampled_from(invalid)).map(
        lambda t: t[2] if t[0] == 7 else t[1]  # not 0: hypothesis draws the bounds often
    )


_KEYS = mostly(
    [
        *["a", "b", "c", "a", "b", "connections", "dev", "token", "1", "-", "_x", "A-b_9", '"a"', "'b'", '"a.b"'],
        *['""', "''", '"\\u0061"', '"é"', '"\\n"', "'\"'", '"\\t x"'],
    ],
    ["a b", '"open', "é", "a/b", '"""a"""', "'''b'''", "", "[a]", "#", '"\\q"', "a\x01"],
)
_DOTS = mostly([".", ".", " . ", "\t."], ["..", ". .", "\n."])
keys = st.builds(
    lambda parts, dots: "".join(p + d for p, d in zip(parts[:-1], dots, strict=False)) + parts[-1],
    st.lists(_KEYS, min_size=1, max_size=3),
    st.lists(_DOTS, min_size=2, max_size=2),
)

_CHARS = mostly(
    ["a", "b", " ", "é", "漢", "😀", "\t", "'", "#", "=", "[", "}", "\u2028", "\ufeff", "\x80", "\u00a0"],
    ["\x00", "\x01", "\x1f", "\x7f", "\r", "\x0b"],
)
_ESCAPES = mostly(
    ["\\n", "\\t", "\\b", "\\f", "\\r", '\\"', "\\\\", "\\u00e9", "\\u0000", "\\U0001F600", "\\U0010FFFF"],
    ["\\x41", "\\q", "\\ ", "\\uD800", "\\uDFFF", "\\U00110000", "\\u12", "\\U0000D800", "\\e", "\\"],
)
basic_strings = st.builds(
    lambda body, close: '"' + "".join(body) + close,
    st.lists(st.one_of(_CHARS, _ESCAPES), max_size=8),
    mostly(['"'], ["", "\n", '""']),
)
literal_strings = st.builds(
    lambda body, close: "'" + "".join(body) + close,
    st.lists(st.one_of(_CHARS, st.just("\\"), st.just('"')), max_size=8),
    mostly(["'"], ["", "''"]),
)
_ML_PIECES = mostly(
    ["\n", "\r\n", "\\\n", "\\  \n\n  ", "\\ \t\r\n \t", "\\\\\n", '"', '""', "'", "''", "\\\n\u00a0x"],
    ["\r", '"""', "'''", "\\ x\n"],
)
ml_basic_strings = st.builds(
    lambda first, body, close: '"""' + first + "".join(body) + close,
    st.sampled_from(["", "\n", "\r\n", "\\\n"]),
    st.lists(st.one_of(_CHARS, _ESCAPES, _ML_PIECES), max_size=10),
    mostly(['"""', '""""', '"""""'], ['""""""', '""']),
)
ml_literal_strings = st.builds(
    lambda first, body, close: "'''" + first + "".join(body) + close,
    st.sampled_from(["", "\n", "\r\n"]),
    st.lists(st.one_of(_CHARS, _ML_PIECES, st.just("\\")), max_size=10),
    mostly(["'''", "''''", "'''''"], ["''''''", "''"]),
)
numbers = mostly(
    [
        "0",
        "1",
        "-1",
        "+42",
        "1_000",
        "0x1F",
        "0xdead_beef",
        "0o17",
        "0b101",
        "-0",
        "+0",
        "9223372036854775807",
        "-9223372036854775808",
        "1.0",
        "1e3",
        "1E-3",
        "99999999999999999999",
        "6.626e-34",
        "-0.0",
        "+0.0",
        "1_0.0_1",
        "inf",
        "+inf",
        "-inf",
        "nan",
        "-nan",
        "1e+3",
        "0.1e-0_1",
        "1e400",
    ],
    [
        "1__0",
        "_1",
        "1_",
        "01",
        "0x",
        "0X1",
        "+0x1",
        "0x_1",
        "0b2",
        "0o8",
        "1.",
        ".5",
        "1.e3",
        "1e",
        "1e_3",
        "3.14_",
        "1e3.0",
        "Inf",
        "NaN",
        "+-1",
        "١٢",
        "1_000.",
        "00.1",
        "-0x1",
    ],
)
booleans = mostly(["true", "false"], ["True", "FALSE", "tru", "truex"])
_MONTH = mostly(["01", "02", "09", "12"], ["00", "13", "1", "١٢"])
_DAY = mostly(["01", "09", "28", "29", "30", "31"], ["00", "32", "1", "٠١"])
_HOUR = mostly(["00", "07", "12", "23"], ["24", "1", "٠٧"])
_MINUTE = mostly(["00", "32", "59"], ["60", "61", "1"])
_YEAR = mostly(["1979", "2000", "1900", "2024", "0001"], ["197", "١٩٧٩"])
dates = st.builds(lambda y, m, d: f"{y}-{m}-{d}", _YEAR, _MONTH, _DAY)
times = st.builds(
    lambda h, m, s, frac: f"{h}:{m}:{s}{frac}",
    _HOUR,
    _MINUTE,
    _MINUTE,
    mostly(["", "", ".5", ".999999", ".1234567", ".000"], [".", ".x", ",5"]),
)
offsets = st.one_of(
    mostly(["", "Z", "z", "+00:00", "-07:00", "+05:30", "+23:59"], ["+24:00", "+00:60", "+1:00", "+00", "Z+01:00"]),
    st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from(["+", "-"]), _HOUR, _MINUTE),
)
datetimes = st.one_of(
    dates,
    times,
    st.builds(lambda d, sep, t, o: d + sep + t + o, dates, mostly(["T", "t", " "], ["  ", "_", "T "]), times, offsets),
)
scalars = st.one_of(basic_strings, literal_strings, ml_basic_strings, ml_literal_strings, numbers, booleans, datetimes)
_SEP = mostly([",", ", ", " ,", ",\n", ",\r\n", "\n,", ", # c\n", ",\n\n"], [",,", " ", "", ", # \x01\n"])


def _joined(items: list[str], seps: list[str]) -> str:
    """``items`` with ``seps[i]`` between items i and i + 1 (there are enough of them)."""
    out = items[:1]
    for sep, item in zip(seps, items[1:], strict=False):
        out += [sep, item]
    return "".join(out)


def _array(items: list[str], seps: list[str], trailing: str, ws: str) -> str:
    return "[" + ws + _joined(items, seps) + (trailing if items else "") + "]"


def _inline(pairs: list[tuple[str, str]], seps: list[str], trailing: str) -> str:
    return "{" + _joined([f"{k} = {v}" for k, v in pairs], seps) + (trailing if pairs else "") + "}"


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(
            _array,
            st.lists(inner, max_size=4),
            st.lists(_SEP, min_size=4, max_size=4),
            mostly(["", "", ",", ",\n", "\n", " # c\n"], [",,", "\r"]),
            mostly(["", " ", "\n", "\r\n"], ["\r"]),
        ),
        st.builds(
            _inline,
            st.lists(st.tuples(keys, inner), max_size=4),
            st.lists(mostly([", ", ",", " , "], [",,", "\n, ", " "]), min_size=4, max_size=4),
            mostly(["", " "], [",", "\n"]),
        ),
    ),
    max_leaves=8,
)
_EQUALS = mostly([" = ", "=", " =", "\t=\t"], [" ", "=="])
_TAIL = mostly(["", "", " # comment", "\t", " # é"], [" x", " #\x01", " # \r"])
statements = st.one_of(
    st.builds(lambda k, eq, v, tail: f"{k}{eq}{v}{tail}", keys, _EQUALS, values, _TAIL),
    st.builds(
        lambda ws, k, close: f"{ws}[{k}{close}",
        st.sampled_from(["", " "]),
        keys,
        mostly(["]", "] # c", " ]"], ["", "]]", "] x"]),
    ),
    st.builds(lambda k, close: f"[[{k}{close}", keys, mostly(["]]", "]] # c", " ]]"], ["] ]", "]", "]]]"])),
    mostly(["", "# comment", "#\t", "  ", "# é", "#"], ["# \x7f", "# \r comment", "# \x00"]),
)
documents = st.builds(
    lambda bom, lines, breaks, end: bom + "".join(line + nl for line, nl in zip(lines, breaks, strict=False)) + end,
    mostly(["", "", "\ufeff"], ["\ufeff\ufeff", " \ufeff"]),
    st.lists(statements, min_size=1, max_size=8),
    st.lists(mostly(["\n", "\n", "\r\n", "\n\n"], ["\r"]), min_size=8, max_size=8),
    mostly(["", "\n", "\r\n"], ["\r"]),
)

# raw mutations of the valid corpus files: characters that matter to TOML, anywhere
_RAW = st.sampled_from(
    [
        *"\"'[]{}=.,#\\ \t\n",
        "\r",
        "\r\n",
        "\x00",
        "\x7f",
        "\ufeff",
        "é",
        "0",
        "1",
        "a",
        "_",
        "-",
        "+",
        ":",
        "T",
        "Z",
        "e",
    ]
)
_pos = st.integers(0, 20_000)
raw_ops = st.one_of(
    st.builds(Op, st.just("ins"), _pos, st.just(0), st.lists(_RAW, min_size=1, max_size=3).map("".join)),
    st.builds(Op, st.just("del"), _pos, st.integers(1, 4)),
    st.builds(Op, st.just("rep"), _pos, st.integers(1, 3), _RAW),
    st.builds(Op, st.sampled_from(["dup_line", "del_line"]), _pos),
    st.builds(Op, st.just("swap_lines"), _pos, _pos),
)
mutated_valid_files = st.builds(mutate, st.sampled_from(VALID_FILES), st.lists(raw_ops, min_size=1, max_size=3))


# -- the properties -------------------------------------------------------------------------


@TIMEOUT
@FUZZ
@given(text=documents)
def test_fuzz_toml_grammar_agrees_with_tomllib(text: str) -> None:
    valid = agree(text)
    STATS.add("toml differential: grammar documents")
    STATS.add(f"toml differential: grammar documents tomllib {'accepts' if valid else 'rejects'}")


@TIMEOUT
@FUZZ
@given(text=mutated_valid_files)
def test_fuzz_toml_mutated_corpus_agrees_with_tomllib(text: str) -> None:
    valid = agree(text)
    STATS.add("toml differential: mutated corpus files")
    STATS.add(f"toml differential: mutated corpus files tomllib {'accepts' if valid else 'rejects'}")


@TIMEOUT
@FUZZ
@given(text=documents, cut=st.floats(0, 1), length=st.integers(0, 40))
def test_fuzz_toml_grammar_incremental_equals_fresh(text: str, cut: float, length: int) -> None:
    """The language server's path (an edit into an ``Incremental``) finds the same TOML
    errors as a fresh scan, arrays of tables and lone CRs included."""
    note(repr(text))
    start = min(len(text), int(cut * (len(text) + 1)))
    end = min(len(text), start + length)
    engine = Incremental(text[:start] + text[end:])
    engine.analysis(ENV, NOW)
    engine.edit(text, start, start, end - start)
    ours = [(f.start, f.end, f.code, f.message) for f in engine.analysis(ENV, NOW).findings]
    fresh = [(f.start, f.end, f.code, f.message) for f in analyze(text, ENV, NOW).findings]
    assert ours == fresh
    STATS.add("toml differential: incremental edits")


def test_the_generators_make_both_valid_and_invalid_toml() -> None:
    """The fuzzers are no use if tomllib accepts (or rejects) nearly all they make."""
    seen: Counter[tuple[str, bool, bool]] = Counter()

    @settings(max_examples=200, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(which=st.sampled_from(["grammar", "mutated"]), data=st.data())
    def draw(which: str, data: st.DataObject) -> None:
        text = data.draw(documents if which == "grammar" else mutated_valid_files)
        seen[(which, _tomllib_accepts(text), "[[" in text)] += 1

    draw()
    for which in ("grammar", "mutated"):
        valid = seen[(which, True, True)] + seen[(which, True, False)]
        invalid = seen[(which, False, True)] + seen[(which, False, False)]
        assert valid >= (valid + invalid) // 5 and invalid >= (valid + invalid) // 5, seen
    assert seen[("grammar", True, True)] >= 5, seen  # valid arrays of tables


def _tomllib_accepts(text: str) -> bool:
    try:
        tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        return False
    return True


# -- every disagreement found, kept ---------------------------------------------------------

# What the corpus, the probes and the fuzzers found snowauth and tomllib disagreeing on
# (on validity, or on the values read), each fixed: (how it was found, the text). The
# "guard" cases agreed already; they pin the other side of a rule that was fixed.
REGRESSIONS: list[tuple[str, str]] = [
    # a lone CR is no line break: between statements, in a comment, in multi-line strings
    ("corpus", "# comment\r\n\r"),
    ("corpus", 'k = "x"  # \ra=1\n'),
    ("probe", "a = 1\rb = 2\n"),
    ("probe", 'a = """x\ry"""\n'),
    ("probe", "a = '''x\ry'''\n"),
    ("probe", "[a]\rb = 1\n"),
    # offsets and digits in dates and times
    ("corpus", "a = 1979-05-27T00:32:00+00:60\n"),
    ("guard", "a = 1979-05-27T00:32:00+24:00\n"),
    ("probe", "a = \u0661\u0669\u0667\u0669-05-27\n"),
    ("probe", "a = 07:32:0\u0660\n"),
    # an inline table is complete at its closing brace
    ("corpus", "tbl = { fruit = { apple.color = 'red' }, fruit.apple.texture = { smooth = true } }\n"),
    ("corpus", "tab = { inner = { dog = 'best' }, inner.cat = 'worst' }\n"),
    ("probe", "a = { b = {}, b.c = 1 }\n"),
    ("guard", "a = { b.c = 1, b.d = 2 }\n"),  # valid: a dotted key made that table
    # one BOM, at the very start (`snowauth check` dropped one before the scanner did)
    ("guard", "\ufeff\ufeff# two BOMs\na=1\n"),
    ("guard", "\ufeffa = 1\n"),
    # arrays of tables
    ("corpus", "[[tbl]]\n[tbl]\n"),
    ("corpus", "[tbl]\n[[tbl]]\n"),
    ("corpus", "a = true\n[[a]]\n"),
    ("corpus", "a = []\n[[a]]\n"),
    ("corpus", "arr = [{}]\n[[arr]]\n"),
    ("corpus", "[[a.b]]\n[a]\nb.y = 2\n"),
    ("corpus", "inline-t = { nest = {} }\n[[inline-t.nest]]\n"),
    ("corpus", "[[albums]]\nname = 'x'\n[albums.songs]\nname = 'y'\n[[albums.songs]]\nname = 'z'\n"),
    ("corpus", "[[arr]]\n[arr.subtab]\nval=1\n[[arr]]\n[arr.subtab]\nval=2\n"),  # valid
    ("corpus", "[[a]]\n[[a.b]]\n[a.b.c]\nd = 1\n[[a.b]]\n[a.b.c]\nd = 2\n"),  # valid
    ("probe", "[a.b.c]\n[a]\nb.d = 1\n[a.b]\n"),
    ("guard", "[[connections]]\n[connections.dev]\ninstance = 'x'\n"),  # valid TOML
    ("probe", "[connections.dev]\n[[connections]]\n"),
    # a line-ending backslash trims TOML whitespace only
    ("probe", 'a = """x\\\n\u00a0y"""\n'),
    ("probe", 'a = """x\\\n\u2003 y"""\n'),
    ("guard", 'a = """x\\\\\ny"""\n'),
    # an inline table in an array has its own keys, each once (long fuzz run)
    ("grammar", 'a = ["","",{a = "", a = ""}]\n'),
    ("probe", "a = [[{b.c = 1, b = {}}]]\n"),
    ("guard", "a = [{b = 1}, {b = 1}]\n"),
]


def test_found_disagreements_stay_fixed() -> None:
    verdicts = {text: agree(text) for _, text in REGRESSIONS}
    # both kinds are here: a fix that made everything invalid would not pass
    assert sum(verdicts.values()) >= 8 and sum(not v for v in verdicts.values()) >= 20, verdicts


def test_the_toml_error_comes_before_the_formats_advice() -> None:
    for text, expected in (
        ("[tbl]\n[[tbl]]\n", ["duplicate-key", "array-of-tables"]),
        ("a = 1\n[[a]]\n", ["duplicate-key", "array-of-tables"]),
        ("[[a]]\n[[a]]\n", ["array-of-tables", "array-of-tables"]),
    ):
        found = [
            f.code for f in analyze(text, ENV, NOW).findings if f.code in {*TOML_VALIDITY_CODES, "array-of-tables"}
        ]
        assert found == expected, (text, found)


@pytest.mark.parametrize(
    "text",
    [
        "[[connections]]\n[connections.dev]\ninstance = 'x'\n",
        "[connections.dev]\ninstance = 'x'\n[[connections]]\n",
        "[connections.dev]\n[[connections.dev.token]]\n",
        "[[connections.dev]]\n[connections.dev]\n",
    ],
)
def test_arrays_of_connections_tables_read_the_same_incrementally(text: str) -> None:
    """``[[connections…]]`` changes what every later header names: the incremental
    analysis builds the whole file then, and finds what a fresh one finds."""
    for cut in range(len(text) + 1):
        engine = Incremental(text[:cut])
        engine.analysis(ENV, NOW)
        engine.edit(text, cut, cut, len(text) - cut)
        ours = engine.analysis(ENV, NOW)
        fresh = analyze(text, ENV, NOW)
        assert repr(ours.findings) == repr(fresh.findings), cut
        assert ours.connection_names() == fresh.connection_names(), cut
