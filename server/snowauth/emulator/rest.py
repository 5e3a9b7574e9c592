"""``/api/now/*``: the REST endpoints a client uses to test a token.

A bad, expired or revoked token answers ServiceNow's 401 with
``WWW-Authenticate: BASIC realm="Service-now"``. A token whose scope lacks
``useraccount`` answers 403 "Missing required api access scope" (the emulator treats
``useraccount`` as the auth scope of every REST API it serves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from snowauth.emulator.config import DEFAULT_SCOPE, UserRecord
from snowauth.emulator.reply import Reply, json_reply
from snowauth.emulator.state import EmulatorState

TABLE_PREFIX = "/api/now/table/"
CURRENT_USER = "/api/now/ui/user/current_user"

_NOT_AUTHENTICATED = {
    "error": {
        "message": "User Not Authenticated",
        "detail": "Required to provide Auth information",
    },
    "status": "failure",
}
_MISSING_SCOPE = {
    "error": {
        "message": "Missing required api access scope",
        "detail": f"The access token does not carry the '{DEFAULT_SCOPE}' scope",
    },
    "status": "failure",
}


def _failure(status: int, message: str, detail: str | None = None) -> Reply:
    return json_reply(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


def _user_row(user: UserRecord) -> dict[str, str]:
    name = f"{user.first_name} {user.last_name}".strip() or user.user_name
    return {
        "sys_id": user.sys_id,
        "user_name": user.user_name,
        "name": name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "active": str(user.active).lower(),
        "locked_out": str(user.locked_out).lower(),
        "web_service_access_only": str(user.web_service_only).lower(),
    }


def _current_user(user: UserRecord) -> dict[str, Any]:
    name = f"{user.first_name} {user.last_name}".strip() or user.user_name
    initials = "".join(part[0] for part in name.split()[:2]).upper()
    return {
        "user_name": user.user_name,
        "user_sys_id": user.sys_id,
        "user_display_name": name,
        "user_initials": initials,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "user_avatar": "",
    }


def _first(query: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def _sys_user(users: list[UserRecord], query: Mapping[str, Sequence[str]]) -> Reply:
    rows = [_user_row(u) for u in users]
    encoded = _first(query, "sysparm_query")
    if encoded:
        for term in encoded.split("^"):
            field, sep, value = term.partition("=")
            if sep and field:
                rows = [r for r in rows if r.get(field) == value]
    limit_text = _first(query, "sysparm_limit")
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError:
            return _failure(400, "Invalid sysparm_limit", limit_text)
        rows = rows[: max(limit, 0)]
    return json_reply(200, {"result": rows}, ("X-Total-Count", str(len(users))))


def rest_request(
    state: EmulatorState,
    path: str,
    query: Mapping[str, Sequence[str]],
    authorization: str | None,
) -> Reply:
    with state.lock:
        scheme, _, value = (authorization or "").strip().partition(" ")
        token = state.bearer(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            state.deny(f"REST {path}: no valid bearer token")
            return json_reply(401, _NOT_AUTHENTICATED, ("WWW-Authenticate", 'BASIC realm="Service-now"'))
        if DEFAULT_SCOPE not in token.scope.split():
            state.deny(f"REST {path}: token scope lacks {DEFAULT_SCOPE}")
            return json_reply(403, _MISSING_SCOPE)
        user = state.users[token.user_name]
        if path == CURRENT_USER:
            return json_reply(200, {"result": _current_user(user)})
        if path.startswith(TABLE_PREFIX):
            table = path[len(TABLE_PREFIX) :].strip("/")
            if table == "sys_user":
                return _sys_user(list(state.users.values()), query)
            return _failure(400, f"Invalid table {table}")
        return _failure(400, "Requested URI does not represent any resource")
