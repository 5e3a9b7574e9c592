"""``/api/now/*``: authentication, ``/api/now/ui/user/current_user``, and the Table
API (:mod:`snowauth.emulator.table_api`).

A caller authenticates with a Bearer token the emulator issued, with HTTP Basic (a
user with a password; web service users too), or, when neither is valid, with the
session cookie (``JSESSIONID``) a token answer set, as an instance's REST API does: a
client that keeps cookies passes on the session even with a revoked token. Bad, expired
or revoked credentials answer ServiceNow's 401 with ``WWW-Authenticate: BASIC
realm="Service-now"``.

REST API Auth Scopes as the instance checks them (docs/servicenow.md "Scopes and JWT"):
an API with no auth scope (the config's ``[api_scopes]``, by path prefix) takes any
valid token; one with an auth scope takes a token only when the Auth Scopes of the
client's Application Registry record, read at request time rather than the scope the
token asked for, hold that scope or ``useraccount``. Otherwise 403 "Missing required
api access scope". HTTP Basic is not scope-checked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from snowauth import instance_records as ir
from snowauth.emulator.config import DEFAULT_SCOPE, UserRecord
from snowauth.emulator.reply import Reply, json_reply
from snowauth.emulator.state import EmulatorState
from snowauth.emulator.table_api import failure, table_request

TABLE_PREFIX = ir.TABLE_API + "/"
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
        "detail": "The OAuth client is not linked to the auth scope this API requires",
    },
    "status": "failure",
}


USER_ID_SCRIPT = "javascript:gs.getUserID()"
#: the emulated inbound REST rate limit rule (sys_rate_limit_rules)
RATE_LIMIT = 100
RATE_LIMIT_RULE = "4f2b9c6e1b2a3010a1b2c3d4e5f60718"


def _rate_limited(state: EmulatorState) -> Reply:
    """An inbound REST rate limit rule's 429: the body and headers of
    docs ``api-reference/rest-api-explorer/inbound-REST-API-rate-limiting.md``."""
    wait = state.modes.retry_after
    return json_reply(
        429,
        {
            "error": {
                "message": "Rate limit exceeded",
                "detail": f"Rate limit of {RATE_LIMIT} requests per hour for Table API exceeded",
            },
            "status": "failure",
        },
        ("X-RateLimit-Limit", str(RATE_LIMIT)),
        ("X-RateLimit-Reset", str(int(state.clock()) + wait)),
        ("X-RateLimit-Rule", RATE_LIMIT_RULE),
        ("Retry-After", str(wait)),
    )


@dataclass(frozen=True)
class Credentials:
    """What a request authenticates with: its ``Authorization`` and ``Cookie`` headers."""

    authorization: str | None
    cookie: str | None = None


def _session(state: EmulatorState, cookie: str | None) -> UserRecord | None:
    if not cookie:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie)
    except CookieError:
        return None
    morsel = jar.get("JSESSIONID")
    return state.session_user(morsel.value) if morsel is not None else None


def _user_filter(state: EmulatorState, user: UserRecord, query: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``javascript:gs.getUserID()`` in ``sysparm_query`` as the caller's sys_id, or the
    term dropped altogether in the ``drop_user_filter`` mode (as some instances do)."""
    params = {key: list(values) for key, values in query.items()}
    encoded = params.get("sysparm_query")
    if encoded and USER_ID_SCRIPT in encoded[0]:
        if state.modes.drop_user_filter:
            terms = [term for term in encoded[0].split("^") if USER_ID_SCRIPT not in term]
            params["sysparm_query"] = ["^".join(terms)]
        else:
            params["sysparm_query"] = [encoded[0].replace(USER_ID_SCRIPT, user.sys_id)]
    return params


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


def required_scope(api_scopes: Mapping[str, str], path: str) -> str | None:
    """The auth scope the API at ``path`` needs (the longest configured prefix), if any."""
    best: tuple[int, str] | None = None
    for prefix, scope in api_scopes.items():
        base = prefix.rstrip("/")
        if (path == base or path.startswith(base + "/")) and (best is None or len(base) > best[0]):
            best = (len(base), scope)
    return None if best is None else best[1]


def _scope_refusal(state: EmulatorState, path: str, client_id: str) -> Reply | None:
    """403 unless the client's record, as it is now, holds the API's auth scope."""
    required = required_scope(state.config.api_scopes, path)
    if required is None:
        return None
    client = state.client_by_id(client_id)
    held = client.scopes if client is not None else ()
    if required in held or DEFAULT_SCOPE in held:
        return None
    state.deny(f"REST {path}: the client's record lacks the auth scope {required}")
    return json_reply(403, _MISSING_SCOPE)


def _authenticate(state: EmulatorState, path: str, credentials: Credentials) -> UserRecord | Reply:
    """The user behind a Bearer token (whose client must hold the API's auth scope), an
    HTTP Basic user name and password (a failure counts toward the lockout), or else a
    session cookie."""
    scheme, _, value = (credentials.authorization or "").strip().partition(" ")
    user: UserRecord | None = None
    if scheme.lower() == "bearer":
        token = state.bearer(value.strip())
        if token is not None:
            refused = _scope_refusal(state, path, token.client_id)
            if refused is not None:
                return refused
            user = state.users[token.user_name]
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        name, sep, password = decoded.partition(":")
        if sep:
            user = state.check_login(name, password, f"REST {path} basic auth", interactive=False, api=True)
    if user is None:
        user = _session(state, credentials.cookie)
    if user is None:
        state.deny(f"REST {path}: no valid credentials")
        return json_reply(401, _NOT_AUTHENTICATED, ("WWW-Authenticate", 'BASIC realm="Service-now"'))
    return user


def rest_request(
    state: EmulatorState,
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    body: bytes,
    credentials: Credentials,
    base_url: str,
) -> Reply:
    with state.lock:
        if not path.startswith(TABLE_PREFIX) and method not in ("GET", "HEAD"):
            return failure(405, "Method not allowed")
        user = _authenticate(state, path, credentials)
        if isinstance(user, Reply):
            return user
        if state.modes.rest_rate_limited:
            return _rate_limited(state)
        if path == CURRENT_USER:
            if state.modes.no_current_user:
                return failure(404, "Requested URI does not represent any resource")
            return json_reply(200, {"result": _current_user(user)})
        if path.startswith(TABLE_PREFIX):
            return table_request(state, user, method, path, _user_filter(state, user, query), body, base_url)
        return failure(400, "Requested URI does not represent any resource")
