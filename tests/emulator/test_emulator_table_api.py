"""The Table API over the instance's own records: authentication, the admin role,
ServiceNow's refusal bodies, encoded queries, and the records as live state."""

from __future__ import annotations

import base64
import logging
import re

import pytest

from snowauth import instance_records as ir
from snowauth.emulator import Emulator, default_config
from tests.kit.emulator import (
    ADMIN,
    ADMIN_PASSWORD,
    DEMO_ID,
    HTTP,
    NOT_AUTHENTICATED,
    USER,
    USER_PASSWORD,
    current_user,
    password_grant,
    table_api,
    table_rows,
)

SVC = default_config().users["svc.integration"]


def _row(emu: Emulator, table: str, **params: str) -> dict[str, object]:
    rows = table_rows(emu, table, **params)
    assert len(rows) == 1, rows
    return rows[0]


def test_basic_auth_reads_the_registry_as_strings(emu: Emulator) -> None:
    rows = table_rows(emu, ir.OAUTH_ENTITY)
    by_id = {row[ir.ENTITY_CLIENT_ID]: row for row in rows}
    assert set(by_id) == {c.client_id for c in default_config().clients.values()} | {ir.SDK_CLIENT_ID}
    demo = by_id[DEMO_ID]
    for name, value in demo.items():
        assert isinstance(value, str) or name == ir.ENTITY_APPLICATION_USER, (name, value)
    assert demo[ir.ENTITY_ACTIVE] == "true"
    assert demo[ir.ENTITY_PUBLIC_CLIENT] == "false"
    assert demo[ir.ENTITY_TYPE] == ir.ENTITY_TYPE_CLIENT
    assert demo[ir.ENTITY_ACCESS_TOKEN_LIFESPAN] == "1800"
    assert demo[ir.ENTITY_REDIRECT_URL] == "http://127.0.0.1:53682/callback,http://localhost:53682/callback"
    assert demo[ir.ENTITY_APPLICATION_USER] == {
        "link": f"{emu.url}/api/now/table/sys_user/{SVC.sys_id}",
        "value": SVC.sys_id,
    }
    sdk = by_id[ir.SDK_CLIENT_ID]
    assert sdk[ir.ENTITY_PUBLIC_CLIENT] == "true"
    assert sdk[ir.ENTITY_REDIRECT_URL] == ir.SDK_REDIRECT_PATH
    assert sdk[ir.ENTITY_APPLICATION_USER] == ""
    plain = table_rows(
        emu, ir.OAUTH_ENTITY, sysparm_query=f"client_id={DEMO_ID}", sysparm_exclude_reference_link="true"
    )
    assert plain[0][ir.ENTITY_APPLICATION_USER] == SVC.sys_id
    one = table_api(emu, "GET", ir.OAUTH_ENTITY, demo["sys_id"], sysparm_fields="name,active")
    assert one.status_code == 200
    assert one.json() == {"result": {"name": "demo", "active": "true"}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("user_name=admin", ["admin"]),
        ("user_name=Admin", []),
        ("user_nameSTARTSWITHin", ["inactive.user", "integration.user"]),
        ("user_nameLIKEONLY", ["web.only"]),
        ("active=true^user_nameSTARTSWITHin", ["integration.user"]),
        ("user_name=admin^ORuser_name=web.only", ["admin", "web.only"]),
        ("user_name!=admin^user_name!=web.only^active=true^locked_out=false", ["integration.user", "svc.integration"]),
        ("no_such_field=1^user_name=admin", ["admin"]),
        ("user_nameINadmin,web.only^ORDERBYDESCuser_name", ["web.only", "admin"]),
    ],
)
def test_encoded_queries(emu: Emulator, query: str, expected: list[str]) -> None:
    rows = table_rows(emu, ir.SYS_USER, sysparm_query=query + "^ORDERBYuser_name", sysparm_fields="user_name")
    names = [row["user_name"] for row in rows]
    if "ORDERBYDESC" in query:
        assert names == expected
    else:
        assert names == sorted(expected)
    assert all(set(row) == {"user_name"} for row in rows)


def test_order_limit_offset(emu: Emulator) -> None:
    every = sorted(default_config().users)
    ascending = table_rows(emu, ir.SYS_USER, sysparm_query="ORDERBYuser_name", sysparm_fields="user_name")
    assert [r["user_name"] for r in ascending] == every
    descending = table_rows(emu, ir.SYS_USER, sysparm_query="ORDERBYDESCuser_name", sysparm_limit="2")
    assert [r["user_name"] for r in descending] == every[::-1][:2]
    page = table_api(emu, "GET", ir.SYS_USER, sysparm_query="ORDERBYuser_name", sysparm_limit="2", sysparm_offset="1")
    assert [r["user_name"] for r in page.json()["result"]] == every[1:3]
    assert page.headers["x-total-count"] == str(len(every))
    bad = table_api(emu, "GET", ir.SYS_USER, sysparm_limit="lots")
    assert bad.status_code == 400
    assert bad.json()["status"] == "failure"


def _basic(user: str, password: str) -> dict[str, str]:
    value = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def test_bad_basic_auth_is_401(emu: Emulator) -> None:
    for headers in (_basic(ADMIN, "wrong"), _basic("nobody", "x"), _basic("locked.user", "locked-password"), {}):
        response = HTTP.get(f"{emu.url}/api/now/table/oauth_entity", headers=headers)
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED
        assert response.headers["www-authenticate"] == 'BASIC realm="Service-now"'
    # The right password works, for a web service user too (no interactive session needed).
    assert HTTP.get(f"{emu.url}/api/now/table/sys_user", headers=_basic(USER, USER_PASSWORD)).status_code == 200
    assert (
        HTTP.get(f"{emu.url}/api/now/table/sys_user", headers=_basic("web.only", "webonly-password")).status_code == 200
    )


