"""Typed errors of the token exchange, with messages that say what to do.

Every failure the exchange can meet becomes an :class:`OAuthError` with a stable
kebab-case ``code``, a ``message`` written for the user (what went wrong and what to do,
one builder per failure below), the connection ``key`` it implicates where one
is clear, whether trying again later may help (``retryable``) and the HTTP ``status``
when one was received.

Messages name hosts and URLs (scheme, host, port and path; never a query string) and
timeouts, never a secret, token, code, verifier, assertion or request body. Text that
comes from the server (an ``error_description``) goes through :func:`scrub` first.

One module on purpose, over the usual size: it is the one catalogue of the exchange's
failures, a builder per failure, read together to keep the messages consistent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from snowauth.terminal import UNSAFE_CHARACTERS
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
)

REGISTRY: Final = "System OAuth > Application Registry"
CC_PROPERTY: Final = "glide.oauth.inbound.client.credential.grant_type.enabled"
ROPC_DISABLED_PROPERTY: Final = "glide.oauth.inbound.ropc.grant_type.disabled"
#: what the instance's system log starts a token failure with (docs/servicenow.md)
TOKEN_FLOW_LOG: Final = (
    "The instance's system log (System Logs > System Log > All) says why: search its "
    'messages for "Exception on token flow".'
)
DEVELOPER_PORTAL: Final = "https://developer.servicenow.com"

_GRANT_NAMES: Final = {
    GRANT_PASSWORD: "password grant",
    GRANT_REFRESH: "refresh token grant",
    GRANT_CLIENT_CREDENTIALS: "client credentials grant",
    GRANT_AUTHORIZATION_CODE: "authorization code grant",
    GRANT_JWT_BEARER: "JWT bearer grant",
}


class OAuthError(Exception):
    """A failure of the token exchange, fit to show to the user as it is."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        key: str | None = None,
        retryable: bool = False,
        status: int | None = None,
        summary: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.summary = summary
        self.key = key
        self.retryable = retryable
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"OAuthError(code={self.code!r}, key={self.key!r}, status={self.status!r})"


def shown(conn: ResolvedConnection, key: str, value: str | None) -> str | None:
    """How a message names ``value``, the value of ``key``: as it is when the file wrote
    it, "from `${env:NAME}`" when it was read from a reference (a file someone else wrote
    may point any key at any variable or file of the user's: what those hold is not
    shown)."""
    if value is None:
        return None
    reference = dict(conn.references).get(key)
    return f"from `{reference}`" if reference else value


def grant_name(grant_type: str) -> str:
    """A human name for a grant type ("password grant", "JWT bearer grant", …)."""
    return _GRANT_NAMES.get(grant_type, f"{grant_type} grant")


# C0, DEL, C1 (U+0080-U+009F, read as escape sequences by some terminals), and the
# characters that reorder or hide text (a bidirectional override can make "exe.gnp" read
# as "png.exe"): the same set the terminal output escapes (snowauth.terminal)
_CONTROL = re.compile(f"[{UNSAFE_CHARACTERS}]+")


