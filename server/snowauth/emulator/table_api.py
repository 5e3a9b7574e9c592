"""``/api/now/table/<table>[/<sys_id>]``: GET, POST, PATCH (and PUT), DELETE over the
live records of ``oauth_entity``, ``sys_user``, ``sys_properties`` and ``syslog``.

The caller is already authenticated (:mod:`snowauth.emulator.rest`). Access: reading
``sys_user`` is open to any user, as on an instance; everything else needs the
``admin`` role, and refusals carry the instance's bodies: a list read 403 "Insufficient
rights to query records", a single record 404 "No Record found" (ServiceNow does not
say whether the record exists), writes 403 "Operation Failed" / "ACL Exception
<Insert|Update|Delete> Failed due to security constraints". An unknown table answers
400 "Invalid table <name>". ``syslog`` is read-only here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from snowauth import instance_records as ir
from snowauth.emulator.config import UserRecord
from snowauth.emulator.query import QueryError, pick_fields, select
from snowauth.emulator.records import (
    TABLES,
    BodyError,
    Row,
    change_entity,
    change_property,
    change_user,
    entity_row,
    property_row,
    rows,
    user_row,
)
from snowauth.emulator.reply import Reply, json_reply
from snowauth.emulator.state import EmulatorState

_WRITE_VERBS = {"POST": "Insert", "PATCH": "Update", "PUT": "Update", "DELETE": "Delete"}
_WRITABLE = {ir.OAUTH_ENTITY, ir.SYS_USER, ir.SYS_PROPERTIES}


def failure(status: int, message: str, detail: str | None = None, *headers: tuple[str, str]) -> Reply:
    return json_reply(status, {"error": {"message": message, "detail": detail}, "status": "failure"}, *headers)


def _no_record() -> Reply:
    return failure(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")


def _acl(method: str) -> Reply:
    return failure(403, "Operation Failed", f"ACL Exception {_WRITE_VERBS[method]} Failed due to security constraints")


def _body(raw: bytes) -> Mapping[str, Any] | Reply:
    try:
        data = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return failure(400, "Exception while reading request", "The payload is not valid JSON.")
    if not isinstance(data, dict):
        return failure(400, "Exception while reading request", "The payload is not a JSON object.")
    return data


def _find(state: EmulatorState, table: str, sys_id: str) -> Any:
    """The live record (ClientRecord, UserRecord, PropertyRecord, SyslogRecord) or None."""
    if table == ir.OAUTH_ENTITY:
        return state.clients.get(sys_id)
    if table == ir.SYS_USER:
        return state.user_by_sys_id(sys_id)
    if table == ir.SYS_PROPERTIES:
        return next((p for p in state.properties.values() if p.sys_id == sys_id), None)
    return next((r for r in state.syslog if r.sys_id == sys_id), None)


def _row_of(state: EmulatorState, table: str, sys_id: str, base_url: str) -> Row | None:
    return next((row for row in rows(state, table, base_url) if row["sys_id"] == sys_id), None)


def _write(state: EmulatorState, table: str, body: Mapping[str, Any], old: Any, base_url: str) -> Row:
    """Create (``old`` None) or change a record; returns its row."""
    if table == ir.OAUTH_ENTITY:
        client = change_entity(state, body, old)
        state.clients[client.sys_id] = client
        return entity_row(state, client, base_url)
    if table == ir.SYS_USER:
        user = change_user(state, body, old)
        state.users[user.user_name] = user
        return user_row(state, user)
    return property_row(change_property(state, body, old))


def _delete(state: EmulatorState, table: str, record: Any) -> None:
    if table == ir.OAUTH_ENTITY:
        del state.clients[record.sys_id]
    elif table == ir.SYS_USER:
        del state.users[record.user_name]
    else:
        del state.properties[record.name]


def table_request(
    state: EmulatorState,
    user: UserRecord,
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    body: bytes,
    base_url: str,
) -> Reply:
    """One Table API request by the authenticated ``user`` (``state.lock`` held)."""
    parts = path[len(ir.TABLE_API) + 1 :].strip("/").split("/")
    table = parts[0]
    sys_id = parts[1] if len(parts) > 1 else None
    if len(parts) > 2 or not table:
        return failure(400, "Requested URI does not represent any resource")
    if table not in TABLES:
        return failure(400, f"Invalid table {table}")
    deny: Callable[[str], None] = lambda why: state.deny(f"Table API {method} {table}: {user.user_name} {why}")  # noqa: E731
    reading = method in ("GET", "HEAD")
    allowed = user.is_admin or (reading and table == ir.SYS_USER)

    if reading:
        if sys_id is None:
            if not allowed:
                deny("lacks the admin role")
                return failure(403, "Insufficient rights to query records", f"No permission to read table '{table}'")
            try:
                found, total = select(rows(state, table, base_url), query)
            except QueryError as exc:
                return failure(400, str(exc), _first(query, str(exc).removeprefix("Invalid ")))
            return json_reply(200, {"result": found}, ("X-Total-Count", str(total)))
        row = _row_of(state, table, sys_id, base_url) if allowed else None
        if row is None:
            return _no_record()
        return json_reply(200, {"result": pick_fields(row, query)})

    if method not in _WRITE_VERBS:
        return failure(405, "Method not allowed", None, ("Allow", "GET, POST, PATCH, PUT, DELETE"))
    if not user.is_admin or table not in _WRITABLE:
        deny("may not write here")
        return _acl(method)
    if method == "POST":
        if sys_id is not None:
            return failure(405, "Method not allowed", None, ("Allow", "GET, PATCH, PUT, DELETE"))
        parsed = _body(body)
        if isinstance(parsed, Reply):
            return parsed
        try:
            row = _write(state, table, parsed, None, base_url)
        except BodyError as exc:
            return failure(403, "Operation Failed", str(exc))
        location = f"{base_url}{ir.TABLE_API}/{table}/{row['sys_id']}"
        return json_reply(201, {"result": pick_fields(row, query)}, ("Location", location))
    if sys_id is None:
        return failure(400, "Requested URI does not represent any resource", "a sys_id is required")
    record = _find(state, table, sys_id)
    if record is None:
        return _no_record()
    if method == "DELETE":
        _delete(state, table, record)
        return Reply(204)
    parsed = _body(body)
    if isinstance(parsed, Reply):
        return parsed
    try:
        row = _write(state, table, parsed, record, base_url)
    except BodyError as exc:
        return failure(403, "Operation Failed", str(exc))
    return json_reply(200, {"result": pick_fields(row, query)})


def _first(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None
