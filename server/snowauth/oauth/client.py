"""``OAuthClient``: fetch, refresh, revoke and "who am I" against a ServiceNow instance.

Protocol-free: it takes a :class:`ResolvedConnection` (secrets already resolved) and
gives back a :class:`TokenSet` or raises :class:`OAuthError`. One instance per server
or CLI run: it keeps one HTTP client per CA bundle, with connections reused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Final

from snowauth.instance import pastes_code
from snowauth.json_shapes import validate
from snowauth.oauth import errors, paste
from snowauth.oauth.authcode import AUTHORIZATION_TIMEOUT, OpenBrowser, authorize
from snowauth.oauth.grants import (
    FORM_CONTENT_TYPE,
    authorization_code_form,
    client_credentials_form,
    jwt_bearer_form,
    password_form,
    refresh_form,
    with_client_auth,
)
from snowauth.oauth.http import (
    MAX_RESPONSE_BYTES,
    HttpResponse,
    HttpTransport,
    NowFn,
    ProgressFn,
    SleepFn,
    utcnow,
)
from snowauth.oauth.jwt import build_assertion
from snowauth.oauth.paste import AskCode
from snowauth.oauth.responses import json_object, parse_token_response, raise_for_common
from snowauth.oauth.table_shapes import KNOWN, CurrentUserAnswer, ListAnswer
from snowauth.oauth.tls import client_certificate
from snowauth.oauth.urls import host, origin
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
    TokenSet,
)

log = logging.getLogger("snowauth.oauth")

TOKEN_PATH: Final = "/oauth_token.do"
REVOKE_PATH: Final = "/oauth_revoke_token.do"
CURRENT_USER_PATH: Final = "/api/now/ui/user/current_user"
SYS_USER_PATH: Final = "/api/now/table/sys_user"

_CURRENT_USER_FIELDS: Final = (
    "user_name",
    "user_sys_id",
    "user_display_name",
    "first_name",
    "last_name",
    "email",
)
_SYS_USER_FIELDS: Final = {
    "user_name": "user_name",
    "sys_id": "user_sys_id",
    "name": "user_display_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
}


def can_run_unattended(conn: ResolvedConnection) -> bool:
    """Whether the connection's own grant needs no person (for refresh fallback)."""
    if conn.grant_type == GRANT_PASSWORD:
        return bool(conn.username and conn.password)
    if conn.grant_type == GRANT_CLIENT_CREDENTIALS:
        return True
    if conn.grant_type == GRANT_JWT_BEARER:
        return bool((conn.jwt_shared_secret or conn.jwt_key_pem) and conn.jwt_subject)
    if conn.grant_type == GRANT_REFRESH:
        return bool(conn.refresh_token)
    return False


def _not_rest_api(response: HttpResponse, detail: str | None = None) -> errors.OAuthError:
    """The REST API answered with something no ServiceNow instance sends (``detail``: what
    is wrong with its JSON's shape, json_shapes.problem)."""
    return errors.not_servicenow(
        response.url,
        status=response.status,
        content_type=response.content_type,
        what="the ServiceNow REST API",
        detail=detail,
    )