def scrub(text: str, secrets: Iterable[str | None] = (), *, limit: int = 300) -> str:
    """Server-provided text made safe to show: one line, bounded, known secrets removed,
    control and reordering characters replaced by spaces."""
    cleaned = _CONTROL.sub(" ", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            cleaned = cleaned.replace(secret, "[redacted]")
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


# --- token endpoint answers -------------------------------------------------------


def access_denied(
    grant_type: str,
    origin: str,
    *,
    status: int | None,
    username: str | None = None,
    redirect_uri: str | None = None,
    jwt_subject: str | None = None,
    jwt_algorithm: str | None = None,
    jwt_key_id: str | None = None,
    detail: str | None = None,
    otp_sent: bool = False,
) -> OAuthError:
    """The instance rejected the grant (401 access_denied, or invalid_grant/invalid_client).
    ``otp_sent``: a one-time code followed the password (`otp`)."""
    said = f" (the instance said: {detail})" if detail else ""
    summary = None
    if grant_type == GRANT_PASSWORD:
        if username is None:
            who = "the user"
        elif username.startswith("from `"):  # see shown()
            who = f"the user {username}"
        else:
            who = f'the user "{username}"'
        message = (
            f"{origin} rejected the password grant{said}. Either the username/password or "
            f"the client ID/secret is wrong, or {who} cannot sign in this way: locked out, "
            "inactive, must reset the password, web-service-only, or multi-factor "
            "authentication is enforced for integrations; or the password grant is disabled "
            f"on the whole instance (the system property {ROPC_DISABLED_PROPERTY} is true). "
            "Check the user under User "
            f"Administration > Users and the client under {REGISTRY}. Failed attempts count "
            "toward the user's lockout: fix the credentials before trying again."
        )
        if otp_sent:
            message += (
                " The one-time code (`otp`) is part of the password: it may have been mistyped or "
                "expired (enter the code your authenticator shows now)."
            )
        else:
            message += (
                " When the instance enforces MFA for integrations "
                "(glide.authenticate.multifactor.for_integrations) and the user is enrolled, the "
                'password must be followed by the current one-time code: add `otp = "${prompt}"`.'
            )
        # what a one-line notification shows: the warning must not be cut off
        summary = f"{origin} rejected the password grant. Retrying can lock the account: fix the credentials first."
        key = "password"
    elif grant_type == GRANT_REFRESH:
        message = f"{origin} rejected the refresh token{said}: it expired or was revoked. Fetch a new token."
        key = "refresh_token"
    elif grant_type == GRANT_CLIENT_CREDENTIALS:
        message = (
            f"{origin} rejected the client credentials grant{said}. Either the client "
            f"ID/secret is wrong, or the grant is not enabled on the instance (the system "
            f"property {CC_PROPERTY} must be true), or the client's record in {REGISTRY} has "
            'no "OAuth Application User".'
        )
        key = "client_secret"
    elif grant_type == GRANT_AUTHORIZATION_CODE:
        uri = f" ({redirect_uri})" if redirect_uri else ""
        message = (
            f"{origin} rejected the authorization code{said}. The code expired or was "
            f"already used, or redirect_uri{uri} differs from the Redirect URL registered in "
            f"{REGISTRY} (they are compared literally), or the PKCE verifier does not match. "
            "Start the sign-in again."
        )
        key = "redirect_uri"
    elif grant_type == GRANT_JWT_BEARER:
        sub = f" ({jwt_subject})" if jwt_subject else ""
        alg = f" ({jwt_algorithm})" if jwt_algorithm else ""
        kid = f" ({jwt_key_id})" if jwt_key_id else ""
        message = (
            f"{origin} rejected the JWT assertion{said}. Check that aud and iss equal the "
            f"client ID, that sub{sub} names the user the way the record's User Field "
            "expects, that the computer's clock is right (exp/iat), and that the "
            f"signature{alg} and kid{kid} match the JWT verifier map of the client's record "
            f'in {REGISTRY} ("Create an OAuth JWT API endpoint for external clients").'
        )
        key = "jwt_key_file"
    else:
        message = f"{origin} rejected the {grant_name(grant_type)}{said}."
        key = None
    message = f"{message} {TOKEN_FLOW_LOG}"
    return OAuthError("access-denied", message, key=key, status=status, summary=summary)


def pkce_failed(origin: str, detail: str, *, status: int | None) -> OAuthError:
    """The instance could not verify the code challenge with the code_verifier sent."""
    return OAuthError(
        "pkce-failed",
        f"{origin} could not verify the PKCE code challenge ({detail}): the code belongs to "
        "another sign-in than this one's verifier. An instance that remembers an earlier "
        "consent answers at once, so a code from an earlier sign-in (another browser tab, "
        "another snowauth run) can reach this one. Close older sign-in tabs and start the "
        f"sign-in again. {TOKEN_FLOW_LOG}",
        key="pkce",
        retryable=True,
        status=status,
    )


def unauthorized_client(origin: str, description: str, *, status: int | None) -> OAuthError:
    text = description or "unauthorized_client"
    return OAuthError(
        "unauthorized-client",
        f'{origin} refused the client: {text}. Set the "OAuth Application User" field '
        f"of the client's record in {REGISTRY} (the client credentials grant runs as that "
        f"user). {TOKEN_FLOW_LOG}",
        key="client_id",
        status=status,
    )


def invalid_request(origin: str, grant_type: str, error: str, description: str, *, status: int) -> OAuthError:
    said = f"{error}: {description}" if description else error
    return OAuthError(
        "invalid-request",
        f"{origin} refused the {grant_name(grant_type)} (HTTP {status}, {said}). Check the "
        f"connection's grant_type and the client's record in {REGISTRY}.",
        status=status,
    )


def hibernating(origin: str, *, status: int | None, wake_url: str | None = None) -> OAuthError:
    """``wake_url``: the developer portal link of the hibernation page (pages.wake_link)."""
    wake = f"open {wake_url} (the hibernation page's wake link) or " if wake_url else ""
    return OAuthError(
        "hibernating",
        f"The developer instance at {origin} is hibernating. Wake it: {wake}sign in at the "
        f"developer portal ({DEVELOPER_PORTAL}) and wake the instance; wait until it is up, "
        "then try again.",
        key="instance",
        retryable=True,
        status=status,
    )


def not_servicenow(
    url: str,
    *,
    status: int,
    content_type: str | None,
    what: str = "a ServiceNow token endpoint",
    detail: str | None = None,
) -> OAuthError:
    """``detail``: what is wrong with the JSON it sent, named from its shape alone
    (json_shapes.problem: no value from the body)."""
    kind = content_type or "no content type"
    said = f"; {detail}" if detail else ""
    return OAuthError(
        "not-servicenow",
        f"{url} did not answer like {what} (HTTP {status}, {kind}{said}). Check the instance "
        "URL; a single sign-on page or a proxy may be answering instead.",
        key="instance",
        status=status,
    )


def malformed_response(url: str, detail: str, *, status: int | None) -> OAuthError:
    return OAuthError(
        "malformed-response",
        f"{url} sent a malformed answer: {detail}. Check that the instance URL points at "
        "the ServiceNow instance itself, then try again.",
        key="instance",
        retryable=True,
        status=status,
    )


def rate_limited(
    origin: str,
    *,
    retry_after: float | None,
    attempts: int,
    max_wait: float,
    status: int = 429,
    reset_at: datetime | None = None,
    limit: str | None = None,
    rule: str | None = None,
) -> OAuthError:
    """429. ``reset_at``, ``limit`` and ``rule`` come from an inbound REST rate limit
    rule's headers (``X-RateLimit-Reset``, ``-Limit``, ``-Rule``; docs/servicenow.md)."""
    if retry_after is not None and retry_after > max_wait:
        detail = (
            f"it asks to wait {retry_after:g} s, longer than the {max_wait:g} s snowauth "
            f"waits. Try again in {retry_after:g} s"
        )
    elif attempts > 1:
        wait = f"{retry_after:g} s" if retry_after is not None else "a minute"
        detail = f"it still refused after {attempts} attempts. Wait {wait} and try again"
    else:
        wait = f"{retry_after:g} s" if retry_after is not None else "a minute"
        detail = f"wait {wait} and try again"
    if reset_at is not None or rule is not None:
        per_hour = f" of {scrub(limit, limit=20)} requests per hour" if limit else ""
        named = f" (sys_rate_limit_rules record {scrub(rule, limit=40)})" if rule else ""
        when = f" resets at {reset_at:%Y-%m-%d %H:%M:%S} UTC" if reset_at is not None else " applies"
        advice = (
            f"The inbound REST rate limit{per_hour}{named}{when}: wait until then, or ask an "
            "admin to raise or reset the rule (System Web Services > REST > Rate Limit Rules)."
        )
    else:
        advice = "If it keeps happening, check the instance's inbound REST rate limit rules."
    return OAuthError(
        "rate-limited",
        f"{origin} is rate limiting requests (HTTP 429): {detail}. {advice}",
        retryable=True,
        status=status,
    )


def server_error(origin: str, *, status: int, attempts: int) -> OAuthError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return OAuthError(
        "server-error",
        f"{origin} answered HTTP {status}{tries}: the instance had an error or is under "
        "maintenance. Try again later; if it persists, check the instance's system log "
        "(System Logs > System Log > All).",
        retryable=True,
        status=status,
    )


# --- transport ---------------------------------------------------------------------


def unreachable(origin: str, reason: str) -> OAuthError:
    return OAuthError(
        "unreachable",
        f"No instance answered at {origin}: {reason}. Check the instance name or URL, and the network (VPN, proxy).",
        key="instance",
        retryable=True,
    )


def timed_out(origin: str, seconds: float) -> OAuthError:
    return OAuthError(
        "timeout",
        f"No answer from {origin} within {seconds:g} s (the connection's timeout). Check "
        "the instance URL and the network, or raise timeout.",
        key="timeout",
        retryable=True,
    )


def tls_untrusted(host: str, reason: str) -> OAuthError:
    return OAuthError(
        "tls",
        f"The TLS certificate of {host} could not be verified ({reason}). If a corporate "
        "proxy or a private certificate authority signs it, set ca_bundle to a PEM file "
        "of that CA; verification is never switched off.",
        key="ca_bundle",
    )


def tls_failed(host: str, reason: str) -> OAuthError:
    return OAuthError(
        "tls",
        f"The TLS connection to {host} failed ({reason}). Check that the instance URL "
        "uses the right scheme and port, and ca_bundle if one is set.",
        key="ca_bundle",
    )


def ca_bundle_unreadable(path: str) -> OAuthError:
    return OAuthError(
        "tls",
        f"The ca_bundle file {path} could not be read as PEM certificates. Point "
        "ca_bundle at a PEM file of the extra certificate authorities.",
        key="ca_bundle",
    )


def proxy_auth_required(proxy: str) -> OAuthError:
    return OAuthError(
        "proxy",
        f"The proxy {proxy} asks for credentials (HTTP 407 Proxy Authentication Required). "
        "Put them in the proxy URL from your environment (HTTPS_PROXY, or proxy = "
        '"${env:NAME}" naming a variable that holds http://user:password@host:port); '
        "snowauth never shows them.",
        key="proxy",
        status=407,
    )


def proxy_refused(proxy: str, reason: str, *, status: int | None = None) -> OAuthError:
    return OAuthError(
        "proxy",
        f"The proxy {proxy} did not open a connection to the instance ({reason}). Check "
        "the proxy address (the connection's proxy, or HTTPS_PROXY/HTTP_PROXY of the "
        "environment), or add the instance's host to NO_PROXY if it is reached directly.",
        key="proxy",
        retryable=status is None or status >= 500,
        status=status,
    )


def client_cert_required(host: str, reason: str) -> OAuthError:
    return OAuthError(
        "client-certificate",
        f"{host} refused the TLS connection ({reason}): it asks for a client certificate "
        "(mutual TLS). Set client_cert and client_key to the PEM files your "
        "administrator issued, and client_key_password if the key is encrypted.",
        key="client_cert",
    )


def client_cert_rejected(host: str, reason: str) -> OAuthError:
    return OAuthError(
        "client-certificate",
        f"{host} rejected the client certificate ({reason}). Check that client_cert is "
        "the certificate issued for this instance and that it has not expired.",
        key="client_cert",
    )


def client_cert_unusable(path: str, reason: str) -> OAuthError:
    return OAuthError(
        "client-certificate",
        f"The client certificate {path} could not be used: {reason}. Point client_cert "
        "and client_key at PEM files, and client_key_password at the key's passphrase.",
        key="client_cert",
    )


def redirected(origin: str, target: str, *, status: int) -> OAuthError:
    return OAuthError(
        "redirect",
        f"{origin} answered with a redirect (HTTP {status}) to {target}. snowauth does not "
        "follow redirects while sending credentials: set instance to the instance's real "
        "address, or check for a single sign-on page or proxy in the way.",
        key="instance",
        status=status,
    )


def too_large(url: str, limit: int, *, status: int | None) -> OAuthError:
    return OAuthError(
        "response-too-large",
        f"{url} sent an answer larger than {_size(limit)}, which no ServiceNow endpoint "
        "sends here. Check the instance URL.",
        key="instance",
        status=status,
    )


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} bytes"


