"""``/oauth_auth.do``: the authorization endpoint, with a real login-and-consent form.

Errors that cannot safely go back to the client (unknown client, missing ``state``,
and an unregistered ``redirect_uri`` with ``redirect_fallback = false``) are an HTML
page; the others redirect to ``redirect_uri?error=…&state=…``. Approval redirects with
``code`` and ``state``. A ``redirect_uri`` that matches none of the client's is
replaced by its first one (``redirect_fallback = true``, the default), as an instance
does (docs/servicenow.md).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from snowauth import instance_records as ir
from snowauth.emulator.config import ClientRecord
from snowauth.emulator.grants import Denied, resolve_scope
from snowauth.emulator.pages import error_page, login_page
from snowauth.emulator.reply import Reply, html_reply, redirect_reply
from snowauth.emulator.state import AuthorizationCode, EmulatorState

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
_BAD_LOGIN = "User name or password invalid"


def _redirect(redirect_uri: str, **params: str) -> Reply:
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_reply(redirect_uri + separator + urlencode(params))


def _approve(
    state: EmulatorState,
    client: ClientRecord,
    redirect_uri: str,
    oauth_state: str,
    scope: str,
    challenge: str | None,
    user_name: str,
) -> Reply:
    value = secrets.token_urlsafe(32)
    state.codes[value] = AuthorizationCode(
        value=value,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        user_name=user_name,
        scope=scope,
        code_challenge=challenge,
        created_at=state.clock(),
    )
    return _redirect(redirect_uri, code=value, state=oauth_state)


def authorize(
    state: EmulatorState,
    params: Mapping[str, str],
    login: Mapping[str, str] | None = None,
) -> Reply:
    """Answer GET (``login`` None) or the form's POST (``login`` has ``user_name``,
    ``user_password`` and ``action``)."""
    with state.lock:
        client_id = params.get("client_id", "")
        client = state.client_by_id(client_id) if client_id else None
        if client is None or not client.active or not state.property_true(ir.PROP_OAUTH_ACTIVE):
            why = "unknown client_id" if client is None else "inactive client or OAuth off"
            state.deny(f"authorize: {why}")
            return html_reply(400, error_page("Invalid client_id: no such OAuth application."))
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            # the consent form's POST carries the URL the GET resolved: a changed one is
            # tampering, refused whatever the fallback
            if login is not None or not state.config.redirect_fallback or not client.redirect_uris:
                state.deny(f"authorize: redirect_uri not registered for client {client.name}")
                return html_reply(400, error_page("Invalid redirect_uri: it is not registered for this client."))
            # "If no match is made, the instance uses the first redirect URL"
            state.deny(f"authorize: redirect_uri not registered for client {client.name}; the first one is used")
            redirect_uri = client.redirect_uris[0]
        oauth_state = params.get("state", "")
        if not oauth_state:
            state.deny("authorize: no state")
            return html_reply(400, error_page("The state parameter is required."))

        def fail(error: str, description: str) -> Reply:
            state.deny(f"authorize: {description}")
            return _redirect(redirect_uri, error=error, error_description=description, state=oauth_state)

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is not None or method is not None:
            if method != "S256":
                return fail("invalid_request", "code_challenge_method must be S256")
            if challenge is None or not _CHALLENGE.match(challenge):
                return fail("invalid_request", "code_challenge missing or malformed")
        elif client.public:
            return fail("invalid_request", "a public client must use PKCE")
        try:
            scope = resolve_scope(client, params.get("scope"))
        except Denied:
            return fail("invalid_scope", "scope not allowed for this client")

        if login is None:
            user_name = state.approve_next or state.auto_approve_user
            state.approve_next = None
            if user_name is None:
                form = {k: params[k] for k in AUTHORIZE_PARAMS if params.get(k)}
                form["redirect_uri"] = redirect_uri
                return html_reply(200, login_page(form, client.name))
            if state.usable_user(user_name) is None:
                return fail("access_denied", "the approving user is inactive or locked out")
            return _approve(state, client, redirect_uri, oauth_state, scope, challenge, user_name)

        if login.get("action") != "allow":
            return fail("access_denied", "the user denied access")
        user = state.check_login(login.get("user_name", ""), login.get("user_password", ""), "login form")
        if user is None:
            form = {k: params[k] for k in AUTHORIZE_PARAMS if params.get(k)}
            return html_reply(200, login_page(form, client.name, error=_BAD_LOGIN))
        return _approve(state, client, redirect_uri, oauth_state, scope, challenge, user.user_name)
