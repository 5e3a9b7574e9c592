"""The incremental analysis (the language server's) equals a fresh analysis of the same
text: after any series of edits, for findings, connections and statements, and for the
quick questions completion and hover ask."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given, note, settings
from hypothesis import strategies as st

from snowauth.analysis import Analysis, analyze
from snowauth.incremental import Incremental
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from snowauth.syntax import Chunks, flatten, parse
from tests.kit.analysis import password_keys, render
from tests.kit.clock import NOW
from tests.kit.edits import BASES, ENV, edits, span


def _same(ours: Analysis, fresh: Analysis, *, everything: bool) -> None:
    assert repr(ours.findings) == repr(fresh.findings)
    assert ours.connection_names() == fresh.connection_names()
    assert repr(ours.default) == repr(fresh.default)
    for name in fresh.connection_names()[:3]:
        assert repr(ours.connection(name)) == repr(fresh.connections[name])
    n = len(fresh.text)
    for offset in sorted({0, n // 3, n // 2, 2 * n // 3, n}):
        assert ours.table_at(offset) == fresh.table_at(offset), offset
        assert repr(ours.item_at(offset)) == repr(fresh.item_at(offset)), offset
    if everything:
        assert repr(ours.connections) == repr(fresh.connections)
        assert repr(ours.parsed.items) == repr(fresh.parsed.items)
        assert repr(ours.parsed.errors) == repr(fresh.parsed.errors)
        issues = sorted(fresh.layout.issues, key=lambda i: (i.start, i.end))
        assert repr(ours.layout.issues) == repr(issues)
        assert repr(ours.layout.unknown_top) == repr(fresh.layout.unknown_top)
        assert ours.layout.section_starts == fresh.layout.section_starts


@settings(max_examples=100, deadline=None)
@given(base=st.sampled_from(BASES), steps=edits)
def test_incremental_analysis_after_random_edits_equals_a_fresh_one(
    base: str, steps: list[tuple[float, int, str, bool]]
) -> None:
    text = base
    engine = Incremental(text)
    engine.analysis(ENV, NOW)
    for where, length, inserted, look in steps:
        start, end = span(text, where, length)
        note(repr((start, end, inserted)))
        text = text[:start] + inserted + text[end:]
        engine.edit(text, start, end, len(inserted))
        if look:
            _same(engine.analysis(ENV, NOW), analyze(text, ENV, NOW), everything=False)
    _same(engine.analysis(ENV, NOW), analyze(text, ENV, NOW), everything=True)


@settings(max_examples=100, deadline=None)
@given(base=st.sampled_from(BASES), steps=edits)
def test_chunks_after_random_edits_equal_a_fresh_scan(base: str, steps: list[tuple[float, int, str, bool]]) -> None:
    text = base
    chunks = Chunks(text)
    index = LineIndex(text)
    for where, length, inserted, _ in steps:
        start, end = span(text, where, length)
        text = text[:start] + inserted + text[end:]
        chunks.edit(text, start, end, len(inserted))
        index = index.edited(text, start, end, len(inserted))
        assert index.starts == LineIndex(text).starts
    fresh = parse(text)
    ours = flatten(text, chunks.list)
    assert repr(ours.items) == repr(fresh.items)
    assert repr(ours.errors) == repr(fresh.errors)


def test_time_turns_findings_over_without_an_edit() -> None:
    """A token that expires, and "expired 1 min ago" that becomes "2 min"."""
    text = render("table", password_keys(), [("access_token", '"a"'), ("expires_at", "2026-11-28T10:00:30Z")])
    engine = Incremental(text)
    for now in (NOW, NOW + timedelta(seconds=20), NOW + timedelta(seconds=40), NOW + timedelta(minutes=2)):
        assert repr(engine.analysis(ENV, now).findings) == repr(analyze(text, ENV, now).findings)
    codes = [f.code for f in engine.analysis(ENV, NOW + timedelta(minutes=2)).findings]
    assert "token-expired" in codes


def test_the_environment_and_the_dotenv_file_are_read_again(tmp_path: Path) -> None:
    keys = password_keys(password='"${env:FROM_DOTENV}"')
    text = render("table", keys)
    engine = Incremental(text)
    env = Environment(dict(ENV.env), tmp_path)
    assert "unresolved-reference" in [f.code for f in engine.analysis(env, NOW).findings]
    (tmp_path / ".env").write_text("FROM_DOTENV=x\n")
    env = Environment(dict(ENV.env), tmp_path)
    assert repr(engine.analysis(env, NOW).findings) == repr(analyze(text, env, NOW).findings)
    assert "unresolved-reference" not in [f.code for f in engine.analysis(env, NOW).findings]


def test_an_older_analysis_keeps_answering_for_its_own_text() -> None:
    text = render("table", password_keys(), name="dev")
    engine = Incremental(text)
    old = engine.analysis(ENV, NOW)
    new_text = "# moved\n" + text
    engine.edit(new_text, 0, 0, len("# moved\n"))
    engine.analysis(ENV, NOW)
    assert repr(old.connections) == repr(analyze(text, ENV, NOW).connections)
    assert old.table_at(len(text)) == ("connections", "dev")


def test_an_edit_in_a_long_file_builds_one_connection_again() -> None:
    text = "".join(render("table", password_keys(), name=f"c{i}") for i in range(200))
    engine = Incremental(text)
    engine.analysis(ENV, NOW)
    at = text.index("[connections.c100]") + len("[connections.c100]\ninst")
    engine.edit(text[:at] + "x" + text[at:], at, at, 1)
    assert {g.name for g in engine.dirty} == {"c100"}
