"""`client = "servicenow-sdk"` in the core: what the checks say (in every TOML form), the
quick fix that switches a connection without a client ID to the SDK client, completion,
hover, and the connection as resolved to send (the SDK's ID, its relative redirect, PKCE,
no secret; the ID overridable from the process environment only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowauth import connections as conns
from snowauth import instance_records as ir
from snowauth import model
from snowauth.completion import complete
from snowauth.findings import ERROR, TAG_UNNECESSARY, WARNING
from snowauth.hover import hover
from snowauth.secrets import Environment
from tests.kit.analysis import FORMS, HEX32, apply_edits, codes, having, one, render, run
from tests.kit.clock import NOW

SDK = [("instance", '"dev12345"'), ("client", '"servicenow-sdk"')]
SIGN_IN = "Sign in with the ServiceNow SDK client instead"


@pytest.mark.parametrize("form", FORMS)
def test_the_instance_and_the_client_are_a_whole_connection(form: str) -> None:
    a = run(render(form, SDK))
    assert a.findings == []
    assert a.connections["dev"].grant_and_pkce() == (model.GRANT_AUTHORIZATION_CODE, True)
    assert run(render(form, [*SDK, ("grant_type", '"authorization_code"'), ("scope", '"useraccount"')])).findings == []


@pytest.mark.parametrize("form", FORMS)
def test_another_grant_is_an_error_with_fixes(form: str) -> None:
    text = render(form, [*SDK, ("grant_type", '"password"')])
    f = one(run(text), "client-grant")
    assert f.severity == ERROR and "authorization code grant" in f.message
    assert text[f.start : f.end] == '"password"'
    fixed = apply_edits(text, f.fixes[0].edits)
    assert f.fixes[0].title == 'Use "authorization_code"' and run(fixed).findings == []
    if form != "inline":  # an inline table's member has no line of its own to remove
        assert f.fixes[1].title == "Remove `grant_type`"
        assert run(apply_edits(text, f.fixes[1].edits)).findings == []


@pytest.mark.parametrize("form", FORMS)
def test_keys_the_client_brings_itself_are_ignored(form: str) -> None:
    keys = [
        *SDK,
        ("client_id", f'"{HEX32}"'),
        ("client_secret", '"written-here"'),
        ("redirect_uri", '"http://127.0.0.1:1/cb"'),
        ("pkce", "false"),
    ]
    text = render(form, keys)
    a = run(text)
    ignored = having(a, "ignored-key")
    assert [text[f.start : f.end] for f in ignored] == ["client_id", "client_secret", "redirect_uri", "pkce"]
    for f in ignored:
        assert f.severity == WARNING and f.tags == (TAG_UNNECESSARY,)
        assert 'ignored with client = "servicenow-sdk"' in f.message
    # reported once each: no literal-secret, no client-id shape on a key that is not used
    assert sorted(codes(a)) == ["ignored-key"] * 4
    if form != "inline":
        for f in ignored:
            assert f.fixes[0].title.startswith("Remove") and f not in having(
                run(apply_edits(text, f.fixes[0].edits)), "ignored-key"
            )


def test_an_unknown_client_is_an_invalid_value() -> None:
    f = one(run(render("table", [("instance", '"dev12345"'), ("client", '"servicenow-skd"')])), "invalid-value")
    assert "`servicenow-sdk`" in f.message and f.fixes[0].title == 'Use "servicenow-sdk"'


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "keys",
    [
        [("instance", '"dev12345"'), ("grant_type", '"password"'), ("client_secret", '"${env:SNOW_SECRET}"'),
         ("username", '"u"'), ("password", '"${prompt}"')],
        [("instance", '"dev12345"'), ("grant_type", '"authorization_code"'), ("redirect_uri", '"http://127.0.0.1:1/cb"')],
        [("instance", '"dev12345"'), ("client_secret", '"${env:SNOW_SECRET}"')],
    ],
    ids=["password", "authorization_code", "no grant"],
)  # fmt: skip
def test_missing_client_id_offers_the_sdk_client(form: str, keys: list[tuple[str, str]]) -> None:
    text = render(form, keys)
    missing = [f for f in having(run(text), "missing-key") if "`client_id`" in f.message]
    (fix,) = [x for x in missing[0].fixes if x.title == SIGN_IN]
    assert not fix.preferred  # adding the record's client_id stays the first fix
    after = run(apply_edits(text, fix.edits))
    c = after.connections["dev"]
    assert c.client == model.CLIENT_SDK and c.grant_and_pkce()[0] == model.GRANT_AUTHORIZATION_CODE
    assert not [f for f in after.findings if f.severity == ERROR], after.findings
    assert not {"client_secret", "redirect_uri"} & set(c.keys) or form == "inline"
    assert "grant_type" not in c.keys


@pytest.mark.parametrize("grant", ["client_credentials", "jwt_bearer"])
def test_no_sdk_fix_for_grants_that_act_as_no_person(grant: str) -> None:
    text = render("table", [("instance", '"dev12345"'), ("grant_type", f'"{grant}"')])
    fixes = [x.title for f in having(run(text), "missing-key") for x in f.fixes]
    assert fixes and SIGN_IN not in fixes


def test_the_sdk_fix_is_one_edit_per_place() -> None:
    text = '[connections.dev]\ninstance = "dev12345"\nclient_secret = "${env:SNOW_SECRET}"\n'
    missing = [f for f in having(run(text), "missing-key") if "`client_id`" in f.message]
    (fix,) = [x for x in missing[0].fixes if x.title == SIGN_IN]
    assert len(fix.edits) == 1  # the removed last line and the inserted one, folded
    assert apply_edits(text, fix.edits) == '[connections.dev]\ninstance = "dev12345"\nclient = "servicenow-sdk"\n'


def test_completion_offers_the_key_and_its_value() -> None:
    text = '[connections.dev]\ninstance = "dev12345"\n'
    keys = complete(run(text), len(text), Environment({}, None), snippets=False)
    (item,) = [c for c in keys if c.label == "client"]
    assert item.detail == "optional"
    text += "client = "
    values = complete(run(text), len(text), Environment({}, None), snippets=False)
    (value,) = [c for c in values if c.label == "servicenow-sdk"]
    assert "SSO and MFA" in value.documentation and "no client secret" in value.documentation
    # with the SDK client, the keys it brings itself are not offered
    text = render("table", SDK)
    offered = {c.label for c in complete(run(text), len(text), Environment({}, None), snippets=False)}
    assert not {"client_id", "client_secret", "redirect_uri", "pkce"} & offered and "scope" in offered


def test_hover_explains_the_key_and_the_value() -> None:
    text = render("table", [*SDK, ("client_id", f'"{HEX32}"')])
    a = run(text)
    key = hover(a, text.index("client =") + 1, NOW)
    assert key is not None and key.markdown.startswith("**client** (string)")
    assert ir.SDK_CLIENT_ID_ENV in key.markdown and "never a `.env`" in key.markdown
    value = hover(a, text.index('"servicenow-sdk"') + 2, NOW)
    assert value is not None and "shipped with instances" in value.markdown and "no registry record" in value.markdown
    summary = hover(a, text.index("dev]") + 1, NOW)
    assert summary is not None and "Client: `servicenow-sdk`" in summary.markdown and "Grant:" not in summary.markdown
    ignored = hover(a, text.index("client_id") + 1, NOW)
    assert ignored is not None and 'Not needed with `client = "servicenow-sdk"`' in ignored.markdown


async def resolved(text: str, tmp_path: Path) -> conns.ResolvedConnection:
    a = run(text)
    env = Environment({}, tmp_path)
    return await conns.resolve(a, a.connections["dev"], env, None)


async def test_resolved_as_the_sdk_sends_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ir.SDK_CLIENT_ID_ENV, raising=False)
    conn = await resolved(render("table", SDK), tmp_path)
    assert (conn.client_id, conn.redirect_uri, conn.pkce, conn.client_secret) == (
        ir.SDK_CLIENT_ID,
        ir.SDK_REDIRECT_PATH,
        True,
        None,
    )
    assert conn.grant_type == model.GRANT_AUTHORIZATION_CODE and conn.base_url == "https://dev12345.service-now.com"


async def test_the_client_id_comes_from_the_process_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "fedcba9876543210fedcba9876543210"
    # a `.env` beside the file (a cloned repository's) does not redirect the sign-in
    (tmp_path / ".env").write_text(f"{ir.SDK_CLIENT_ID_ENV}=0000000000000000000000000000dead\n", encoding="utf-8")
    monkeypatch.delenv(ir.SDK_CLIENT_ID_ENV, raising=False)
    a = run(render("table", SDK))
    env = Environment.of_process(tmp_path)
    assert (await conns.resolve(a, a.connections["dev"], env, None)).client_id == ir.SDK_CLIENT_ID
    monkeypatch.setenv(ir.SDK_CLIENT_ID_ENV, other)
    assert (await conns.resolve(a, a.connections["dev"], env, None)).client_id == other
