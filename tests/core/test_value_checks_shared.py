"""A value written in many connections is checked once per analysis (``Checker.checked``),
and a connection's structure once per shape (``Shared.plans``): each connection still gets
exactly the findings it gets alone, with its own spans and name, in the one-pass analysis
(`snowauth check`) and in the language server's."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snowauth import checks
from snowauth.analysis import analyze
from snowauth.document import Connection
from snowauth.findings import Finding
from snowauth.incremental import Incremental
from tests.kit.analysis import HEX32, Pairs, environment, grant_keys, render
from tests.kit.clock import NOW

VARIANTS = [
    grant_keys("client_credentials"),
    grant_keys("client_credentials", client_secret='"${env:NOT_SET_ANYWHERE}"'),
    grant_keys("client_credentials", client_secret='"plain-secret"', client_id='"short"'),
    grant_keys("authorization_code", redirect_uri='"ftp://example.com/cb"'),
    grant_keys("authorization_code", redirect_uri='"https://example.com/cb"'),
    grant_keys("password", password='"${env:bad name}"', client_id=f'"{HEX32}"'),
    grant_keys("password", redirect_uri='"http://127.0.0.1:1/cb"'),
]


def _alone(text: str) -> list[tuple[object, ...]]:
    return [_shape(f) for f in analyze(text, environment(), NOW).findings]


def _shape(f: Finding, shift: int = 0) -> tuple[object, ...]:
    fixes = [
        (x.title, [(e.start - shift, e.end - shift, e.text) for e in x.edits], repr(x.appends), x.action, x.preferred)
        for x in f.fixes
    ]
    related = [(s - shift, e - shift, m) for s, e, m in f.related]
    return (f.start - shift, f.end - shift, f.severity, f.code, f.message, fixes, related, f.tags, f.connection)


@pytest.mark.parametrize("form", ["table", "inline"])
@pytest.mark.parametrize("engine", ["one pass", "incremental"])
def test_each_connection_gets_the_findings_it_gets_alone(form: str, engine: str) -> None:
    # inline connections share one `[connections]` header
    prefix = "[connections]\n" if form == "inline" else ""
    parts = [
        render(form, VARIANTS[k % len(VARIANTS)], name=f"c{k}").removeprefix(prefix) for k in range(3 * len(VARIANTS))
    ]
    text = prefix + "".join(parts)
    if engine == "one pass":
        findings = analyze(text, environment(), NOW).findings
    else:
        findings = Incremental(text).analysis(environment(), NOW).findings
    at = len(prefix)
    seen = 0
    for k, part in enumerate(parts):
        mine = [f for f in findings if at <= f.start < at + len(part)]
        assert [_shape(f, at - len(prefix)) for f in mine] == _alone(prefix + part), k
        seen += len(mine)
        at += len(part)
    assert seen == len(findings)
    # the variants do repeat findings (so the shared checks were used)
    assert {f.code for f in findings} >= {"unresolved-reference", "client-id-shape", "invalid-redirect-uri"}


# -- the structure checked once per shape (``Shared.plans``) ---------------------------------

_CHOICES = {
    "instance": ['"dev1"', '"https://acme.service-now.com"', "42"],
    "grant_type": ['"client_credentials"', '"password"', '"authorization_code"', '"jwt-bearer"', '"nope"', "1"],
    "client": ['"servicenow-sdk"', '"other"', "true"],
    "pkce": ["true", "false", '"yes"'],
    "jwt_algorithm": ['"HS256"', '"RS256"', "3"],
    "client_id": [f'"{HEX32}"', '"short"'],
    "client_secret": ['"${env:SNOW_SECRET}"', '"plain"'],
    "username": ['"u"'],
    "password": ['"${env:SNOW_PW}"'],
    "redirect_uri": ['"http://127.0.0.1:1/cb"', "5"],
    "timeout": ["30", "0", '"x"'],
}


@st.composite
def _connections(draw: st.DrawFn) -> list[Pairs]:
    """Connections on a few sets of keys, each key with a value drawn for each connection
    (so that shapes repeat, with the same and with other kinds and values)."""
    sets = draw(
        st.lists(
            st.lists(st.sampled_from(sorted(_CHOICES)), min_size=1, max_size=7, unique=True), min_size=1, max_size=3
        )
    )
    out: list[Pairs] = []
    for _ in range(draw(st.integers(1, 12))):
        keys = draw(st.sampled_from(sets))
        out.append([(k, _CHOICES[k][draw(st.integers(0, len(_CHOICES[k]) - 1))]) for k in keys])
    return out


@settings(max_examples=150, deadline=None)
@given(connections=_connections(), inline=st.booleans())
def test_a_shape_checked_once_finds_what_each_connection_finds(connections: list[Pairs], inline: bool) -> None:
    if inline:
        text = "[connections]\n" + "".join(
            f"c{k} = {{ {', '.join(f'{key} = {v}' for key, v in pairs)} }}\n" for k, pairs in enumerate(connections)
        )
    else:
        text = "".join(render("table", pairs, name=f"c{k}") for k, pairs in enumerate(connections))
    planned = [_shape(f) for f in Incremental(text).analysis(environment(), NOW).findings]
    one_pass = [_shape(f) for f in analyze(text, environment(), NOW).findings]
    with mock.patch.object(checks, "plan_key", lambda c: None):
        unplanned = [_shape(f) for f in Incremental(text).analysis(environment(), NOW).findings]
        assert [_shape(f) for f in analyze(text, environment(), NOW).findings] == unplanned
    assert planned == unplanned
    assert one_pass == unplanned


def test_connections_of_one_shape_share_a_plan() -> None:
    pairs = grant_keys("client_credentials")
    text = "".join(render("table", pairs, name=f"c{k}") for k in range(5))
    calls: list[str] = []
    structure = checks.Checker._structure

    def counted(self: checks.Checker, c: Connection) -> str | None:
        calls.append(c.name)
        return structure(self, c)

    with mock.patch.object(checks.Checker, "_structure", counted):
        assert Incremental(text).analysis(environment(), NOW).findings == []
    assert len(calls) == 1  # one of the five, whichever is checked first
