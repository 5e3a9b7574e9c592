"""The form of each grant at ``/oauth_token.do``, and the client's authentication.

Everything goes in an ``application/x-www-form-urlencoded`` body, never the query
string. Client authentication is ``body`` (``client_id`` and ``client_secret`` fields,
ServiceNow's documented way) or ``basic`` (an HTTP Basic header, RFC 6749 §2.3.1: the
id and secret are each form-url-encoded before base64). A public client (no secret)
sends only its ``client_id``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from snowauth.oauth import errors
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class TokenRequest:
    """A ready token request: the grant (for messages), the form and extra headers."""

    grant_type: str
    form: dict[str, str] = field(repr=False)
    headers: dict[str, str] = field(repr=False)

    def secrets(self) -> list[str]:
        """Every value of this request that must never be shown."""
        shown = {"grant_type", "client_id", "username", "scope", "redirect_uri"}
        values = [v for k, v in self.form.items() if k not in shown]
        if "Authorization" in self.headers:
            values.append(self.headers["Authorization"])
        return values


def _require(value: str | None, key: str, conn: ResolvedConnection, why: str) -> str:
    if not value:
        raise errors.invalid_connection(key, f'Connection "{conn.name}" needs {key} {why}.')
    return value


def password_form(conn: ResolvedConnection) -> dict[str, str]:
    form = {
        "grant_type": GRANT_PASSWORD,
        "username": _require(conn.username, "username", conn, "for the password grant"),
        # an instance that enforces MFA for integrations takes the password followed by
        # the current one-time code (docs/servicenow.md, "MFA")
        "password": _require(conn.password, "password", conn, "for the password grant") + (conn.otp or ""),
    }
    if conn.scope:
        form["scope"] = conn.scope
    return form


def refresh_form(refresh_token: str) -> dict[str, str]:
    return {"grant_type": GRANT_REFRESH, "refresh_token": refresh_token}


def client_credentials_form(conn: ResolvedConnection) -> dict[str, str]:
    form = {"grant_type": GRANT_CLIENT_CREDENTIALS}
    if conn.scope:
        form["scope"] = conn.scope
    return form


def authorization_code_form(conn: ResolvedConnection, code: str, code_verifier: str | None) -> dict[str, str]:
    form = {
        "grant_type": GRANT_AUTHORIZATION_CODE,
        "code": code,
        "redirect_uri": _require(conn.redirect_uri, "redirect_uri", conn, "for the authorization code grant"),
    }
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return form


def jwt_bearer_form(assertion: str) -> dict[str, str]:
    return {"grant_type": GRANT_JWT_BEARER, "assertion": assertion}


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` value for HTTP Basic client authentication (RFC 6749 §2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def with_client_auth(conn: ResolvedConnection, form: dict[str, str]) -> TokenRequest:
    """Add the client's authentication (``client_auth``) to a grant's form."""
    if conn.client_auth not in ("body", "basic"):
        raise errors.invalid_connection(
            "client_auth",
            f'Connection "{conn.name}" has client_auth = "{conn.client_auth}"; use "body" or "basic".',
        )
    body = dict(form)
    headers = {"Content-Type": FORM_CONTENT_TYPE}
    secret = conn.client_secret
    if conn.client_auth == "basic" and secret:
        headers["Authorization"] = basic_credentials(conn.client_id, secret)
    else:
        body["client_id"] = conn.client_id
        if secret:
            body["client_secret"] = secret
    return TokenRequest(grant_type=form["grant_type"], form=body, headers=headers)
