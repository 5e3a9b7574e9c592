"""``/oauth_token.do``: client authentication and the five grants.

Every refusal is ServiceNow's single folded answer (401
``{"error_description":"access_denied","error":"server_error"}``), except a client
credentials request on a record without an OAuth Application User. The real cause
goes to the emulated system log only (``Emulator.system_log``, and a ``syslog`` row
"Exception on token flow - <reason>" readable through the Table API).

The live records rule: an inactive Application Registry record, ``oauth_active``
false (``com.snc.platform.security.oauth.is.active``) and the password grant switched
off (``glide.oauth.inbound.ropc.grant_type.disabled``) all answer the folded 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from snowauth import instance_records as ir
from snowauth.emulator.config import DEFAULT_SCOPE, ClientRecord
from snowauth.emulator.jwt_verify import AssertionRejected, verify_assertion
from snowauth.emulator.state import EmulatorState, same_secret

GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_DENIED: dict[str, Any] = {"error_description": "access_denied", "error": "server_error"}
UNAUTHORIZED_CLIENT: dict[str, Any] = {
    "error": "unauthorized_client",
    "error_description": "The integration user is not configured for the OAuth application",
}
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


#: the answer to a verifier that does not match with ``pkce_failure = "invalid_request"``
#: (the wording of a real instance is not confirmed: docs/servicenow.md, "Fidelity")
PKCE_FAILURE_DESCRIPTION = "can't verify code challenge"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


class Denied(Exception):
    """Raised inside a grant to answer the folded 401; the message is the log reason
    (empty when the reason is already in the system log)."""


def _denied() -> Outcome:
    return Outcome(401, dict(ACCESS_DENIED))


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """Decode an HTTP Basic header per RFC 6749 §2.3.1 (form-encoded id and secret).

    Returns None when there is no Basic header; raises :class:`Denied` when it is bad."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Denied("malformed Basic authorization header") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise Denied("malformed Basic authorization header")
    return unquote_plus(user), unquote_plus(password)


def resolve_scope(client: ClientRecord, requested: str | None) -> str:
    """The requested scopes, space-normalised, ``useraccount`` when none."""
    parts = (requested or "").split()
    if not parts:
        parts = [DEFAULT_SCOPE]
    if client.scopes:
        extra = [p for p in parts if p not in client.scopes]
        if extra:
            raise Denied(f"scope {' '.join(extra)} not allowed for client {client.name}")
    return " ".join(parts)


def _authenticate_client(
    state: EmulatorState, form: Mapping[str, str], basic: tuple[str, str] | None
) -> tuple[ClientRecord, bool]:
    """The client, and whether it proved a secret."""
    form_id = form.get("client_id") or None
    form_secret = form.get("client_secret") or None
    if basic is not None:
        if form_id is not None and form_id != basic[0]:
            raise Denied("client_id in the body differs from the Basic header")
        if form_secret is not None and form_secret != basic[1]:
            raise Denied("client_secret in the body differs from the Basic header")
        client_id: str | None = basic[0] or None
        secret = basic[1] or None
    else:
        client_id, secret = form_id, form_secret
    if client_id is None:
        raise Denied("no client_id")
    client = state.client_by_id(client_id)
    if client is None:
        raise Denied("unknown client_id")
    if not client.active:
        raise Denied(f"client {client.name} is not active")
    if client.public:
        if secret is not None:
            raise Denied(f"public client {client.name} sent a secret")
        return client, False
    if secret is None:
        raise Denied(f"no client_secret for confidential client {client.name}")
    if not same_secret(secret, client.client_secret):
        raise Denied(f"wrong client_secret for client {client.name}")
    return client, True


def _password(state: EmulatorState, client: ClientRecord, form: Mapping[str, str]) -> Outcome:
    if state.property_true(ir.PROP_PASSWORD_GRANT_DISABLED):
        raise Denied(f"password grant: {ir.PROP_PASSWORD_GRANT_DISABLED} is true")
    username = form.get("username")
    password = form.get("password")
    if not username or password is None:
        raise Denied("password grant: username or password missing")
    scope = resolve_scope(client, form.get("scope"))
    user = state.check_login(username, password, "password grant", api=True)
    if user is None:
        raise Denied("")  # check_login logged why
    return Outcome(200, state.issue(client, user.user_name, scope, with_refresh=True))


def _refresh(state: EmulatorState, client: ClientRecord, form: Mapping[str, str]) -> Outcome:
    value = form.get("refresh_token")
    if not value:
        raise Denied("refresh grant: no refresh_token")
    token = state.valid_refresh_token(value)
    if token is None:
        raise Denied("refresh grant: refresh token unknown, expired or revoked")
    if token.client_id != client.client_id:
        raise Denied("refresh grant: refresh token belongs to another client")
    if state.usable_user(token.user_name) is None:
        raise Denied(f"refresh grant: user {token.user_name} is inactive or locked out")
    body = state.issue(client, token.user_name, token.scope, with_refresh=True, refresh=token)
    return Outcome(200, body)


