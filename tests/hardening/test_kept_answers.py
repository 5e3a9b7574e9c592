"""The outline and the lenses the language server keeps per connection across edits
(``lsp/kept.py``) equal those made whole from a fresh analysis of the same text, after
any series of edits, in UTF-8 and UTF-16."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth import lenses, outline
from snowauth.analysis import analyze
from snowauth.lsp import convert, kept
from snowauth.lsp.documents import Document
from snowauth.positions import LineIndex
from tests.kit.clock import NOW
from tests.kit.edits import ENV, KEPT_BASES, edit_document, not_in_crlf, span, steps


def _fresh(text: str, encoding: str, uri: str) -> tuple[Any, Any]:
    a = analyze(text, ENV, NOW)
    conv = convert.Converter(LineIndex(text), encoding)
    symbols = convert.document_symbols(outline.symbols(a), conv, uri, hierarchical=True)
    found = [(info, lenses.lens_actions(info, NOW)) for info in lenses.lenses(a)]
    return _plain(symbols), _plain(convert.code_lenses(uri, conv, found))


def _kept(doc: Document, encoding: str) -> tuple[Any, Any]:
    a = doc.analysis(ENV.env, NOW)
    conv = doc.converter(encoding)
    k = kept.kept_for(doc.kept, encoding)
    symbols = kept.document_symbols(k, a, conv)
    found = kept.code_lenses(k, a, conv, doc.uri, NOW)
    return _plain(symbols), _plain(found)


def _plain(answer: convert.RawJson | list[Any]) -> Any:
    """The answer as the client reads it (JSON text, or objects already in their JSON form)."""
    return json.loads(answer.json() if isinstance(answer, convert.RawJson) else json.dumps(answer))


@settings(max_examples=150, deadline=None)
@given(base=st.sampled_from(KEPT_BASES), edits=steps, encoding=st.sampled_from(["utf-16", "utf-8"]))
def test_kept_outline_and_lenses_after_random_edits_equal_fresh_ones(
    base: str, edits: list[tuple[float, int, str, bool]], encoding: str
) -> None:
    uri = "file:///nowhere/kept.snowauth.toml"
    doc = Document(uri, base, 1)
    text, version = base, 1
    assert _kept(doc, encoding) == _fresh(text, encoding, uri)
    for where, length, inserted, look in edits:
        start, end = (not_in_crlf(text, x) for x in span(text, where, length))
        note(repr((start, end, inserted)))
        version += 1
        text = edit_document(doc, start, end, inserted, version, encoding)
        if look:
            assert _kept(doc, encoding) == _fresh(text, encoding, uri)
    assert _kept(doc, encoding) == _fresh(text, encoding, uri)


@settings(max_examples=60, deadline=None)
@given(
    base=st.sampled_from(KEPT_BASES),
    moments=st.lists(st.integers(-3 * 86400, 3 * 86400), min_size=1, max_size=8),
)
def test_kept_lenses_titled_at_any_moments_equal_fresh_ones(base: str, moments: list[int]) -> None:
    """A lens counting down to a token's expiry is titled again only when its wording
    changes (``lenses.titles_until``): at any series of moments (back in time too), the
    kept lenses read as fresh ones."""
    uri = "file:///nowhere/kept.snowauth.toml"
    doc = Document(uri, base, 1)
    a = doc.analysis(ENV.env, NOW)
    conv = doc.converter("utf-16")
    k = kept.kept_for(doc.kept, "utf-16")
    fresh = analyze(base, ENV, NOW)
    for seconds in moments:
        now = NOW + timedelta(seconds=seconds)
        note(repr(now))
        found = [(info, lenses.lens_actions(info, now)) for info in lenses.lenses(fresh)]
        expected = _plain(convert.code_lenses(uri, convert.Converter(LineIndex(base), "utf-16"), found))
        assert _plain(kept.code_lenses(k, a, conv, uri, now)) == expected


def test_a_kept_piece_printed_for_other_lines_reads_as_one_made_there() -> None:
    """A kept piece keeps its printed JSON and where its line numbers are, not a
    template beside it: printed for other lines (numbers of more and fewer digits, a
    "%" in a name), it reads as the template printed there."""
    template = '{"name":"a%%d 100%%","range":{"start":{"line":%d,"character":0},"end":{"line":%d,"character":9}}}'
    piece = convert.LineTemplate(template, (0, 3), 8)
    for line in (8, 9, 96, 1, 10_000, 7, 8):
        assert piece.at(line) == (template % (line, line + 3)).encode()
        assert json.loads(piece.at(line))["name"] == "a%d 100%"
    # a long piece (its places past 32,767), and one that grows past it when printed lower
    for long in ("x" * 40_000, "x" * (32_767 - len('{"name":"') - len("a%d 100%") - 60)):
        wide = template.replace("a%%d", long + "a%%d")
        piece = convert.LineTemplate(wide, (0, 3), 1)
        for line in (1, 9, 99_999, 1_000_000_000, 5):
            assert piece.at(line) == (wide % (line, line + 3)).encode()


def test_a_long_answer_is_written_in_pieces_that_join_to_its_json() -> None:
    """An answer written as JSON text goes out in pieces of about ``convert.CHUNK``
    bytes (the protocol writes each), which join to the whole answer."""
    items = [b'{"n":%d}' % i for i in range(20_000)]
    for found in (convert.RawJson(items), convert.RawJson([]), convert.RawJson(items[:1])):
        chunks = list(found.chunks(b"<", b">"))
        assert b"".join(chunks) == b"<" + found.json() + b">"
        assert sum(map(len, chunks)) == found.size() + 2
        assert max(map(len, chunks)) < convert.CHUNK + 16
    assert len(list(convert.RawJson(items).chunks(b"", b""))) > 2
    tokens = convert.RawTokens([b"1,2,3,4,5", b"0,1,2,3,4"], "7")
    joined = b"".join(tokens.chunks(b"", b""))
    assert json.loads(joined) == {"resultId": "7", "data": [1, 2, 3, 4, 5, 0, 1, 2, 3, 4]}
    assert len(joined) == tokens.size()
