"""A value written in many connections is checked once per analysis (``Checker.checked``):
each connection still gets exactly the findings it gets alone, with its own spans and
name, in the one-pass analysis (`snowauth check`) and in the language server's."""

from __future__ import annotations

import pytest

from snowauth.analysis import analyze
from snowauth.findings import Finding
from snowauth.incremental import Incremental
from tests.kit.analysis import HEX32, environment, grant_keys, render
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