def _client_credentials(state: EmulatorState, client: ClientRecord, form: Mapping[str, str]) -> Outcome:
    if not state.property_true(ir.PROP_CLIENT_CREDENTIALS_ENABLED):
        raise Denied(f"client credentials: {ir.PROP_CLIENT_CREDENTIALS_ENABLED} is not true")
    app_user = state.application_user(client)
    if app_user is None:
        why = f"client credentials: client {client.name} has no OAuth Application User"
        if state.config.no_application_user == "access_denied":
            raise Denied(why)
        state.deny(why)
        return Outcome(401, dict(UNAUTHORIZED_CLIENT))
    scope = resolve_scope(client, form.get("scope"))
    user = state.usable_user(app_user.user_name)
    if user is None:
        raise Denied(f"client credentials: application user {app_user.user_name} unusable")
    return Outcome(200, state.issue(client, user.user_name, scope, with_refresh=False))


def _pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _authorization_code(state: EmulatorState, client: ClientRecord, form: Mapping[str, str]) -> Outcome:
    value = form.get("code")
    if not value:
        raise Denied("authorization code: no code")
    code = state.codes.get(value)
    if code is None:
        raise Denied("authorization code: unknown code")
    if code.client_id != client.client_id:
        raise Denied("authorization code: code issued to another client")
    if code.used:
        raise Denied("authorization code: code already used")
    code.used = True  # one attempt per code, whatever its outcome
    if state.clock() - code.created_at > state.config.code_lifespan:
        raise Denied("authorization code: code expired")
    if form.get("redirect_uri") != code.redirect_uri:
        raise Denied("authorization code: redirect_uri differs from the one at authorize")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier") or ""
        if not _VERIFIER.match(verifier):
            raise Denied("authorization code: code_verifier missing or malformed")
        if _pkce_s256(verifier) != code.code_challenge:
            if state.config.pkce_failure == "invalid_request":
                state.deny("authorization code: PKCE verifier does not match the challenge")
                state.log_token_flow(f"invalid_request: {PKCE_FAILURE_DESCRIPTION}")
                return Outcome(401, {"error": "invalid_request", "error_description": PKCE_FAILURE_DESCRIPTION})
            raise Denied("authorization code: PKCE verifier does not match the challenge")
    elif client.public:
        raise Denied("authorization code: public client without PKCE")
    if state.usable_user(code.user_name) is None:
        raise Denied(f"authorization code: user {code.user_name} is inactive or locked out")
    return Outcome(200, state.issue(client, code.user_name, code.scope, with_refresh=True))


def _jwt_bearer(state: EmulatorState, client: ClientRecord, form: Mapping[str, str]) -> Outcome:
    if client.jwt_public_key_pem is None and client.jwt_shared_key is None:
        raise Denied(f"jwt bearer: client {client.name} has no JWT verifier")
    assertion = form.get("assertion")
    if not assertion:
        raise Denied("jwt bearer: no assertion")
    scope = resolve_scope(client, form.get("scope"))
    try:
        verified = verify_assertion(
            assertion,
            public_key_pem=client.jwt_public_key_pem,
            client_id=client.client_id,
            key_id=client.jwt_key_id,
            now=state.clock(),
            leeway=client.jwt_clock_skew,
            shared_key=client.jwt_shared_key,
            audience=client.jwt_audience,
            check_issuer=client.jwt_check_issuer,
        )
    except AssertionRejected as exc:
        raise Denied(f"jwt bearer: {exc}") from None
    if (client.client_id, verified.jti) in state.seen_jtis:
        raise Denied("jwt bearer: jti already used")
    field_name = client.jwt_user_field
    user = next(
        (u for u in state.users.values() if getattr(u, field_name) == verified.subject),
        None,
    )
    if user is None or state.usable_user(user.user_name) is None:
        raise Denied(f"jwt bearer: sub names no active user by {field_name}")
    state.seen_jtis.add((client.client_id, verified.jti))
    return Outcome(200, state.issue(client, user.user_name, scope, with_refresh=False))


_GRANTS = {
    "password": _password,
    "refresh_token": _refresh,
    "client_credentials": _client_credentials,
    "authorization_code": _authorization_code,
    GRANT_JWT_BEARER: _jwt_bearer,
}
#: grants a public client runs without a secret (a public JWT client, such as the
#: Mobile SDK's, omits it: docs/servicenow.md "Scopes and JWT")
_PUBLIC_GRANTS = {"authorization_code", "refresh_token", GRANT_JWT_BEARER}


def token_request(state: EmulatorState, form: Mapping[str, str], authorization: str | None) -> Outcome:
    """Answer one (already rate-limit and mode checked) token request; a refusal
    writes each of its reasons to the ``syslog`` table too."""
    with state.lock:
        start = len(state.system_log)
        outcome = _answer(state, form, authorization)
        if outcome.status != 200:
            for reason in state.system_log[start:]:
                state.log_token_flow(reason)
        return outcome


def _answer(state: EmulatorState, form: Mapping[str, str], authorization: str | None) -> Outcome:
    with state.lock:
        try:
            if not state.property_true(ir.PROP_OAUTH_ACTIVE):
                raise Denied(f"OAuth is not active: {ir.PROP_OAUTH_ACTIVE} is not true")
            grant_type = form.get("grant_type", "")
            grant = _GRANTS.get(grant_type)
            if grant is None:
                raise Denied("unsupported or missing grant_type")
            client, proved_secret = _authenticate_client(state, form, parse_basic(authorization))
            if not proved_secret and grant_type not in _PUBLIC_GRANTS:
                raise Denied(f"public client {client.name} cannot use {grant_type}")
            return grant(state, client, form)
        except Denied as exc:
            if str(exc):
                state.deny(str(exc))
            return _denied()
