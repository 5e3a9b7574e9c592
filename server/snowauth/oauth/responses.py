"""Reading what ``/oauth_token.do`` (and the REST API) answered.

Success is 200 JSON with an ``access_token``. ServiceNow folds nearly every failure
into ``401 {"error":"server_error","error_description":"access_denied"}``, so the
message is built from the grant (the builders in ``errors.py``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from snowauth.json_shapes import validate
from snowauth.oauth import errors
from snowauth.oauth.http import MAX_RETRY_AFTER, HttpResponse, parse_retry_after
from snowauth.oauth.pages import is_hibernation_page, wake_link
from snowauth.oauth.shapes import KNOWN, ErrorAnswer, TokenAnswer
from snowauth.token_text import ALLOWED, CHECKED_KEYS, is_token_text
from snowauth.tokens import GRANT_AUTHORIZATION_CODE, ResolvedConnection, TokenSet

_REJECTIONS = frozenset({"access_denied", "invalid_grant", "invalid_client"})
# an error_description about PKCE ("can't verify code challenge", "code_verifier …")
_PKCE_WORDS = re.compile(r"code[ _]challenge|code[ _]verifier|\bpkce\b", re.IGNORECASE)


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _unix_time(value: str | None) -> datetime | None:
    """``X-RateLimit-Reset``: a UNIX timestamp (docs/servicenow.md), as a UTC time."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
        return datetime.fromtimestamp(seconds, UTC) if math.isfinite(seconds) and seconds >= 0 else None
    except (ValueError, OverflowError, OSError):
        return None


def raise_for_common(response: HttpResponse, *, now: datetime, max_wait: float = MAX_RETRY_AFTER) -> None:
    """Raise for what every endpoint may answer: hibernation, 429, 5xx."""
    if is_hibernation_page(response.body):
        raise errors.hibernating(response.origin, status=response.status, wake_url=wake_link(response.body))
    if response.status == 429:
        raise errors.rate_limited(
            response.origin,
            retry_after=parse_retry_after(response.headers.get("retry-after"), now),
            attempts=response.attempts,
            max_wait=max_wait,
            reset_at=_unix_time(response.headers.get("x-ratelimit-reset")),
            limit=response.headers.get("x-ratelimit-limit"),
            rule=response.headers.get("x-ratelimit-rule"),
        )
    if 500 <= response.status <= 599:
        raise errors.server_error(response.origin, status=response.status, attempts=response.attempts)


def _text(value: str | None) -> str | None:
    return value or None


def token_set(answer: TokenAnswer, now: datetime, *, url: str = "the instance", status: int = 200) -> TokenSet | None:
    """A TokenSet from a success answer, or None without an access token.

    A token or token_type/scope holding characters outside visible ASCII is refused
    (malformed-response): such a value could carry a line break into the connection
    file, a header or a shell (see snowauth.token_text)."""
    access_token = _text(answer.access_token)
    if access_token is None:
        return None
    for key in CHECKED_KEYS:
        value = getattr(answer, key)
        if isinstance(value, str) and value and not is_token_text(value):
            raise errors.malformed_response(
                url,
                f"the {key} it sent holds characters a token cannot have (a token holds {ALLOWED}, "
                "RFC 6749); it was neither used nor stored",
                status=status,
            )
    expires_in = answer.expires_in
    return TokenSet(
        access_token=access_token,
        token_type=_text(answer.token_type) or "Bearer",
        refresh_token=_text(answer.refresh_token),
        scope=_text(answer.scope),
        expires_at=now + timedelta(seconds=expires_in) if expires_in is not None else None,
        refresh_expires_at=None,
    )


def _success(data: dict[str, Any], now: datetime, *, url: str, status: int) -> TokenSet:
    """The TokenSet of a 2xx answer; a body of another shape is malformed (its problem
    named from the shape alone, never from a value: json_shapes.problem)."""
    answer = validate(TokenAnswer, data, KNOWN)
    if isinstance(answer, str):
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise errors.malformed_response(url, f"HTTP {status} without an access_token ({answer})", status=status)
        raise errors.malformed_response(url, f"{answer}; it was neither used nor stored", status=status)
    tokens = token_set(answer, now, url=url, status=status)
    if tokens is None:
        raise errors.malformed_response(url, f"HTTP {status} without an access_token", status=status)
    return tokens


def parse_token_response(
    response: HttpResponse,
    *,
    conn: ResolvedConnection,
    grant_type: str,
    now: datetime,
    secrets: Iterable[str | None] = (),
) -> TokenSet:
    """The TokenSet of a token endpoint answer, or the OAuthError it means."""
    raise_for_common(response, now=now)
    status = response.status
    data = json_object(response.body)
    if data is None:
        first = response.body.lstrip()[:1]
        json_like = response.content_type == "application/json" or first in (b"{", b"[")
        if 200 <= status <= 299 and json_like:
            raise errors.malformed_response(response.url, "the JSON is incomplete or invalid", status=status)
        raise errors.not_servicenow(response.url, status=status, content_type=response.content_type)
    if 200 <= status <= 299:
        return _success(data, now, url=response.url, status=status)
    answer = validate(ErrorAnswer, data, KNOWN)
    if isinstance(answer, str):
        raise errors.not_servicenow(response.url, status=status, content_type=response.content_type, detail=answer)
    hidden = [*secrets, conn.client_secret, conn.password, conn.otp, conn.refresh_token]
    error = answer.error
    raw_description = answer.error_description
    description = errors.scrub(raw_description, hidden) if raw_description is not None else ""
    if error == "unauthorized_client":
        raise errors.unauthorized_client(response.origin, description, status=status)
    if grant_type == GRANT_AUTHORIZATION_CODE and isinstance(error, str) and _PKCE_WORDS.search(description):
        raise errors.pkce_failed(response.origin, errors.scrub(f"{error}: {description}", hidden), status=status)
    if isinstance(error, str) and (status == 401 or error in _REJECTIONS or raw_description == "access_denied"):
        generic = error == "server_error" and raw_description == "access_denied"
        detail = None
        if not generic:
            detail = errors.scrub(f"{error}: {description}" if description else error, hidden)
        raise errors.access_denied(
            grant_type,
            response.origin,
            status=status,
            username=errors.shown(conn, "username", conn.username),
            redirect_uri=errors.shown(conn, "redirect_uri", conn.redirect_uri),
            jwt_subject=errors.shown(conn, "jwt_subject", conn.jwt_subject),
            jwt_algorithm=conn.jwt_algorithm,
            jwt_key_id=errors.shown(conn, "jwt_key_id", conn.jwt_key_id),
            detail=detail,
            otp_sent=bool(conn.otp),
        )
    if isinstance(error, str):
        raise errors.invalid_request(
            response.origin, grant_type, errors.scrub(error, hidden), description, status=status
        )
    raise errors.not_servicenow(response.url, status=status, content_type=response.content_type)
