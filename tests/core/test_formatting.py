"""The canonical layout (``snowauth.formatting``): exact outputs, what is never touched,
and properties over messy files (hypothesis): tomllib reads the same, no comment is lost
or leaves its key or table, formatting twice changes nothing."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snowauth.formatting import apply_edits, diff_edits, format_edits, format_text, range_edits
from snowauth.syntax import parse
from tests.kit.corpus import mutated_files
from tests.kit.fuzz import FUZZ
from tests.kit.layout import comment_facts, lines_ending_outside_values, messy_files

MESSY = """\
# café ✓ 😀
  default = "a"\x20\x20\x20

[connections.a.token]
access_token = "x"
expires_at = 2030-01-01T00:00:00Z
token_type="Bearer"

# about a
[connections.a]
# the user
username="u"    # trailing
   instance   =   "dev1"
zzz = [
  1,\x20\x20\x20
  2, # two
]
grant_type = "password"

# stray at end of a

[connections.b]
instance = "x"
[connections.a.export]
dotenv = ".env"
# final
"""

CANONICAL = """\
# café ✓ 😀
default = "a"

# about a
[connections.a]
instance = "dev1"
grant_type = "password"
# the user
username = "u"  # trailing
zzz = [
  1,\x20\x20\x20
  2, # two
]

# stray at end of a

[connections.a.export]
dotenv = ".env"
# final

[connections.a.token]
access_token = "x"
token_type = "Bearer"
expires_at = 2030-01-01T00:00:00Z

[connections.b]
instance = "x"
"""


def test_the_canonical_layout() -> None:
    assert format_text(MESSY) == CANONICAL
    assert format_text(CANONICAL) == CANONICAL


def test_the_file_newline_and_bom_are_kept() -> None:
    crlf = MESSY.replace("\n", "\r\n")
    assert format_text(crlf) == CANONICAL.replace("\n", "\r\n")
    assert format_text("\ufeff" + MESSY) == "\ufeff" + CANONICAL


def test_one_final_newline_and_an_empty_file() -> None:
    assert format_text('[connections.a]\ninstance = "x"') == '[connections.a]\ninstance = "x"\n'
    assert format_text('[connections.a]\ninstance = "x"\n\n\n\n') == '[connections.a]\ninstance = "x"\n'
    assert format_text("") == ""
    assert format_text("\n\n  \n") == ""


def test_aligned_values_keep_trailing_comments_in_their_column() -> None:
    text = '[connections.a]\ninstance = "dev1"          # where\nclient_secret = "${env:S}"\n'
    assert format_text(text, align_values=True) == (
        '[connections.a]\ninstance      = "dev1"     # where\nclient_secret = "${env:S}"\n'
    )
    assert format_text(format_text(text, align_values=True) or "", align_values=False) == text
    assert format_text("x = 1 # one\n", align_values=True) == "x = 1 # one\n"


def test_values_and_inline_tables_are_never_touched() -> None:
    text = (
        "[connections.a]\n"
        "scope = '''\nkeep   \n  this'''   \n"
        'note = """a \\\n   b"""\n'
        "inline = {  instance='x' ,grant_type = \"password\" }\n"
        "instance = 'single'\n"
    )
    out = format_text(text)
    assert out == (
        "[connections.a]\n"
        "instance = 'single'\n"
        "scope = '''\nkeep   \n  this'''\n"
        'note = """a \\\n   b"""\n'
        "inline = {  instance='x' ,grant_type = \"password\" }\n"
    )


def test_a_syntax_error_formats_nothing() -> None:
    text = '[connections.a]\n  instance = "x\nscope=1\n'
    assert parse(text).errors
    assert format_text(text) is None
    assert format_edits(text) is None
    assert range_edits(text, 0, len(text)) is None


def test_arrays_of_tables_stay_in_place() -> None:
    text = '[connections.a.token]\nx = 1\n[[things]]\nb = 2\na = 1\n[connections.a]\ninstance = "i"\n'
    assert format_text(text) == (
        '[connections.a.token]\nx = 1\n\n[[things]]\nb = 2\na = 1\n\n[connections.a]\ninstance = "i"\n'
    )


def test_edits_are_small_and_give_the_formatted_text() -> None:
    edits = format_edits(MESSY) or []
    assert apply_edits(MESSY, edits) == CANONICAL
    assert format_edits(CANONICAL) == []
    one = '[connections.a]\ninstance="x"\nscope = "s"\n'
    [edit] = format_edits(one) or []
    assert (one[edit.start : edit.end], edit.text) == ("=", " = ")
    assert diff_edits("a\nb\nc\n", "a\nB\nc\n")[0].text == "B"


def test_range_formatting_formats_the_tables_it_touches_only() -> None:
    at = MESSY.index("username")
    out = apply_edits(MESSY, range_edits(MESSY, at, at) or [])
    assert out == MESSY.replace(
        '# the user\nusername="u"    # trailing\n   instance   =   "dev1"\nzzz = [\n  1,   \n  2, # two\n]\n'
        'grant_type = "password"\n\n# stray at end of a\n',
        'instance = "dev1"\ngrant_type = "password"\n# the user\nusername = "u"  # trailing\nzzz = [\n  1,   \n'
        "  2, # two\n]\n\n# stray at end of a\n",
    )
    top = apply_edits(MESSY, range_edits(MESSY, 0, 0) or [])
    assert top == MESSY.replace('  default = "a"   \n', 'default = "a"\n')
    whole = apply_edits(MESSY, range_edits(MESSY, 0, len(MESSY)) or [])
    assert format_text(whole) == CANONICAL  # every table formatted, none moved
    assert whole.index("[connections.b]") < whole.index("[connections.a.export]")


@pytest.mark.parametrize("align", [False, True])
@FUZZ
@given(text=messy_files())
def test_fuzz_formatting_keeps_data_and_comments(text: str, align: bool) -> None:
    out = format_text(text, align_values=align)
    assert out is not None
    assert format_text(out, align_values=align) == out
    assert apply_edits(text, format_edits(text, align_values=align) or []) == out
    assert tomllib.loads(out) == tomllib.loads(text)
    before, after = comment_facts(text), comment_facts(out)
    assert after == before
    assert not any(line != line.rstrip() for line in lines_ending_outside_values(out))


@FUZZ
@given(text=mutated_files, picks=st.lists(st.integers(0, 1 << 16), min_size=2, max_size=2))
def test_fuzz_mutated_files(text: str, picks: list[int]) -> None:
    out = format_text(text)
    if parse(text).errors:
        assert out is None
        return
    assert out is not None
    assert format_text(out) == out
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    if data is not None:
        assert tomllib.loads(out) == data
    assert comment_facts(out)["all"] == comment_facts(text)["all"]
    a, b = sorted(p % (len(text) + 1) for p in picks)
    ranged = apply_edits(text, range_edits(text, a, b) or [])
    if data is not None:
        assert tomllib.loads(ranged) == data
