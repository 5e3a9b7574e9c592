"""Advice the checks give beyond "this is wrong": an unknown key written on several lines
linked to its other occurrences, the hint for a connection named `connections` by
mistake, and one missing-`grant_type` fix per grant the keys present make plausible."""

from __future__ import annotations

import pytest

from snowauth import model
from snowauth.findings import HINT, INFORMATION
from snowauth.incremental import Incremental
from snowauth.secrets import Environment
from tests.kit.analysis import FORMS, HEX32, apply_edits, grant_keys, having, one, render, run
from tests.kit.clock import NOW

JWT = model.GRANT_JWT_BEARER

# -- the same unknown key on several lines ---------------------------------------------------

TWO_CONNECTIONS = (
    "[connections.dev]\n"
    'instance = "dev12345"\n'
    "scopes = 1\n"
    "[connections.prod]\n"
    'instance = "prod12345"\n'
    "scopes = 2\n"
    "[connections.test]\n"
    'instance = "test12345"\n'
    "scopes = 3\n"
)


def _spans(text: str, word: str) -> list[tuple[int, int]]:
    out, at = [], text.find(word)
    while at >= 0:
        out.append((at, at + len(word)))
        at = text.find(word, at + 1)
    return out


def test_an_unknown_key_on_several_lines_links_the_other_occurrences() -> None:
    a = run(TWO_CONNECTIONS)
    unknown = having(a, "unknown-key")
    spans = _spans(TWO_CONNECTIONS, "scopes")
    assert [(f.start, f.end) for f in unknown] == spans
    for f in unknown:
        others = [s for s in spans if s != (f.start, f.end)]
        assert [(s, e) for s, e, _ in f.related] == others
        assert all("scopes" in m for _, _, m in f.related), f.related
        # each occurrence keeps its own quick fix, on its own span
        assert len(f.fixes) == 1 and f.fixes[0].preferred
        assert [(e.start, e.end) for e in f.fixes[0].edits] == [(f.start, f.end)]
        assert apply_edits(TWO_CONNECTIONS, f.fixes[0].edits).count("scope =") == 1


def test_a_connection_named_connections_by_mistake_repeats_its_unknown_key_linked() -> None:
    text = '[connections]\nconnections.dev.instance = "dev1"\nconnections.dev.client_id = "abc"\n'
    unknown = having(run(text), "unknown-key")
    assert len(unknown) == 2
    assert [(s, e) for s, e, _ in unknown[0].related] == [(unknown[1].start, unknown[1].end)]
    assert [(s, e) for s, e, _ in unknown[1].related] == [(unknown[0].start, unknown[0].end)]


def test_an_unknown_key_written_once_has_no_related_information() -> None:
    text = '[connections.dev]\ninstance = "dev12345"\nscopes = 1\nscop = 2\n'
    assert all(f.related == [] for f in having(run(text), "unknown-key"))


def test_the_incremental_engine_links_unknown_keys_across_connections() -> None:
    env = Environment({}, None)
    engine = Incremental(TWO_CONNECTIONS)
    first = [f for f in engine.analysis(env, NOW).findings if f.code == "unknown-key"]
    assert all(len(f.related) == 2 for f in first)
    # rename the last `scopes`: the two others now link one another only
    at = TWO_CONNECTIONS.rindex("scopes")
    text = TWO_CONNECTIONS[:at] + "scopez" + TWO_CONNECTIONS[at + len("scopes") :]
    engine.edit(text, at, at + len("scopes"), len("scopez"))
    got = engine.analysis(env, NOW).findings
    fresh = run(text, env).findings
    assert [(f.start, f.code, f.related) for f in got] == [(f.start, f.code, f.related) for f in fresh]
    by_name = {text[f.start : f.end]: f for f in got if f.code == "unknown-key"}
    assert len(by_name["scopez"].related) == 0
    assert len([f for f in got if f.code == "unknown-key" and len(f.related) == 1]) == 2


# -- a connection named `connections` by mistake ---------------------------------------------------

NAMED_CONNECTIONS = (
    '[connections]\nconnections.dev.instance = "dev12345"\nconnections.dev.grant_type = "client_credentials"\n'
)


