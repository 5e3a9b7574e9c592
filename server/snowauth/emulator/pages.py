"""The HTML the emulated instance serves. Every interpolated value is escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:36em;margin:3em auto;}"
        "label{display:block;margin:.6em 0}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )


#: the page's wake link: the portal's instance page with ``wu=true`` (the exact URL a
#: real page carries is not confirmed: docs/servicenow.md, "Fidelity")
WAKE_URL = "https://developer.servicenow.com/dev.do#!/home?wu=true"


def hibernating_page() -> str:
    """What a sleeping developer instance answers on every path, with status 200: its
    title, the ``instance-hibernating-page`` class, the heading and a wake link."""
    return _page(
        "ServiceNow Developers | Instance Hibernating page",
        '<div class="instance-hibernating-page">\n'
        "<h1>Your instance is hibernating</h1>\n"
        "<p>This developer instance is hibernating due to inactivity. "
        f'<a href="{escape(WAKE_URL)}">Wake your instance</a> from the developer portal.</p>\n'
        "</div>",
    )


def unavailable_page() -> str:
    return _page(
        "Service Unavailable",
        "<h1>Service Unavailable</h1>\n<p>The instance is temporarily unavailable.</p>",
    )


def not_found_page(path: str) -> str:
    return _page("Not Found", f"<h1>Not Found</h1>\n<p>No page at {escape(path)}.</p>")


def status_page(status: int, reason: str) -> str:
    """A bare page for protocol-level answers (405, 411, 413, …)."""
    return _page(f"{status} {reason}", f"<h1>{status} {escape(reason)}</h1>")


def error_page(message: str) -> str:
    """An authorize error that cannot be sent back to the client (no redirect)."""
    return _page(
        "OAuth error",
        f'<h1>OAuth error</h1>\n<p id="error">{escape(message)}</p>',
    )


def login_page(params: Mapping[str, str], client_name: str, error: str | None = None) -> str:
    """The login-and-consent form of ``/oauth_auth.do``; it posts back to itself."""
    hidden = "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())
    notice = f'<p id="error" role="alert">{escape(error)}</p>\n' if error else ""
    return _page(
        "Log in | ServiceNow",
        f"<h1>Log in</h1>\n<p>{escape(client_name)} would like to connect to your "
        f"ServiceNow account.</p>\n{notice}"
        '<form method="post" action="/oauth_auth.do">\n'
        f"{hidden}\n"
        '<label>User name <input name="user_name" autocomplete="username"></label>\n'
        '<label>Password <input name="user_password" type="password" '
        'autocomplete="current-password"></label>\n'
        '<button type="submit" name="action" value="allow">Allow</button>\n'
        '<button type="submit" name="action" value="deny">Deny</button>\n'
        "</form>",
    )


def sdk_code_page(code: str, error: str = "") -> str:
    """``/sdk-oauth.do``: the page the ServiceNow SDK's redirect lands on, showing the
    authorization code to copy into the SDK's prompt (the real page's HTML is not
    published: docs/servicenow.md). An ``error`` from authorize is shown instead."""
    if error or not code:
        message = f"Authorization failed: {error}" if error else "No authorization code."
        return _page(
            "ServiceNow SDK | Authorization",
            f'<h1>Authorization failed</h1>\n<p id="error" role="alert">{escape(message)}</p>',
        )
    return _page(
        "ServiceNow SDK | Authorization code",
        "<h1>Authentication code</h1>\n"
        "<p>Copy this code and paste it into the command line.</p>\n"
        f'<p><code id="oauth-code">{escape(code)}</code></p>\n'
        '<button type="button" id="copy" '
        "onclick=\"navigator.clipboard.writeText(document.getElementById('oauth-code').textContent)\">"
        "Copy</button>",
    )


def index_page() -> str:
    rows = "".join(
        f"<li><code>{escape(method)} {escape(path)}</code>: {escape(what)}</li>"
        for method, path, what in (
            ("POST", "/oauth_token.do", "token endpoint (every grant)"),
            ("GET", "/oauth_auth.do", "authorize (login and consent)"),
            ("GET", "/sdk-oauth.do", "the ServiceNow SDK's page that shows the code"),
            ("GET/POST", "/oauth_revoke_token.do", "revoke a token"),
            ("GET", "/api/now/table/sys_user", "REST table API (Bearer token)"),
            ("GET", "/api/now/ui/user/current_user", "who am I (Bearer token)"),
        )
    )
    return _page(
        "snowauth emulator",
        "<h1>snowauth ServiceNow emulator</h1>\n"
        "<p>A local stand-in for a ServiceNow instance's OAuth endpoints.</p>\n"
        f"<ul>{rows}</ul>",
    )