class OAuthClient:
    """Runs the grants of ServiceNow connections. Close with :meth:`aclose`."""

    def __init__(
        self,
        *,
        sleep: SleepFn = asyncio.sleep,
        now: NowFn = utcnow,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        authorization_timeout: float = AUTHORIZATION_TIMEOUT,
    ) -> None:
        self._now = now
        self._http = HttpTransport(sleep=sleep, now=now, max_response_bytes=max_response_bytes)
        self.authorization_timeout = authorization_timeout

    @property
    def http(self) -> HttpTransport:
        """The shared transport (the Table API client and the doctor's probe use it)."""
        return self._http

    async def __aenter__(self) -> OAuthClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def transport(self) -> HttpTransport:
        """Its HTTP transport, for other requests to the same instances (the Table API)."""
        return self._http

    # --- token endpoint --------------------------------------------------------------

    async def fetch(
        self,
        conn: ResolvedConnection,
        *,
        open_browser: OpenBrowser | None = None,
        on_progress: ProgressFn | None = None,
        ask_code: AskCode | None = None,
    ) -> TokenSet:
        """Run the connection's own grant and return the new tokens. The authorization code
        grant opens the browser (``open_browser``) and gets the code on a loopback listener,
        or, for a ``redirect_uri`` elsewhere, from the person (``ask_code``)."""
        grant = conn.grant_type
        if grant == GRANT_PASSWORD:
            form = password_form(conn)
        elif grant == GRANT_CLIENT_CREDENTIALS:
            form = client_credentials_form(conn)
        elif grant == GRANT_JWT_BEARER:
            form = jwt_bearer_form(build_assertion(conn, now=self._now()))
        elif grant == GRANT_REFRESH:
            if not conn.refresh_token:
                raise errors.invalid_connection(
                    "refresh_token",
                    f'Connection "{conn.name}" needs refresh_token for the refresh token grant.',
                )
            return await self.refresh(conn, conn.refresh_token, on_progress=on_progress)
        elif grant == GRANT_AUTHORIZATION_CODE:
            if open_browser is None:
                raise errors.needs_browser(conn.name)
            # a redirect_uri read from `${env:}`/`${file:}` must be a loopback one: the
            # paste flow would show its value (the browser's address, the editor's log),
            # and a value a file made snowauth read is never shown (SECURITY.md)
            written = "redirect_uri" not in dict(conn.references)
            if conn.redirect_uri and written and pastes_code(conn.redirect_uri):
                result = await paste.authorize(
                    conn,
                    open_browser=open_browser,
                    ask_code=ask_code,
                    timeout=self.authorization_timeout,
                    on_progress=on_progress,
                )
            else:
                result = await authorize(
                    conn,
                    open_browser=open_browser,
                    timeout=self.authorization_timeout,
                    on_progress=on_progress,
                )
            return await self.exchange_code(
                conn, result.code, code_verifier=result.code_verifier, on_progress=on_progress
            )
        else:
            raise errors.invalid_connection(
                "grant_type", f'Connection "{conn.name}" has an unknown grant_type "{grant}".'
            )
        return await self._token(conn, form, on_progress, "Requesting a token from")

    async def exchange_code(
        self,
        conn: ResolvedConnection,
        code: str,
        *,
        code_verifier: str | None,
        on_progress: ProgressFn | None = None,
    ) -> TokenSet:
        """Exchange an authorization code (with its PKCE verifier) for tokens."""
        form = authorization_code_form(conn, code, code_verifier)
        return await self._token(conn, form, on_progress, "Exchanging the sign-in code at")

    async def refresh(
        self,
        conn: ResolvedConnection,
        refresh_token: str,
        *,
        on_progress: ProgressFn | None = None,
    ) -> TokenSet:
        """Exchange a refresh token; an answer without one keeps the old one."""
        tokens = await self._token(conn, refresh_form(refresh_token), on_progress, "Refreshing the token at")
        if tokens.refresh_token is None:
            tokens = dataclasses.replace(tokens, refresh_token=refresh_token)
        return tokens

    async def refresh_or_fallback(
        self,
        conn: ResolvedConnection,
        refresh_token: str | None,
        *,
        on_progress: ProgressFn | None = None,
    ) -> tuple[TokenSet, bool]:
        """Refresh; if the refresh token is rejected or absent, run the connection's own
        grant when it needs no person (password, client credentials, JWT bearer, a
        configured refresh token). Never falls back to the browser. The bool says
        whether it fell back."""
        if refresh_token:
            try:
                return await self.refresh(conn, refresh_token, on_progress=on_progress), False
            except errors.OAuthError as exc:
                if exc.code != "access-denied" or not self._can_fall_back(conn, refresh_token):
                    raise
            log.info(
                "refresh token rejected by %s; running the connection's own grant",
                origin(conn.base_url),
            )
            if on_progress is not None:
                on_progress("The refresh token was rejected; requesting a new token…")
        elif not self._can_fall_back(conn, None):
            raise errors.no_refresh_token(conn.name)
        return await self.fetch(conn, on_progress=on_progress), True

    @staticmethod
    def _can_fall_back(conn: ResolvedConnection, rejected: str | None) -> bool:
        if conn.grant_type == GRANT_REFRESH and conn.refresh_token == rejected:
            return False
        return can_run_unattended(conn)

    async def _token(
        self,
        conn: ResolvedConnection,
        form: dict[str, str],
        on_progress: ProgressFn | None,
        action: str,
    ) -> TokenSet:
        request = with_client_auth(conn, form)
        if on_progress is not None:
            on_progress(f"{action} {host(conn.base_url)}…")
        issued = self._now()
        response = await self._http.request(
            "POST",
            conn.base_url + TOKEN_PATH,
            timeout=conn.timeout,
            ca_bundle=conn.ca_bundle,
            proxy=conn.proxy,
            client_cert=client_certificate(conn),
            data=request.form,
            headers=request.headers,
            # A refused login is never repeated: attempts count toward lockout.
            repeatable=request.grant_type != GRANT_PASSWORD,
            on_progress=on_progress,
        )
        tokens = parse_token_response(
            response,
            conn=conn,
            grant_type=request.grant_type,
            now=issued,
            secrets=request.secrets(),
        )
        log.info("token issued by %s (%s)", response.origin, errors.grant_name(request.grant_type))
        return tokens

    # --- revoke ----------------------------------------------------------------------

    async def revoke(self, conn: ResolvedConnection, tokens: list[str]) -> None:
        """Revoke each token, in the order given (put the refresh token first).

        POSTs ``token=`` to ``/oauth_revoke_token.do``; on 405 falls back to the
        documented ``GET ?token=``. Empty and repeated tokens are skipped.
        """
        url = conn.base_url + REVOKE_PATH
        done: set[str] = set()
        for token in tokens:
            if not token or token in done:
                continue
            done.add(token)
            response = await self._http.request(
                "POST",
                url,
                timeout=conn.timeout,
                ca_bundle=conn.ca_bundle,
                proxy=conn.proxy,
                client_cert=client_certificate(conn),
                data={"token": token},
                headers={"Content-Type": FORM_CONTENT_TYPE},
            )
            if response.status == 405:
                response = await self._http.request(
                    "GET",
                    url,
                    timeout=conn.timeout,
                    ca_bundle=conn.ca_bundle,
                    proxy=conn.proxy,
                    client_cert=client_certificate(conn),
                    params={"token": token},
                )
            raise_for_common(response, now=self._now())
            if not 200 <= response.status <= 299:
                raise errors.revoke_failed(response.url, status=response.status)
        log.info("revoked %d token(s) at %s", len(done), origin(conn.base_url))

    # --- who am I --------------------------------------------------------------------

    async def whoami(self, conn: ResolvedConnection, access_token: str) -> dict[str, str]:
        """Who the access token authenticates as: ``user_name``, ``user_sys_id``, … .

        Uses ``/api/now/ui/user/current_user``; on 404 the table API (``sys_user``,
        the current user's record, read only when exactly one row answers). Empty when
        the instance accepted the token without saying who it is.
        """
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        response = await self._rest_get(conn, CURRENT_USER_PATH, headers, None)
        if response.status != 404:
            who = validate(CurrentUserAnswer, self._rest_answer(response), KNOWN)
            if isinstance(who, str):
                raise _not_rest_api(response, who)
            said = {k: getattr(who.result, k) for k in _CURRENT_USER_FIELDS}
            return {k: v for k, v in said.items() if v is not None}
        # Two rows asked for: an instance that drops the script filter answers every
        # user, and the first of them is not the token's (docs/decisions.md, "Fidelity").
        params = {
            "sysparm_query": "sys_id=javascript:gs.getUserID()",
            "sysparm_limit": "2",
            "sysparm_fields": ",".join(_SYS_USER_FIELDS),
        }
        response = await self._rest_get(conn, SYS_USER_PATH, headers, params)
        answer = validate(ListAnswer, self._rest_answer(response), KNOWN)
        if isinstance(answer, str):
            raise _not_rest_api(response, answer)
        rows = answer.result
        if len(rows) != 1:
            log.info("who am I: the instance answered %d users for the current user; not naming one", len(rows))
            return {}
        row = rows[0]
        found = {name: row.get(field) for field, name in _SYS_USER_FIELDS.items()}
        return {name: value for name, value in found.items() if value is not None}

    async def _rest_get(
        self,
        conn: ResolvedConnection,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
    ) -> HttpResponse:
        return await self._http.request(
            "GET",
            conn.base_url + path,
            timeout=conn.timeout,
            ca_bundle=conn.ca_bundle,
            proxy=conn.proxy,
            client_cert=client_certificate(conn),
            headers=headers,
            params=params,
        )

    def _rest_answer(self, response: HttpResponse) -> dict[str, Any]:
        raise_for_common(response, now=self._now())
        if response.status == 401:
            raise errors.not_authenticated(response.origin, status=401)
        if response.status == 403:
            raise errors.missing_scope(response.origin, status=403)
        data = json_object(response.body)
        if not 200 <= response.status <= 299 or data is None:
            raise _not_rest_api(response)
        return data