def test_dotted_connections_keys_under_the_connections_header_get_a_hint() -> None:
    a = run(NAMED_CONNECTIONS)
    hints = having(a, "connection-named-connections")
    assert len(hints) == 2
    for f in hints:
        assert f.severity in (HINT, INFORMATION)
        line = NAMED_CONNECTIONS[f.start : NAMED_CONNECTIONS.index("\n", f.start)]
        assert line.startswith("connections.dev.")
        assert "a connection named `connections`" in f.message
        assert "`dev." in f.message and "[connections.dev]" in f.message
    # the quick fix drops the extra `connections.`: the connection is `dev`
    fixed = NAMED_CONNECTIONS
    for _ in range(2):
        f = having(run(fixed), "connection-named-connections")[0]
        fixed = apply_edits(fixed, f.fixes[0].edits)
    assert fixed == '[connections]\ndev.instance = "dev12345"\ndev.grant_type = "client_credentials"\n'
    after = run(fixed)
    assert list(after.connections) == ["dev"]
    assert having(after, "connection-named-connections") == []


@pytest.mark.parametrize(
    "text",
    [
        '[connections]\ndev.instance = "dev12345"\n',
        'connections.dev.instance = "dev12345"\n',
        '[connections.dev]\ninstance = "dev12345"\n',
        '[connections]\nconnections = { instance = "dev12345" }\n',
    ],
)
def test_no_hint_without_the_mistake(text: str) -> None:
    assert having(run(text), "connection-named-connections") == []


# -- the missing grant_type -------------------------------------------------------------------------


def _grant_fixes(text: str) -> list[tuple[str, bool]]:
    f = next(f for f in having(run(text), "missing-key") if "`grant_type`" in f.message)
    out = []
    for fix in f.fixes:
        fixed = apply_edits(text, fix.edits)
        c = run(fixed).connections["dev"]
        value = c.keys["grant_type"].value.data
        assert isinstance(value, str)
        assert f'"{value}"' in fix.title
        out.append((value, fix.preferred))
    return out


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        ("password", "password"),
        (JWT, JWT),
        ("authorization_code", "authorization_code"),
        ("refresh_token", "refresh_token"),
        ("client_credentials", "client_credentials"),
    ],
)
def test_the_missing_grant_type_fix_follows_the_keys_present(form: str, grant: str, expected: str) -> None:
    text = render(form, grant_keys(grant, grant_type=None))
    fixes = _grant_fixes(text)
    assert fixes[0] == (expected, True), fixes
    assert [p for _, p in fixes].count(True) == 1
    # applying the preferred fix leaves no missing key
    f = next(f for f in having(run(text), "missing-key") if "`grant_type`" in f.message)
    assert having(run(apply_edits(text, f.fixes[0].edits)), "missing-key") == []


def test_keys_of_two_grants_offer_both_and_prefer_the_one_with_more_keys() -> None:
    keys = [
        ("instance", '"dev12345"'),
        ("client_id", f'"{HEX32}"'),
        ("username", '"u"'),
        ("jwt_key_file", '"k.pem"'),
        ("jwt_subject", '"u"'),
    ]
    fixes = _grant_fixes(render("table", keys))
    assert fixes == [(JWT, True), ("password", False)]


def test_redirect_uri_or_pkce_make_authorization_code_plausible() -> None:
    text = render("table", [("instance", '"dev12345"'), ("client_id", f'"{HEX32}"'), ("pkce", "true")])
    assert _grant_fixes(text) == [("authorization_code", True)]


def test_nothing_plausible_offers_every_grant_none_preferred() -> None:
    text = render("table", [("instance", '"dev12345"'), ("client_id", f'"{HEX32}"')])
    fixes = _grant_fixes(text)
    assert [g for g, _ in fixes] == list(model.GRANTS)
    assert not any(p for _, p in fixes)


def test_only_a_client_secret_means_client_credentials() -> None:
    keys = [("instance", '"dev12345"'), ("client_id", f'"{HEX32}"'), ("client_secret", '"${env:SNOW_SECRET}"')]
    assert _grant_fixes(render("table", keys)) == [("client_credentials", True)]
    one(run(render("table", keys)), "missing-key")