@pytest.mark.parametrize("table", [ir.OAUTH_ENTITY, ir.SYS_PROPERTIES, ir.SYSLOG])
def test_without_the_admin_role(emu: Emulator, table: str) -> None:
    user = (USER, USER_PASSWORD)
    listed = table_api(emu, "GET", table, auth=user)
    assert listed.status_code == 403
    assert listed.json() == {
        "error": {
            "message": "Insufficient rights to query records",
            "detail": f"No permission to read table '{table}'",
        },
        "status": "failure",
    }
    some_id = table_rows(emu, table)[0]["sys_id"] if table != ir.SYSLOG else "0" * 32
    single = table_api(emu, "GET", table, some_id, auth=user)
    assert single.status_code == 404
    assert single.json()["error"] == {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval",
    }
    inserted = table_api(emu, "POST", table, auth=user, body={"name": "x"})
    assert inserted.status_code == 403
    assert inserted.json()["error"] == {
        "message": "Operation Failed",
        "detail": "ACL Exception Insert Failed due to security constraints",
    }
    updated = table_api(emu, "PATCH", table, some_id, auth=user, body={"active": "false"})
    assert updated.status_code == 403
    assert updated.json()["error"]["detail"] == "ACL Exception Update Failed due to security constraints"
    # The same with the user's Bearer token.
    access = password_grant(emu).json()["access_token"]
    assert table_api(emu, "GET", table, bearer=access).status_code == 403
    # Reading users needs no role.
    assert table_api(emu, "GET", ir.SYS_USER, bearer=access).status_code == 200


def test_unknown_table_and_record(emu: Emulator) -> None:
    unknown = table_api(emu, "GET", "incident_x")
    assert unknown.status_code == 400
    assert unknown.json() == {"error": {"message": "Invalid table incident_x", "detail": None}, "status": "failure"}
    assert table_api(emu, "POST", "incident_x", body={}).status_code == 400
    missing = table_api(emu, "PATCH", ir.OAUTH_ENTITY, "f" * 32, body={"active": "false"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No Record found"
    assert table_api(emu, "POST", ir.SYSLOG, body={"message": "x"}).status_code == 403
    bad = HTTP.post(
        f"{emu.url}/api/now/table/oauth_entity",
        content=b"{not json",
        headers={"Content-Type": "application/json", **_basic(ADMIN, ADMIN_PASSWORD)},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Exception while reading request"


def test_users_are_live(emu: Emulator) -> None:
    for _ in range(5):
        password_grant(emu, password="wrong")
    locked = _row(emu, ir.SYS_USER, sysparm_query=f"user_name={USER}")
    assert locked[ir.USER_LOCKED_OUT] == "true"
    assert locked[ir.USER_WEB_SERVICE_ONLY] == "false"
    unlocked = table_api(emu, "PATCH", ir.SYS_USER, str(locked["sys_id"]), body={ir.USER_LOCKED_OUT: False})
    assert unlocked.status_code == 200
    assert unlocked.json()["result"][ir.USER_LOCKED_OUT] == "false"
    assert password_grant(emu).status_code == 200
    table_api(emu, "PATCH", ir.SYS_USER, str(locked["sys_id"]), body={ir.USER_ACTIVE: "false"})
    assert password_grant(emu).status_code == 401
    created = table_api(
        emu, "POST", ir.SYS_USER, body={"user_name": "new.admin", "user_password": "pw-1", "roles": "admin"}
    )
    assert created.status_code == 201
    assert "pw-1" not in created.text
    assert table_api(emu, "GET", ir.OAUTH_ENTITY, auth=("new.admin", "pw-1")).status_code == 200


def test_a_deleted_record_is_gone(emu: Emulator) -> None:
    demo = _row(emu, ir.OAUTH_ENTITY, sysparm_query=f"client_id={DEMO_ID}")
    assert table_api(emu, "DELETE", ir.OAUTH_ENTITY, str(demo["sys_id"])).status_code == 204
    assert table_api(emu, "GET", ir.OAUTH_ENTITY, str(demo["sys_id"])).status_code == 404
    assert password_grant(emu).status_code == 401
    assert re.fullmatch(r"[0-9a-f]{32}", str(demo["sys_id"]))
    assert current_user(emu, "nothing").status_code == 401


def test_a_hibernating_instance_answers_its_page(emu: Emulator) -> None:
    emu.set_mode(hibernating=True)
    for path in ("/api/now/table/sys_properties", "/sdk-oauth.do?code=x", "/api/now/table/syslog"):
        response = HTTP.get(f"{emu.url}{path}", auth=(ADMIN, ADMIN_PASSWORD))
        assert response.status_code == 200
        assert "Instance Hibernating page" in response.text


def test_the_log_holds_no_secret(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="snowauth.emulator")
    secret = "registered-secret-value"
    created = table_api(emu, "POST", ir.OAUTH_ENTITY, body={"name": "x", "client_secret": secret})
    assert created.status_code == 201
    table_api(emu, "GET", ir.OAUTH_ENTITY, sysparm_query=f"client_secret={secret}")
    table_api(emu, "GET", ir.OAUTH_ENTITY, auth=(ADMIN, "wrong-admin-password"))
    lines = [r.getMessage() for r in caplog.records if r.name == "snowauth.emulator"]
    assert "POST /api/now/table/oauth_entity 201" in lines
    assert "GET /api/now/table/oauth_entity 401" in lines
    for text in [*lines, *emu.system_log, *emu.syslog]:
        for value in (secret, ADMIN_PASSWORD, "wrong-admin-password"):
            assert value not in text
