"""The pydantic shapes of what an instance answers (oauth/shapes.py, oauth/table_shapes.py):
the emulator's answers fit them; the shapes ServiceNow sends (numbers as text, extra
fields, null fields, references, display values) read as before; a wrong shape (wrong
types, huge numbers, nested garbage) becomes the exchange's mapped error, named by its
location and type, never by a value it held; and arbitrary JSON raises nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snowauth import admin as admins
from snowauth import export_shapes
from snowauth import instance_records as ir
from snowauth.emulator import Emulator
from snowauth.emulator.control_shapes import parse_modes
from snowauth.json_shapes import validate
from snowauth.oauth import shapes, table_shapes
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.http import HttpTransport
from snowauth.oauth.responses import parse_token_response
from snowauth.oauth.table import TableClient
from snowauth.tokens import GRANT_PASSWORD
from tests.kit.emulator import ADMIN, ADMIN_PASSWORD, DEMO_ID, DEMO_SECRET, USER, current_user, password_grant
from tests.kit.emulator import table_api as emulator_table_api
from tests.kit.fuzz import FUZZ, marked_json
from tests.kit.http import http_response, replying
from tests.kit.oauth import RecordingSleep, answer, password_conn

SECRET = "sk-live-Zq7SECRETvalue-0042"  # what a wrong-typed field holds: never shown
MARKER = "Zq7"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
BASE = "https://dev1.service-now.com"


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


# --- the emulator's answers fit the shapes -----------------------------------------------------


def test_the_emulators_answers_fit_the_shapes(emu: Emulator) -> None:
    granted = password_grant(emu)
    token = shapes.TokenAnswer.model_validate(granted.json())
    assert token.access_token and token.refresh_token and token.token_type == "Bearer"
    assert token.expires_in is not None and token.expires_in > 0
    denied = password_grant(emu, USER, "wrong-password", DEMO_ID, DEMO_SECRET)
    assert shapes.ErrorAnswer.model_validate(denied.json()).error == "server_error"
    me = table_shapes.CurrentUserAnswer.model_validate(current_user(emu, token.access_token).json())
    assert me.result.user_name == USER
    rows = emulator_table_api(emu, "GET", ir.OAUTH_ENTITY)  # references as {"link", "value"}
    listed = table_shapes.ListAnswer.model_validate(rows.json())
    assert listed.result and all(isinstance(row.get(ir.ENTITY_CLIENT_ID), str) for row in listed.result)
    one = emulator_table_api(emu, "GET", ir.SYS_USER, sysparm_limit="1", sysparm_exclude_reference_link="true")
    assert table_shapes.ListAnswer.model_validate(one.json()).result[0].get("sys_id")
    refused = emulator_table_api(emu, "GET", ir.OAUTH_ENTITY, auth=(USER, "demo-password"))
    assert refused.status_code == 403
    assert table_shapes.ErrorAnswer.model_validate(refused.json()).error.message


# --- token answers over loopback ------------------------------------------------------------------


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    http = HttpTransport(sleep=RecordingSleep())
    yield http
    await http.aclose()


async def _fetch(client: OAuthClient, status: int, body: bytes) -> object:
    with replying(http_response(status, body)) as raw:
        return await client.fetch(password_conn(raw.url))


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        (" 1799 ", 1799.0),  # a number as text
        (1799.5, 1799.5),
        (10**400, float(shapes.MAX_EXPIRES_IN)),  # a huge integer
        ("1e400", float(shapes.MAX_EXPIRES_IN)),  # infinite as text
        ({"seconds": 5}, None),  # garbage: no expiry known, as before
    ],
)
async def test_expires_in_as_servicenow_and_others_send_it(
    client: OAuthClient, expires_in: object, lifetime: float | None
) -> None:
    body = b'{"access_token":"abc","expires_in":%s}' % json.dumps(expires_in).encode()
    with replying(http_response(200, body)) as raw:
        tokens = await client.fetch(password_conn(raw.url))
    assert tokens.access_token == "abc"
    if lifetime is None:
        assert tokens.expires_at is None
    else:
        assert tokens.expires_at is not None
        assert tokens.expires_at > datetime.now(UTC) + timedelta(seconds=lifetime - 60)
        assert tokens.expires_at < datetime.now(UTC) + timedelta(seconds=lifetime + 60)


async def test_extra_and_null_fields_are_read_as_absent(client: OAuthClient) -> None:
    body = _json(
        {
            "access_token": "abc",
            "refresh_token": None,
            "scope": None,
            "token_type": None,
            "id_token": "header.payload.signature",
            "expires_in": None,
            "jti": {"nested": [1, [2, {"three": None}]]},
        }
    )
    with replying(http_response(200, body)) as raw:
        tokens = await client.fetch(password_conn(raw.url))
    assert (tokens.access_token, tokens.token_type, tokens.refresh_token, tokens.scope) == ("abc", "Bearer", None, None)
    assert tokens.expires_at is None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"access_token": "abc", "refresh_token": 5}, "its refresh_token is not text"),
        ({"access_token": "abc", "refresh_token": [SECRET]}, "its refresh_token is not text"),
        ({"access_token": "abc", "token_type": {"kind": SECRET}}, "its token_type is not text"),
        ({"access_token": "abc", "scope": True, "id_token": 3}, "its scope is not text; its id_token is not text"),
    ],
)
async def test_a_wrong_type_is_a_malformed_answer_named_by_place(
    client: OAuthClient, body: dict[str, object], said: str
) -> None:
    with pytest.raises(OAuthError) as caught:
        await _fetch(client, 200, _json(body))
    err = caught.value
    assert err.code == "malformed-response" and err.status == 200
    assert said in err.message and "it was neither used nor stored" in err.message
    assert SECRET not in err.message and "abc" not in err.message


async def test_an_access_token_of_another_type_is_no_access_token(client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await _fetch(client, 200, _json({"access_token": {"value": SECRET}, "token_type": "Bearer"}))
    err = caught.value
    assert err.code == "malformed-response"
    assert "HTTP 200 without an access_token (its access_token is not text)" in err.message
    assert SECRET not in err.message


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (401, {"error": 5}, "its error is not text"),
        (400, {"error": "invalid_grant", "error_description": [SECRET]}, "its error_description is not text"),
        (401, {"error": {"message": SECRET, "detail": None}, "status": "failure"}, "its error is not text"),
    ],
)
async def test_an_error_of_another_shape_is_no_token_endpoint(
    client: OAuthClient, status: int, body: dict[str, object], said: str
) -> None:
    with pytest.raises(OAuthError) as caught:
        await _fetch(client, status, _json(body))
    err = caught.value
    assert err.code == "not-servicenow" and err.status == status
    assert "did not answer like a ServiceNow token endpoint" in err.message
    assert f"(HTTP {status}, application/json; {said})" in err.message
    assert SECRET not in err.message


# --- the Table API over loopback ------------------------------------------------------------------


def _admin_table(url: str, transport: HttpTransport) -> TableClient:
    return TableClient(url, admins.basic(ADMIN, ADMIN_PASSWORD), timeout=5, transport=transport)


async def test_references_display_values_and_nulls_read_as_text(transport: HttpTransport) -> None:
    row = {
        ir.ENTITY_NAME: {"display_value": "My client", "value": "my_client"},  # sysparm_display_value=all
        ir.ENTITY_APPLICATION_USER: {"link": f"{BASE}/api/now/table/sys_user/abc", "value": "abc"},
        ir.ENTITY_REDIRECT_URL: None,
        "sys_id": "0" * 32,
    }
    with replying(http_response(200, _json({"result": [row]}))) as raw:
        records = await _admin_table(raw.url, transport).list(ir.OAUTH_ENTITY)
    assert [r.fields for r in records] == [
        {ir.ENTITY_NAME: "my_client", ir.ENTITY_APPLICATION_USER: "abc", "sys_id": "0" * 32}
    ]
    with replying(http_response(201, _json({"result": row}))) as raw:
        made = await _admin_table(raw.url, transport).create(ir.OAUTH_ENTITY, {ir.ENTITY_NAME: "x"})
    assert made.sys_id == "0" * 32


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"result": [{ir.ENTITY_NAME: 5}]}, f"its result[0].{ir.ENTITY_NAME} is not text"),
        ({"result": [{SECRET: [SECRET]}]}, "its result[0].… is not text"),  # a key not ours: not shown
        (
            {"result": [{ir.ENTITY_ACTIVE: {"value": {"deep": SECRET}}}]},
            f"its result[0].{ir.ENTITY_ACTIVE} is not text",
        ),
        ({"result": {ir.ENTITY_NAME: "one"}}, "its result is not a list"),
        ({"result": [SECRET]}, "its result[0] is not an object"),
        ({"records": []}, "its result is missing"),
    ],
)
async def test_a_list_of_another_shape_is_no_table_api(
    transport: HttpTransport, body: dict[str, object], said: str
) -> None:
    with replying(http_response(200, _json(body))) as raw, pytest.raises(OAuthError) as caught:
        await _admin_table(raw.url, transport).list(ir.OAUTH_ENTITY)
    err = caught.value
    assert err.code == "not-servicenow" and "did not answer like the ServiceNow Table API" in err.message
    assert said in err.message
    assert SECRET not in err.message


async def test_a_record_of_another_shape_is_no_table_api(transport: HttpTransport) -> None:
    with replying(http_response(200, _json({"result": [SECRET]}))) as raw, pytest.raises(OAuthError) as caught:
        await _admin_table(raw.url, transport).get(ir.OAUTH_ENTITY, "0" * 32)
    assert caught.value.code == "not-servicenow" and "its result is not an object" in caught.value.message
    assert SECRET not in caught.value.message


async def test_a_table_api_failure_of_another_shape_says_nothing_of_it(transport: HttpTransport) -> None:
    said = {"error": {"message": 5, "detail": [SECRET]}, "status": "failure"}
    with replying(http_response(403, _json(said))) as raw, pytest.raises(OAuthError) as caught:
        await _admin_table(raw.url, transport).list(ir.OAUTH_ENTITY)
    assert caught.value.code == "admin-forbidden" and "the instance said" not in caught.value.message
    assert SECRET not in caught.value.message


async def test_who_am_i_of_another_shape_is_no_rest_api(client: OAuthClient) -> None:
    body = _json({"result": {"user_name": [SECRET]}})
    with replying(http_response(200, body)) as raw, pytest.raises(OAuthError) as caught:
        await client.whoami(password_conn(raw.url), "an-access-token")
    assert caught.value.code == "not-servicenow"
    assert "did not answer like the ServiceNow REST API" in caught.value.message
    assert "its result.user_name is not text" in caught.value.message and SECRET not in caught.value.message


# --- arbitrary JSON -------------------------------------------------------------------------------

SHAPE_CODES = ("malformed-response", "not-servicenow")


@FUZZ
@given(data=marked_json(MARKER), status=st.sampled_from([200, 400, 401, 403]))
def test_any_json_is_a_token_or_a_mapped_error(data: object, status: int) -> None:
    try:
        tokens = parse_token_response(
            answer(status, _json(data), base=BASE), conn=password_conn(BASE), grant_type=GRANT_PASSWORD, now=NOW
        )
    except OAuthError as exc:
        if exc.code in SHAPE_CODES:  # the answer's shape: named without any value it held
            assert MARKER not in exc.message
        return
    assert 200 <= status <= 299 and tokens.access_token


@FUZZ
@given(data=marked_json(MARKER))
def test_any_json_validates_or_says_what_is_wrong_without_a_value(data: object) -> None:
    for model, known in (
        (table_shapes.ListAnswer, table_shapes.KNOWN),
        (table_shapes.RecordAnswer, table_shapes.KNOWN),
        (table_shapes.ErrorAnswer, table_shapes.KNOWN),
        (table_shapes.CurrentUserAnswer, table_shapes.KNOWN),
        (shapes.TokenAnswer, shapes.KNOWN),
        (shapes.ErrorAnswer, shapes.KNOWN),
    ):
        for value in (data, {"result": data}, {"error": data}, {"result": [data]}):
            checked = validate(model, value, known)
            assert isinstance(checked, model) or (isinstance(checked, str) and checked and MARKER not in checked)
    for said in (
        export_shapes.postman_environment(data),
        export_shapes.postman_environment({"values": data}),
        export_shapes.http_client_environment(data),
    ):
        assert said is None or (said and MARKER not in said)
    # the emulator's control API: a change or its reason (an unknown mode is named: the tests' own API)
    assert isinstance(parse_modes(data), dict | str)


def test_json_nested_deeply_is_a_problem_not_a_crash() -> None:
    nested: object = SECRET
    for _ in range(600):
        nested = [nested]
    said = validate(table_shapes.ListAnswer, {"result": [{ir.ENTITY_NAME: nested}]}, table_shapes.KNOWN)
    assert said == f"its result[0].{ir.ENTITY_NAME} is not text"
