"""Token revocation and the REST endpoints that check a token."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from snowauth import instance_records as ir
from snowauth.emulator import Emulator, default_config
from snowauth.emulator.records import ENTITY_AUTH_SCOPES
from tests.kit.clock import FakeClock
from tests.kit.emulator import (
    DEMO_ID,
    HTTP,
    NOT_AUTHENTICATED,
    USER,
    assert_denied,
    current_user,
    emulator_config,
    password_grant,
    refresh_grant,
    table_api,
    table_rows,
)


def _table(emu: Emulator, access_token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return HTTP.get(f"{emu.url}/api/now/table/sys_user", params=params, headers=headers)


def _assert_not_authenticated(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"] == 'BASIC realm="Service-now"'


def test_table_api(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    everything = _table(emu, access)
    assert everything.status_code == 200
    rows = everything.json()["result"]
    assert {row["user_name"] for row in rows} == set(default_config().users)
    admin = next(row for row in rows if row["user_name"] == "admin")
    assert admin["sys_id"] == "6816f79cc0a8016401c5a33be04be441"
    assert admin["active"] == "true"
    one = _table(emu, access, sysparm_limit="1").json()["result"]
    assert len(one) == 1
    only_admin = _table(emu, access, sysparm_query="user_name=admin").json()["result"]
    assert [row["user_name"] for row in only_admin] == ["admin"]
    assert _table(emu, access, sysparm_limit="many").status_code == 400


def test_current_user(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    response = current_user(emu, access)
    assert response.status_code == 200
    result = response.json()["result"]
    user = default_config().users[USER]
    assert result["user_name"] == USER
    assert result["user_sys_id"] == user.sys_id
    assert result["first_name"] == user.first_name
    assert result["last_name"] == user.last_name
    assert result["email"] == user.email


@pytest.mark.parametrize(
    "authorization",
    # HTTP Basic with the right password is accepted (test_emulator_table_api.py).
    [None, "Bearer", "Bearer not-a-token", "Basic aW50ZWdyYXRpb24udXNlcjp3cm9uZy1wYXNzd29yZA==", "Basic not-base64"],
)
def test_rest_401(emu: Emulator, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/api/now/table/sys_user", "/api/now/ui/user/current_user"):
        _assert_not_authenticated(HTTP.get(f"{emu.url}{path}", headers=headers))


def test_bearer_scheme_is_case_insensitive(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    response = HTTP.get(f"{emu.url}/api/now/ui/user/current_user", headers={"Authorization": f"bearer {access}"})
    assert response.status_code == 200


def test_expired_access_token(emu: Emulator, clock: FakeClock) -> None:
    access = password_grant(emu).json()["access_token"]
    clock.advance(1799)
    assert _table(emu, access).status_code == 200
    clock.advance(2)
    _assert_not_authenticated(_table(emu, access))


def _set_auth_scopes(emu: Emulator, client_id: str, scopes: str) -> None:
    [row] = table_rows(emu, ir.OAUTH_ENTITY, sysparm_query=f"{ir.ENTITY_CLIENT_ID}={client_id}")
    response = table_api(emu, "PATCH", ir.OAUTH_ENTITY, row["sys_id"], body={ENTITY_AUTH_SCOPES: scopes})
    assert response.status_code == 200, response.text
    assert response.json()["result"][ENTITY_AUTH_SCOPES] == scopes


def test_an_api_without_an_auth_scope_takes_any_valid_token(emu: Emulator) -> None:
    # behaviour changed on purpose: the token's requested scope is not what the
    # instance checks (docs/servicenow.md "Scopes and JWT")
    access = password_grant(emu, scope="other").json()["access_token"]
    assert _table(emu, access).status_code == 200
    assert current_user(emu, access).status_code == 200


def test_scope_without_useraccount_is_403(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(emulator_config(api_scopes={"/api/now": "rest_api"}))
    access = password_grant(emu, scope="other").json()["access_token"]
    response = _table(emu, access)
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == "failure"
    assert body["error"]["message"] == "Missing required api access scope"
    assert current_user(emu, access).status_code == 403
    # the record's Auth Scopes decide at request time: the same token passes once
    # the record holds the API's scope, fails when it is taken away, and passes
    # with useraccount, which opens every API
    _set_auth_scopes(emu, DEMO_ID, "rest_api")
    assert _table(emu, access).status_code == 200
    assert current_user(emu, access).status_code == 200
    _set_auth_scopes(emu, DEMO_ID, "other_scope")
    assert _table(emu, access).status_code == 403
    _set_auth_scopes(emu, DEMO_ID, "useraccount")
    assert _table(emu, access).status_code == 200
    wider = password_grant(emu, scope="other useraccount")
    assert wider.status_code == 401  # the record now allows only useraccount to be asked for


def test_the_longest_api_prefix_names_the_scope(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(emulator_config(api_scopes={"/api/now": "useraccount", "/api/now/table": "table_read"}))
    _set_auth_scopes(emu, DEMO_ID, "table_read")
    access = password_grant(emu, scope="table_read").json()["access_token"]
    assert _table(emu, access).status_code == 200
    assert current_user(emu, access).status_code == 403


def test_unknown_table_and_resource(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    table = HTTP.get(f"{emu.url}/api/now/table/incident_x", headers=headers)
    assert table.status_code == 400
    assert table.json()["status"] == "failure"
    other = HTTP.get(f"{emu.url}/api/now/nothing", headers=headers)
    assert other.status_code == 400
    # Authentication comes first.
    _assert_not_authenticated(HTTP.get(f"{emu.url}/api/now/table/incident_x"))
    # Writing needs the admin role: the instance's ACL refusal.
    refused = HTTP.post(f"{emu.url}/api/now/table/sys_user", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["detail"] == "ACL Exception Insert Failed due to security constraints"


def _revoke_post(emu: Emulator, value: str) -> httpx.Response:
    return HTTP.post(f"{emu.url}/oauth_revoke_token.do", data={"token": value})


def _revoke_get(emu: Emulator, value: str) -> httpx.Response:
    return HTTP.get(f"{emu.url}/oauth_revoke_token.do", params={"token": value})


Revoke = Callable[[Emulator, str], httpx.Response]


@pytest.mark.parametrize("revoke", [_revoke_post, _revoke_get])
def test_revoke_access_token(emu: Emulator, revoke: Revoke) -> None:
    body = password_grant(emu).json()
    response = revoke(emu, body["access_token"])
    assert response.status_code == 200
    _assert_not_authenticated(current_user(emu, body["access_token"]))
    # The refresh token still works, and yields a new access token.
    refreshed = refresh_grant(emu, body["refresh_token"]).json()
    assert refreshed["access_token"] != body["access_token"]
    assert current_user(emu, refreshed["access_token"]).status_code == 200


@pytest.mark.parametrize("revoke", [_revoke_post, _revoke_get])
def test_revoke_refresh_token_cascades(emu: Emulator, revoke: Revoke) -> None:
    body = password_grant(emu).json()
    assert revoke(emu, body["refresh_token"]).status_code == 200
    assert_denied(refresh_grant(emu, body["refresh_token"]))
    _assert_not_authenticated(current_user(emu, body["access_token"]))
    fresh = password_grant(emu).json()  # a new grant starts over
    assert fresh["access_token"] != body["access_token"]
    assert fresh["refresh_token"] != body["refresh_token"]
    assert current_user(emu, fresh["access_token"]).status_code == 200


def test_revoke_unknown_or_missing_token_is_200(emu: Emulator) -> None:
    assert _revoke_post(emu, "unknown").status_code == 200
    assert _revoke_get(emu, "unknown").status_code == 200
    assert HTTP.post(f"{emu.url}/oauth_revoke_token.do").status_code == 200
    assert HTTP.get(f"{emu.url}/oauth_revoke_token.do").status_code == 200
    assert HTTP.put(f"{emu.url}/oauth_revoke_token.do").status_code == 405


def test_revoke_needs_no_client_authentication(emu: Emulator) -> None:
    body = password_grant(emu).json()
    other = password_grant(emu, username="admin", password="admin-password").json()
    _revoke_post(emu, body["access_token"])
    assert current_user(emu, other["access_token"]).status_code == 200
    assert DEMO_ID not in str(emu.requests)


def test_index_and_not_found(emu: Emulator) -> None:
    index = HTTP.get(emu.url + "/")
    assert index.status_code == 200
    assert "/oauth_token.do" in index.text
    missing = HTTP.get(emu.url + "/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
