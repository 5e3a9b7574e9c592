"""Records changed through the Table API change what the token endpoint does at once:
a registered client fetches tokens, a deactivated one fails, system properties switch
grants, and every refused token request leaves a syslog row (never a secret)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from snowauth import instance_records as ir
from snowauth.emulator import Emulator, default_config
from snowauth.emulator.config import parse_config
from tests.kit.emulator import (
    DEMO_ID,
    DEMO_SECRET,
    HTTP,
    USER,
    USER_PASSWORD,
    assert_denied,
    assert_token_body,
    authorize,
    code_exchange,
    password_grant,
    redirect_params,
    syslog_messages,
    table_api,
    table_rows,
    token,
)

SVC = default_config().users["svc.integration"]


def _register(emu: Emulator, **fields: Any) -> dict[str, Any]:
    response = table_api(emu, "POST", ir.OAUTH_ENTITY, body=fields)
    assert response.status_code == 201, response.text
    row: dict[str, Any] = response.json()["result"]
    assert response.headers["location"] == f"{emu.url}/api/now/table/oauth_entity/{row['sys_id']}"
    return row


def _client_credentials(emu: Emulator, client_id: str, secret: str) -> Any:
    return token(emu, grant_type="client_credentials", client_id=client_id, client_secret=secret)


def _property(emu: Emulator, name: str) -> dict[str, Any]:
    rows = table_rows(emu, ir.SYS_PROPERTIES, sysparm_query=f"{ir.PROPERTY_NAME}={name}")
    assert len(rows) == 1
    return rows[0]


def _set_property(emu: Emulator, name: str, value: str) -> None:
    row = _property(emu, name)
    response = table_api(emu, "PATCH", ir.SYS_PROPERTIES, row["sys_id"], body={ir.PROPERTY_VALUE: value})
    assert response.status_code == 200
    assert response.json()["result"][ir.PROPERTY_VALUE] == value


def test_register_then_fetch(emu: Emulator) -> None:
    row = _register(emu, name="my tool", redirect_url="http://127.0.0.1:9999/cb")
    client_id, secret = row[ir.ENTITY_CLIENT_ID], row[ir.ENTITY_CLIENT_SECRET]
    assert re.fullmatch(r"[0-9a-f]{32}", client_id)
    assert len(secret) >= 16
    assert row[ir.ENTITY_ACTIVE] == "true"
    assert row[ir.ENTITY_TYPE] == ir.ENTITY_TYPE_CLIENT
    assert row[ir.ENTITY_PUBLIC_CLIENT] == "false"
    assert row[ir.ENTITY_ACCESS_TOKEN_LIFESPAN] == "1800"
    fetched = password_grant(emu, client_id=client_id, client_secret=secret)
    assert fetched.status_code == 200
    assert_token_body(fetched.json(), refresh=True)
    response = authorize(emu, client_id=client_id, redirect_uri="http://127.0.0.1:9999/cb", state="s")
    code = redirect_params(response, "http://127.0.0.1:9999/cb")["code"]
    exchanged = code_exchange(emu, code, "http://127.0.0.1:9999/cb", client_id=client_id, client_secret=secret)
    assert exchanged.status_code == 200


def test_client_credentials_through_records(emu: Emulator) -> None:
    row = _register(
        emu,
        name="cc",
        client_id="c" * 32,
        client_secret="given-secret",
        user=SVC.sys_id,
        access_token_lifespan=600,
    )
    assert row[ir.ENTITY_CLIENT_SECRET] == "given-secret"
    assert row[ir.ENTITY_APPLICATION_USER]["value"] == SVC.sys_id
    assert _property(emu, ir.PROP_CLIENT_CREDENTIALS_ENABLED)[ir.PROPERTY_VALUE] == "false"
    assert_denied(_client_credentials(emu, "c" * 32, "given-secret"))
    _set_property(emu, ir.PROP_CLIENT_CREDENTIALS_ENABLED, "true")
    granted = _client_credentials(emu, "c" * 32, "given-secret")
    assert granted.status_code == 200
    assert granted.json()["expires_in"] == 599
    # Without an OAuth Application User: the one answer that is not the folded 401.
    table_api(emu, "PATCH", ir.OAUTH_ENTITY, row["sys_id"], body={ir.ENTITY_APPLICATION_USER: ""})
    refused = _client_credentials(emu, "c" * 32, "given-secret")
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized_client"


def test_deactivated_client_is_refused(emu: Emulator) -> None:
    demo = table_rows(emu, ir.OAUTH_ENTITY, sysparm_query=f"client_id={DEMO_ID}")[0]
    patched = table_api(emu, "PATCH", ir.OAUTH_ENTITY, demo["sys_id"], body={ir.ENTITY_ACTIVE: False})
    assert patched.json()["result"][ir.ENTITY_ACTIVE] == "false"
    assert_denied(password_grant(emu))
    assert syslog_messages(emu)[0] == f"{ir.TOKEN_FLOW_EXCEPTION} - client demo is not active"
    page = authorize(emu, state="s")
    assert page.status_code == 400
    table_api(emu, "PUT", ir.OAUTH_ENTITY, demo["sys_id"], body={ir.ENTITY_ACTIVE: "true"})
    assert password_grant(emu).status_code == 200


def test_password_grant_disabled(emu: Emulator) -> None:
    assert _property(emu, ir.PROP_PASSWORD_GRANT_DISABLED)[ir.PROPERTY_VALUE] == "false"
    _set_property(emu, ir.PROP_PASSWORD_GRANT_DISABLED, "true")
    assert_denied(password_grant(emu))
    assert ir.PROP_PASSWORD_GRANT_DISABLED in syslog_messages(emu)[0]
    # The other grants still work.
    code = redirect_params(authorize(emu, state="s"))["code"]
    assert code_exchange(emu, code).status_code == 200
    _set_property(emu, ir.PROP_PASSWORD_GRANT_DISABLED, "false")
    assert password_grant(emu).status_code == 200


def test_oauth_inactive_refuses_everything(emu: Emulator) -> None:
    body = password_grant(emu).json()
    _set_property(emu, ir.PROP_OAUTH_ACTIVE, "false")
    assert_denied(password_grant(emu))
    assert_denied(
        token(
            emu,
            grant_type="refresh_token",
            client_id=DEMO_ID,
            client_secret=DEMO_SECRET,
            refresh_token=body["refresh_token"],
        )
    )
    assert authorize(emu, state="s").status_code == 400
    assert all(ir.PROP_OAUTH_ACTIVE in m for m in syslog_messages(emu)[:2])
    _set_property(emu, ir.PROP_OAUTH_ACTIVE, "true")
    assert password_grant(emu).status_code == 200


def test_properties_created_by_post_and_set_from_python(emu: Emulator) -> None:
    created = table_api(emu, "POST", ir.SYS_PROPERTIES, body={"name": "x.custom", "value": "1"})
    assert created.status_code == 201
    assert _property(emu, "x.custom")[ir.PROPERTY_VALUE] == "1"
    # POSTing a property that exists sets it (the emulator keeps one row per name).
    table_api(emu, "POST", ir.SYS_PROPERTIES, body={"name": ir.PROP_PASSWORD_GRANT_DISABLED, "value": "true"})
    assert_denied(password_grant(emu))
    emu.set_property(ir.PROP_PASSWORD_GRANT_DISABLED, "false")
    assert password_grant(emu).status_code == 200
    assert table_api(emu, "POST", ir.SYS_PROPERTIES, body={"value": "1"}).status_code == 403


@pytest.mark.parametrize(
    ("properties", "prop", "value"),
    [
        ({"oauth_active": False}, ir.PROP_OAUTH_ACTIVE, "false"),
        ({"password_grant_disabled": True}, ir.PROP_PASSWORD_GRANT_DISABLED, "true"),
    ],
)
def test_config_properties(
    make_emu: Callable[..., Emulator], properties: dict[str, Any], prop: str, value: str
) -> None:
    data = {
        "properties": properties,
        "clients": {"c": {"client_id": "a" * 32, "client_secret": "s"}},
        "users": {ir_user: {"password": "pw", "roles": ["admin"]} for ir_user in ("root",)},
    }
    emu = make_emu(parse_config(data))
    rows = table_api(emu, "GET", ir.SYS_PROPERTIES, auth=("root", "pw"), sysparm_query=f"name={prop}").json()["result"]
    assert rows[0][ir.PROPERTY_VALUE] == value
    refused = token(emu, grant_type="password", client_id="a" * 32, client_secret="s", username="root", password="pw")
    assert_denied(refused)


def test_syslog_rows_for_refused_token_requests(emu: Emulator) -> None:
    secrets = ["wrong-secret-value-1", "wrong-password-value-2", "bogus-refresh-token-3"]
    password_grant(emu, client_secret=secrets[0])
    password_grant(emu, password=secrets[1])
    token(emu, grant_type="refresh_token", client_id=DEMO_ID, client_secret=DEMO_SECRET, refresh_token=secrets[2])
    HTTP.post(f"{emu.url}/oauth_token.do", json={"grant_type": "password"})
    assert password_grant(emu).status_code == 200  # a success writes nothing
    rows = table_rows(emu, ir.SYSLOG, sysparm_query=f"ORDERBYDESC{ir.SYSLOG_CREATED}")
    messages = [row[ir.SYSLOG_MESSAGE] for row in rows]
    assert messages == [
        f"{ir.TOKEN_FLOW_EXCEPTION} - the body is not application/x-www-form-urlencoded UTF-8",
        f"{ir.TOKEN_FLOW_EXCEPTION} - refresh grant: refresh token unknown, expired or revoked",
        f"{ir.TOKEN_FLOW_EXCEPTION} - password grant: wrong password for {USER} (1 failed)",
        f"{ir.TOKEN_FLOW_EXCEPTION} - wrong client_secret for client demo",
    ]
    for row in rows:
        assert row[ir.SYSLOG_LEVEL] == "2"
        assert row[ir.SYSLOG_SOURCE] == "com.glide.ui.ServletErrorListener"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[ir.SYSLOG_CREATED])
    text = repr(rows) + repr(emu.system_log) + repr(emu.syslog)
    for secret in [*secrets, DEMO_SECRET, USER_PASSWORD]:
        assert secret not in text
    assert emu.syslog == messages[::-1]
    assert "wrong client_secret for client demo" in emu.system_log
    newest = table_rows(
        emu, ir.SYSLOG, sysparm_query=f"messageLIKEwrong^ORDERBYDESC{ir.SYSLOG_CREATED}", sysparm_limit="1"
    )
    assert [r[ir.SYSLOG_MESSAGE] for r in newest] == [messages[2]]


@pytest.mark.parametrize("answer", ["unauthorized_client", "access_denied"])
def test_no_application_user_answer_is_configurable(make_emu: Callable[..., Emulator], answer: str) -> None:
    data = {
        "properties": {"client_credentials_enabled": True, "no_application_user": answer},
        "clients": {"c": {"client_id": "a" * 32, "client_secret": "s"}},
    }
    emu = make_emu(parse_config(data), auto_approve_user=None)
    refused = _client_credentials(emu, "a" * 32, "s")
    assert refused.status_code == 401
    if answer == "access_denied":
        assert_denied(refused)
    else:
        assert refused.json()["error"] == "unauthorized_client"
    assert emu.syslog == [f"{ir.TOKEN_FLOW_EXCEPTION} - client credentials: client c has no OAuth Application User"]
