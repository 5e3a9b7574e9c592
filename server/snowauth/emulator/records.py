"""The live records as Table API rows, and the changes a POST or PATCH body makes.

Rows follow the Table API's default (``sysparm_display_value=false``): every value a
string, booleans ``"true"``/``"false"``, numbers in decimal, date-times
``YYYY-MM-DD HH:MM:SS`` in UTC, a reference ``{"link": <its record's URL>, "value":
<sys_id>}`` or ``""`` when empty. Field names come from
:mod:`snowauth.instance_records`. A body's unknown fields are ignored, as the instance
ignores them; values may be JSON strings, booleans or numbers.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping
from typing import Any

from snowauth import instance_records as ir
from snowauth.emulator.config import (
    DEFAULT_ACCESS_TOKEN_LIFESPAN,
    DEFAULT_REFRESH_TOKEN_LIFESPAN,
    ClientRecord,
    UserRecord,
)
from snowauth.emulator.state import EmulatorState, PropertyRecord, SyslogRecord, new_sys_id

#: the record's Auth Scopes, comma-separated: the emulator's stand-in for the registry
#: form's Auth Scopes related list (docs/servicenow.md "Scopes and JWT")
ENTITY_AUTH_SCOPES = "auth_scopes"

#: the tables the emulated Table API serves
TABLES = (ir.OAUTH_ENTITY, ir.SYS_USER, ir.SYS_PROPERTIES, ir.SYSLOG)

Row = dict[str, Any]


class BodyError(ValueError):
    """A body the record cannot take (the message is the error's detail)."""


def glide_time(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def reference(base_url: str, table: str, sys_id: str) -> dict[str, str] | str:
    if not sys_id:
        return ""
    return {"link": f"{base_url}{ir.TABLE_API}/{table}/{sys_id}", "value": sys_id}


# --- rows -------------------------------------------------------------------------------


def entity_row(state: EmulatorState, client: ClientRecord, base_url: str) -> Row:
    if client.user_ref is not None:
        user_id = client.user_ref
    else:
        user = state.application_user(client)
        user_id = user.sys_id if user is not None else ""
    return {
        "sys_id": client.sys_id,
        ir.ENTITY_NAME: client.name,
        ir.ENTITY_CLIENT_ID: client.client_id,
        ir.ENTITY_CLIENT_SECRET: client.client_secret or "",
        ir.ENTITY_REDIRECT_URL: ",".join(client.redirect_uris),
        ir.ENTITY_ACTIVE: _flag(client.active),
        ir.ENTITY_TYPE: client.type,
        ir.ENTITY_PUBLIC_CLIENT: _flag(client.public),
        ir.ENTITY_ACCESS_TOKEN_LIFESPAN: str(client.access_token_lifespan),
        ir.ENTITY_REFRESH_TOKEN_LIFESPAN: str(client.refresh_token_lifespan),
        ir.ENTITY_APPLICATION_USER: reference(base_url, ir.SYS_USER, user_id),
        ENTITY_AUTH_SCOPES: ",".join(client.scopes),
        "sys_class_name": ir.OAUTH_ENTITY,
    }


def user_row(state: EmulatorState, user: UserRecord) -> Row:
    name = f"{user.first_name} {user.last_name}".strip() or user.user_name
    return {
        "sys_id": user.sys_id,
        ir.USER_NAME: user.user_name,
        "name": name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        ir.USER_ACTIVE: _flag(user.active),
        ir.USER_LOCKED_OUT: _flag(state.is_locked(user)),
        ir.USER_WEB_SERVICE_ONLY: _flag(user.web_service_only),
        "roles": ",".join(user.roles),
        "sys_class_name": ir.SYS_USER,
    }


def property_row(record: PropertyRecord) -> Row:
    return {
        "sys_id": record.sys_id,
        ir.PROPERTY_NAME: record.name,
        ir.PROPERTY_VALUE: record.value,
        "type": "string",
        "sys_created_on": glide_time(record.created),
    }


def syslog_row(record: SyslogRecord) -> Row:
    return {
        "sys_id": record.sys_id,
        ir.SYSLOG_MESSAGE: record.message,
        ir.SYSLOG_LEVEL: record.level,
        ir.SYSLOG_SOURCE: record.source,
        ir.SYSLOG_CREATED: glide_time(record.created),
    }


def rows(state: EmulatorState, table: str, base_url: str) -> list[Row]:
    """Every row of ``table`` in creation order."""
    if table == ir.OAUTH_ENTITY:
        return [entity_row(state, c, base_url) for c in state.clients.values()]
    if table == ir.SYS_USER:
        return [user_row(state, u) for u in state.users.values()]
    if table == ir.SYS_PROPERTIES:
        return [property_row(p) for p in state.properties.values()]
    return [syslog_row(r) for r in state.syslog]


# --- changes ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return _flag(value)
    if value is None:
        return ""
    if isinstance(value, dict):  # a reference given back as read
        return str(value.get("value", ""))
    return str(value)


def _truthy(value: Any) -> bool:
    return _text(value).strip().lower() in ("true", "1")


def _seconds(value: Any, default: int) -> int:
    try:
        return max(int(_text(value).strip()), 0)
    except ValueError:
        return default


def change_entity(state: EmulatorState, body: Mapping[str, Any], old: ClientRecord | None) -> ClientRecord:
    """A new Application Registry record (``old`` None; the client ID and secret are
    generated when left out, as the instance does) or ``old`` changed."""
    if old is None:
        old = ClientRecord(
            name="",
            client_id=secrets.token_hex(16),
            client_secret=secrets.token_urlsafe(24),
            access_token_lifespan=DEFAULT_ACCESS_TOKEN_LIFESPAN,
            refresh_token_lifespan=DEFAULT_REFRESH_TOKEN_LIFESPAN,
            sys_id=new_sys_id(),
            user_ref="",
        )
    changes: dict[str, Any] = {}
    if ir.ENTITY_NAME in body:
        changes["name"] = _text(body[ir.ENTITY_NAME])
    if _text(body.get(ir.ENTITY_CLIENT_ID)):
        changes["client_id"] = _text(body[ir.ENTITY_CLIENT_ID])
    if _text(body.get(ir.ENTITY_CLIENT_SECRET)):
        changes["client_secret"] = _text(body[ir.ENTITY_CLIENT_SECRET])
    if ir.ENTITY_REDIRECT_URL in body:
        urls = [u.strip() for u in _text(body[ir.ENTITY_REDIRECT_URL]).split(",")]
        changes["redirect_uris"] = tuple(u for u in urls if u)
    if ENTITY_AUTH_SCOPES in body:
        scopes = [s.strip() for s in _text(body[ENTITY_AUTH_SCOPES]).split(",")]
        changes["scopes"] = tuple(s for s in scopes if s)
    if ir.ENTITY_ACTIVE in body:
        changes["active"] = _truthy(body[ir.ENTITY_ACTIVE])
    if ir.ENTITY_PUBLIC_CLIENT in body:
        changes["public"] = _truthy(body[ir.ENTITY_PUBLIC_CLIENT])
    if ir.ENTITY_TYPE in body and _text(body[ir.ENTITY_TYPE]):
        changes["type"] = _text(body[ir.ENTITY_TYPE])
    if ir.ENTITY_ACCESS_TOKEN_LIFESPAN in body:
        changes["access_token_lifespan"] = _seconds(body[ir.ENTITY_ACCESS_TOKEN_LIFESPAN], old.access_token_lifespan)
    if ir.ENTITY_REFRESH_TOKEN_LIFESPAN in body:
        changes["refresh_token_lifespan"] = _seconds(body[ir.ENTITY_REFRESH_TOKEN_LIFESPAN], old.refresh_token_lifespan)
    if ir.ENTITY_APPLICATION_USER in body:
        changes["user_ref"] = _text(body[ir.ENTITY_APPLICATION_USER]).strip()
        changes["application_user"] = None
    return dataclasses.replace(old, **changes)


_USER_FLAGS = {
    ir.USER_ACTIVE: "active",
    ir.USER_LOCKED_OUT: "locked_out",
    ir.USER_WEB_SERVICE_ONLY: "web_service_only",
}


def change_user(state: EmulatorState, body: Mapping[str, Any], old: UserRecord | None) -> UserRecord:
    """A new ``sys_user`` row (``user_name`` required; ``user_password`` sets its
    password) or ``old`` changed (a user name cannot change here)."""
    if old is None:
        name = _text(body.get(ir.USER_NAME)).strip()
        if not name:
            raise BodyError(f"{ir.USER_NAME} is required")
        if name in state.users:
            raise BodyError(f"{ir.USER_NAME} {name} already exists")
        old = UserRecord(user_name=name, sys_id=new_sys_id())
    changes: dict[str, Any] = {}
    for key, attribute in _USER_FLAGS.items():
        if key in body:
            changes[attribute] = _truthy(body[key])
    for key in ("first_name", "last_name", "email"):
        if key in body:
            changes[key] = _text(body[key])
    if "roles" in body:
        changes["roles"] = tuple(r.strip() for r in _text(body["roles"]).split(",") if r.strip())
    if _text(body.get("user_password")):
        changes["password"] = _text(body["user_password"])
    user = dataclasses.replace(old, **changes)
    if ir.USER_LOCKED_OUT in body and not user.locked_out:  # unlocking clears the count
        state.locked_users.discard(user.user_name)
        state.failed_logins.pop(user.user_name, None)
    return user


def change_property(state: EmulatorState, body: Mapping[str, Any], old: PropertyRecord | None) -> PropertyRecord:
    """A new system property (``name`` required; a name that exists is updated) or
    ``old`` changed. The emulator's behaviour follows the new value at once."""
    if old is None:
        name = _text(body.get(ir.PROPERTY_NAME)).strip()
        if not name:
            raise BodyError(f"{ir.PROPERTY_NAME} is required")
        return state.set_property(name, _text(body.get(ir.PROPERTY_VALUE)))
    if ir.PROPERTY_NAME in body and _text(body[ir.PROPERTY_NAME]).strip() != old.name:
        raise BodyError("a property's name cannot change here")
    if ir.PROPERTY_VALUE in body:
        old.value = _text(body[ir.PROPERTY_VALUE])
    return old
