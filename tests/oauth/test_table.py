"""The Table API client (oauth/table.py) against the emulator and raw servers over
loopback HTTP: list, get, create and update as the admin (Basic) or with a token
(Bearer); each refusal mapped to its message, with the instance's own words and no
credential; a write sent once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from snowauth import admin as admins
from snowauth import instance_records as ir
from snowauth.emulator import Emulator
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.http import HttpTransport
from snowauth.oauth.table import TableClient
from tests.kit.emulator import ADMIN, ADMIN_PASSWORD, USER, USER_PASSWORD, password_grant
from tests.kit.http import http_response, replying
from tests.kit.oauth import RecordingSleep


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    http = HttpTransport(sleep=RecordingSleep())
    yield http
    await http.aclose()


def as_admin(url: str, transport: HttpTransport, password: str = ADMIN_PASSWORD) -> TableClient:
    return TableClient(url, admins.basic(ADMIN, password), timeout=5, transport=transport)


async def test_create_get_update_list(emu: Emulator, transport: HttpTransport) -> None:
    table = as_admin(emu.url, transport)
    made = await table.create(ir.OAUTH_ENTITY, {ir.ENTITY_NAME: "t one", ir.ENTITY_TYPE: ir.ENTITY_TYPE_CLIENT})
    assert made.sys_id and made.get(ir.ENTITY_CLIENT_ID)
    assert (await table.get(ir.OAUTH_ENTITY, made.sys_id)).get(ir.ENTITY_NAME) == "t one"
    changed = await table.update(ir.OAUTH_ENTITY, made.sys_id, {ir.ENTITY_NAME: "t two"})
    assert changed.get(ir.ENTITY_NAME) == "t two"
    rows = await table.list(ir.OAUTH_ENTITY, f"{ir.ENTITY_NAME}=t two", [ir.ENTITY_NAME, "sys_id"], limit=5)
    assert [(r.sys_id, r.get(ir.ENTITY_NAME)) for r in rows] == [(made.sys_id, "t two")]
    users = await table.list(ir.SYS_USER, f"{ir.USER_NAME}={USER}", [ir.USER_NAME, ir.USER_ACTIVE], limit=1)
    assert users[0].get(ir.USER_ACTIVE) == "true"


async def test_bearer_token_of_an_admin(emu: Emulator, transport: HttpTransport) -> None:
    from tests.kit.emulator import DEMO_ID, DEMO_SECRET

    answer = password_grant(emu, ADMIN, ADMIN_PASSWORD, DEMO_ID, DEMO_SECRET).json()
    table = TableClient(emu.url, admins.bearer(answer["access_token"], "admin"), timeout=5, transport=transport)
    assert await table.list(ir.SYS_USER, f"{ir.USER_NAME}={ADMIN}", ["sys_id"], limit=1)


async def test_refusals_say_what_to_do_without_a_credential(emu: Emulator, transport: HttpTransport) -> None:
    with pytest.raises(OAuthError) as refused:
        await as_admin(emu.url, transport, "wrong-admin-password").create(ir.OAUTH_ENTITY, {ir.ENTITY_NAME: "x"})
    assert refused.value.code == "admin-refused" and refused.value.status == 401
    assert "refused the admin credentials" in refused.value.message
    assert "wrong-admin-password" not in refused.value.message
    not_admin = TableClient(emu.url, admins.basic(USER, USER_PASSWORD), timeout=5, transport=transport)
    with pytest.raises(OAuthError) as forbidden:
        await not_admin.create(ir.OAUTH_ENTITY, {ir.ENTITY_NAME: "x"})
    assert forbidden.value.code == "admin-forbidden" and forbidden.value.status == 403
    assert "lacks the admin role" in forbidden.value.message
    assert "the instance said: " in forbidden.value.message  # ServiceNow's own message, scrubbed
    with pytest.raises(OAuthError) as missing:
        await as_admin(emu.url, transport).get(ir.OAUTH_ENTITY, "0" * 32)
    assert missing.value.code == "record-not-found"


async def test_hibernation_and_answers_that_are_no_table_api(emu: Emulator, transport: HttpTransport) -> None:
    emu.set_mode(hibernating=True)
    with pytest.raises(OAuthError) as asleep:
        await as_admin(emu.url, transport).list(ir.SYS_USER, limit=1)
    assert asleep.value.code == "hibernating"
    page = http_response(200, b"<html>sign in</html>", content_type="text/html")
    with replying(page) as server, pytest.raises(OAuthError) as html:
        await as_admin(server.url, transport).list(ir.SYS_USER)
    assert html.value.code == "not-servicenow" and "Table API" in html.value.message
    with replying(http_response(200, b'{"result": [')) as server, pytest.raises(OAuthError) as broken:
        await as_admin(server.url, transport).list(ir.SYS_USER)
    assert broken.value.code == "malformed-response"


async def test_a_write_is_sent_once_and_a_read_is_retried(transport: HttpTransport) -> None:
    with replying(http_response(503, b"{}")) as server:
        with pytest.raises(OAuthError) as failed:
            await as_admin(server.url, transport).create(ir.OAUTH_ENTITY, {ir.ENTITY_NAME: "x"})
        assert failed.value.code == "server-error"
        assert len(server.requests) == 1
        with pytest.raises(OAuthError):
            await as_admin(server.url, transport).list(ir.OAUTH_ENTITY)
        assert len(server.requests) == 1 + 3