# --- the authorization code flow ----------------------------------------------------


def state_mismatch(redirect_uri: str) -> OAuthError:
    return OAuthError(
        "state-mismatch",
        f"The sign-in redirect to {redirect_uri} carried a state that does not match the "
        "one snowauth sent: it may come from another sign-in attempt or a forged request. "
        "Start the sign-in again.",
    )


def authorization_timeout(redirect_uri: str, seconds: float, *, ignored: int = 0) -> OAuthError:
    stray = (
        f" ({ignored} request{'s' if ignored != 1 else ''} without this sign-in's state "
        f"{'were' if ignored != 1 else 'was'} ignored: another program or page may be calling that address)"
        if ignored
        else ""
    )
    return OAuthError(
        "authorization-timeout",
        f"No sign-in redirect reached {redirect_uri} within {seconds:g} s{stray}. Finish signing "
        "in (click Allow) in the browser, and check that redirect_uri is registered exactly "
        f"on the client's record in {REGISTRY} ({redirect_uri}): an instance sends the "
        "browser to the first registered redirect URL when it does not match.",
        key="redirect_uri",
        retryable=True,
    )


def authorization_denied(error: str, description: str) -> OAuthError:
    if error == "access_denied":
        text = (
            "The sign-in was denied (access_denied): the user clicked Deny, or may not "
            "authorize this client. Start the sign-in again and click Allow."
        )
    else:
        said = f"{error}: {description}" if description else error
        text = (
            f"The instance refused the sign-in ({said}). Check the client's record in "
            f"{REGISTRY} (Redirect URL, Public client, Auth Scope)."
        )
    return OAuthError("authorization-denied", text)


