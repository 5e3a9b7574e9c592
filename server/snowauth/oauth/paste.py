"""The paste-the-code end of the authorization code flow, for a ``redirect_uri`` that
does not come back to this machine: the ServiceNow SDK client's ``/sdk-oauth.do`` (a page
of the instance that shows the code), or any other registered address
(``https://example.com/cb``, a page of the instance).

:func:`authorize` opens ``/oauth_auth.do`` (PKCE S256 unless the connection says
``pkce = false``, and a ``state``) through an
injected ``open_browser``, then asks the person, through an injected ``ask_code``, for
what the browser shows: the bare code, or the whole address it landed on (then its
``state`` is checked and an ``error`` is the sign-in's refusal). Bounded by the same
timeout as the loopback listener. The code and the PKCE verifier are registered with the
log filter (:mod:`snowauth.redact`) before anything else sees them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from snowauth import redact
from snowauth.oauth import errors
from snowauth.oauth.authcode import (
    AUTHORIZATION_TIMEOUT,
    AuthorizationResult,
    OpenBrowser,
    ProgressFn,
    authorize_url,
    interpret,
    new_pkce,
    new_state,
)
from snowauth.oauth.urls import host as host_of
from snowauth.token_text import is_token_text
from snowauth.tokens import ResolvedConnection

#: asks the person for what the browser shows after the sign-in (None or "": nothing)
AskCode = Callable[[], Awaitable[str | None]]

# a query pasted without its address: "code=…&state=…" (a bare code may end in "=")
_QUERY = re.compile(r"(?:code|state|error)=")
_MAX_ANSWER = 8192  # a code is tens of characters; an address with one, a few hundred


def read_answer(answer: str, expected_state: str, shown: str) -> str:
    """The code in what the person pasted: a bare code, or an address (or its query)
    carrying ``code``/``error`` and ``state``. ``shown`` names the redirect in messages."""
    text = answer.strip()
    if not text:
        raise errors.code_not_entered()
    if len(text) > _MAX_ANSWER:
        raise errors.code_unreadable(f"it is over {_MAX_ANSWER} characters long")
    if "?" in text or _QUERY.match(text):
        query = text.split("?", 1)[1] if "?" in text else text
        params = dict(parse_qsl(query.split("#", 1)[0], keep_blank_values=True))
        redact.register(params.get("code"))
        if "code" not in params and "error" not in params:
            raise errors.code_unreadable("an address without a code")
        return interpret(params, expected_state, shown)
    if any(ch.isspace() for ch in text) or not is_token_text(text):
        raise errors.code_unreadable("it holds spaces or characters no code has")
    return text


async def authorize(
    conn: ResolvedConnection,
    *,
    open_browser: OpenBrowser,
    ask_code: AskCode | None,
    timeout: float = AUTHORIZATION_TIMEOUT,
    on_progress: ProgressFn | None = None,
) -> AuthorizationResult:
    """Run the browser sign-in for ``conn`` and return the pasted code with the verifier."""
    if not conn.redirect_uri:
        raise errors.invalid_connection(
            "redirect_uri",
            f'Connection "{conn.name}" needs redirect_uri for the authorization code grant.',
        )
    if ask_code is None:
        raise errors.needs_code_prompt(conn.name)
    pkce = new_pkce() if conn.pkce else None  # the SDK client: always (connections.resolve)
    redact.register(pkce.verifier if pkce else None)
    state = new_state()
    url = authorize_url(conn, state=state, challenge=pkce.challenge if pkce else None)
    if on_progress is not None:
        on_progress(f"Opening the browser to sign in at {host_of(conn.base_url)}…")
    await open_browser(url)
    if on_progress is not None:
        on_progress("Waiting for the code the browser shows after you sign in…")
    try:
        async with asyncio.timeout(timeout):
            answer = await ask_code()
    except TimeoutError:
        raise errors.code_timeout(timeout) from None
    if answer is None:
        raise errors.code_not_entered()
    redact.register(answer.strip())
    code = read_answer(answer, state, conn.redirect_uri)
    redact.register(code)
    return AuthorizationResult(code=code, code_verifier=pkce.verifier if pkce else None)
