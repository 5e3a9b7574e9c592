"""Semantic tokens (core, with the language server's encoder): what each part of a file
is, in UTF-16 and UTF-8 units, multi-line tokens split or kept, and the per-chunk cache
and deltas: after any one-character edit the delta applied to the previous result equals
a fresh full result of the new text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types as t

from snowauth.analysis import analyze
from snowauth.incremental import Incremental
from snowauth.lsp.convert import semantic_encoder
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from snowauth.semantic_tokens import TOKEN_MODIFIERS, TOKEN_TYPES, Tokens, known
from tests.kit.clock import NOW
from tests.kit.fuzz import FUZZ
from tests.kit.lsp import apply_semantic_delta, decode_semantic_tokens

TEXT = """# café ✓ 😀
[connections.dev]  # the dev one
instance = "dev12345"
password = "${env:SNOW_PW}"
foo = 1
pkce = true
scopes = ["a", # c
  "b"]
token = { access_token = "é😀", expires_at = 2099-01-01T00:00:00Z }
[other]
x = \"\"\"multi
liné\"\"\"
"""


def decode(data: list[int]) -> list[tuple[int, int, int, str, tuple[str, ...]]]:
    return decode_semantic_tokens(data, TOKEN_TYPES, TOKEN_MODIFIERS)


def full(text: str, encoding: str = "utf-16", *, multiline: bool = False) -> list[int]:
    return Tokens(semantic_encoder(encoding, multiline=multiline)).full(analyze(text), LineIndex(text), "1")


EXPECTED = {
    # line, column in UTF-16 / UTF-8, length in UTF-16 / UTF-8, type, modifiers
    (0, 0, 0, 11, 16, "comment", ()),
    (1, 1, 1, 11, 11, "namespace", ()),
    (1, 13, 13, 3, 3, "namespace", ("declaration",)),
    (1, 19, 19, 13, 13, "comment", ()),
    (2, 0, 0, 8, 8, "property", ()),
    (2, 11, 11, 10, 10, "string", ()),
    (3, 0, 0, 8, 8, "property", ()),
    (3, 11, 11, 1, 1, "string", ()),
    (3, 12, 12, 14, 14, "macro", ("secret",)),
    (3, 26, 26, 1, 1, "string", ()),
    (4, 0, 0, 3, 3, "property", ("unknown",)),
    (4, 6, 6, 1, 1, "number", ()),
    (5, 0, 0, 4, 4, "property", ()),
    (5, 7, 7, 4, 4, "keyword", ()),
    (6, 0, 0, 6, 6, "property", ("unknown",)),
    (6, 10, 10, 3, 3, "string", ()),
    (6, 15, 15, 3, 3, "comment", ()),
    (7, 2, 2, 3, 3, "string", ()),
    (8, 0, 0, 5, 5, "property", ()),
    (8, 10, 10, 12, 12, "property", ()),
    (8, 25, 25, 5, 8, "string", ()),
    (8, 32, 35, 10, 10, "property", ()),
    (8, 45, 48, 20, 20, "number", ()),
    (9, 1, 1, 5, 5, "namespace", ("unknown",)),
    (10, 0, 0, 1, 1, "property", ("unknown",)),
    (10, 4, 4, 8, 8, "string", ()),
    (11, 0, 0, 7, 8, "string", ()),
}


def test_every_token_in_utf16_and_utf8() -> None:
    for encoding, k in (("utf-16", 0), ("utf-8", 1)):
        got = decode(full(TEXT, encoding))
        want = sorted((e[0], e[1 + k], e[3 + k], e[5], e[6]) for e in EXPECTED)
        assert got == want, encoding


def test_crlf_lines_give_the_same_tokens() -> None:
    crlf = TEXT.replace("\n", "\r\n")
    for encoding in ("utf-16", "utf-8"):
        assert decode(full(crlf, encoding)) == decode(full(TEXT, encoding))
    # kept whole, a multi-line string counts its CRLF
    assert decode(full(crlf, multiline=True))[-1] == (10, 4, len('"""multi\r\nliné"""'), "string", ())


def test_a_multiline_token_is_kept_whole_for_a_client_that_takes_one() -> None:
    got = decode(full(TEXT, multiline=True))
    assert got[-1] == (10, 4, len('"""multi\nliné"""'), "string", ())
    assert len(got) == len(EXPECTED) - 1


def test_known_paths() -> None:
    assert known(("connections", "dev", "instance")) and known(("connections", "dev", "token", "expires_at"))
    assert known(("default",)) and known(("connections", "x", "export", "dotenv"))
    assert not known(("connections", "dev", "token", "nope")) and not known(("nope",))


def _apply(old: list[int], edit: tuple[int, int, list[int]]) -> list[int]:
    return apply_semantic_delta(old, t.SemanticTokensDelta([t.SemanticTokensEdit(*edit)]))


def test_a_one_character_edit_gives_a_small_delta() -> None:
    text = "".join(f'[connections.c{i}]\ninstance = "dev{i}"\npkce = true\n# note {i} é\n' for i in range(300))
    engine = Incremental(text)
    env = Environment({}, None)
    tokens = Tokens(semantic_encoder("utf-16", multiline=False))
    before = tokens.full(engine.analysis(env, NOW), LineIndex(text), "1")
    at = text.index('"dev150"') + 4
    text = text[:at] + "9" + text[at:]
    engine.edit(text, at, at, 1)
    edit = tokens.delta(engine.analysis(env, NOW), LineIndex(text), "1", "2")
    assert edit is not None
    assert len(edit[2]) <= 5 * 8 and edit[1] <= 5 * 8
    assert _apply(before, edit) == full(text)
    assert tokens.delta(engine.analysis(env, NOW), LineIndex(text), "1", "3") is None  # not the last result


ALPHABET = st.sampled_from([*"a=\" \n#[].{}${env:X}0é😀,'t", "\r\n"])


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.booleans(), ALPHABET),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(["utf-16", "utf-8"]),
)
def test_delta_after_one_character_edits_equals_full(edits: list[tuple[int, bool, str]], encoding: str) -> None:
    text = TEXT * 3
    engine = Incremental(text)
    env = Environment({}, None)
    tokens = Tokens(semantic_encoder(encoding, multiline=False))
    result = tokens.full(engine.analysis(env, NOW), LineIndex(text), "0")
    for n, (where, insert, ch) in enumerate(edits):
        at = where % (len(text) + 1)
        if insert or at == len(text):
            text, end = text[:at] + ch + text[at:], at
            engine.edit(text, at, at, len(ch))
        else:
            end = at + 1
            text = text[:at] + text[end:]
            engine.edit(text, at, end, 0)
        edit = tokens.delta(engine.analysis(env, NOW), LineIndex(text), str(n), str(n + 1))
        assert edit is not None
        result = _apply(result, edit)
        assert result == full(text, encoding)