def code_not_entered() -> OAuthError:
    return OAuthError(
        "sign-in-cancelled",
        "No code was pasted: the sign-in was cancelled and nothing was sent.",
    )


def code_timeout(seconds: float) -> OAuthError:
    return OAuthError(
        "authorization-timeout",
        f"No code was pasted within {seconds:g} s. Start the sign-in again, sign in in the "
        "browser and paste the code the page shows.",
        retryable=True,
    )


def code_unreadable(what: str) -> OAuthError:
    """The pasted answer is neither a code nor an address carrying one (``what`` says
    why without quoting it: it may be a secret pasted by mistake)."""
    return OAuthError(
        "code-unreadable",
        f"The pasted text is not a sign-in code ({what}). Paste the code the page shows after "
        "you sign in, or the whole address the browser landed on.",
    )


def needs_code_prompt(name: str) -> OAuthError:
    return OAuthError(
        "needs-prompt",
        f'Connection "{name}" signs in by pasting a code, and this editor cannot ask for one: '
        "run `snowauth token` in a terminal, or use an editor with snowauth's prompt (VS Code).",
    )


def listener_failed(redirect_uri: str, reason: str) -> OAuthError:
    return OAuthError(
        "listener-failed",
        f"Could not listen for the sign-in redirect on {redirect_uri} ({reason}). Close "
        "the program using that port, or register another loopback redirect_uri.",
        key="redirect_uri",
    )


def needs_browser(name: str) -> OAuthError:
    return OAuthError(
        "needs-browser",
        f'Connection "{name}" uses the authorization code grant, which needs a browser for '
        "the user to sign in; run it from an editor or a terminal that can open one.",
    )


# --- others ------------------------------------------------------------------------


def invalid_connection(key: str, text: str) -> OAuthError:
    return OAuthError("invalid-connection", text, key=key)


def jwt_key(detail: str) -> OAuthError:
    return OAuthError(
        "jwt-key",
        f"The JWT private key could not be used: {detail}. jwt_key_file must be an "
        "unencrypted PEM private key (PKCS#8 or traditional) that matches jwt_algorithm.",
        key="jwt_key_file",
    )


def jwt_shared_key(detail: str) -> OAuthError:
    return OAuthError(
        "jwt-shared-key",
        f"The JWT shared key could not be used: {detail}. jwt_shared_secret must be the "
        "Shared key of the JWT verifier map linked to the client's record (System OAuth > "
        "JWT Verifier Maps), at least 32 bytes for HS256, 48 for HS384, 64 for HS512.",
        key="jwt_shared_secret",
    )


def no_refresh_token(name: str) -> OAuthError:
    return OAuthError(
        "no-refresh-token",
        f'Connection "{name}" has no refresh token, and its grant needs a person to sign in: fetch a new token.',
        key="refresh_token",
    )


def revoke_failed(url: str, *, status: int) -> OAuthError:
    return OAuthError(
        "revoke-failed",
        f"{url} did not revoke the token (HTTP {status}). The token may still be valid "
        "until it expires; try again, or revoke it on the instance (System OAuth > Manage "
        "Tokens).",
        status=status,
    )


def not_authenticated(origin: str, *, status: int = 401) -> OAuthError:
    return OAuthError(
        "not-authenticated",
        f"{origin} did not accept the access token (HTTP 401, User Not Authenticated): it "
        "expired or was revoked. Refresh it or fetch a new token.",
        key="access_token",
        status=status,
    )


def missing_scope(origin: str, *, status: int = 403) -> OAuthError:
    return OAuthError(
        "missing-scope",
        f"{origin} refused the request (HTTP 403, Missing required api access scope): the "
        "OAuth client is not linked to the auth scope this REST API requires. Add that scope "
        f"(or useraccount, which opens every API) to the Auth Scopes of the client's record in "
        f"{REGISTRY}; the instance reads them at each request, so the same token works "
        "afterwards. Fetching a new token does not help.",
        key="scope",
        status=status,
    )
