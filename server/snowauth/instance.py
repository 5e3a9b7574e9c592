"""Instance addresses and loopback URLs: validation and normalisation (pure)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_HOST = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?"
)
_SERVICE_NOW = re.compile(r"([A-Za-z0-9-]+)\.service-now\.com/?", re.IGNORECASE)
# `https://` and a host name alone, the usual URL: its base URL without taking it apart
# (``urlsplit`` and the checks after it find nothing else to say of one; a test holds both equal)
_PLAIN_HTTPS = re.compile(r"https://([A-Za-z0-9.-]+)")


class InstanceError(ValueError):
    """An invalid address. ``code`` is the diagnostic code, ``suggestion`` a fix,
    ``reason`` what is wrong without quoting any part of the value."""

    def __init__(
        self,
        message: str,
        code: str = "invalid-instance",
        suggestion: str | None = None,
        *,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.suggestion = suggestion
        self.reason = reason or message


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def instance_url(value: str, *, reference: str | None = None) -> str:
    """The base URL (no trailing slash) of an ``instance`` value, or InstanceError.

    ``reference`` is the `${env:…}`/`${file:…}` the value was read from: the message then
    names the reference and quotes no part of the value. A file written by someone else
    may point `instance` at any variable or file of the user's; what it holds must not
    be shown to whoever reads the messages or the log."""
    try:
        return _instance_url(value)
    except InstanceError as exc:
        if reference is None:
            raise
        raise InstanceError(
            f"the value of `{reference}` is not a valid instance: {exc.reason}", code=exc.code, reason=exc.reason
        ) from None


def _instance_url(value: str) -> str:
    value = value.strip()
    if not value:
        raise InstanceError("`instance` is empty: write the instance name (e.g. `dev12345`) or its https:// URL")
    if "://" not in value:
        if _LABEL.fullmatch(value):
            return f"https://{value.lower()}.service-now.com"
        m = _SERVICE_NOW.fullmatch(value)
        if m:
            raise InstanceError(
                f"`{value}` is a host name without a scheme: write the bare instance name "
                f"`{m.group(1)}` or `https://{value.rstrip('/')}`",
                suggestion=m.group(1),
                reason="it is a host name without a scheme: give the bare instance name or an https:// URL",
            )
        if _HOST.fullmatch(value.split("/", 1)[0].split(":", 1)[0]):
            fixed = "https://" + value.rstrip("/")
            raise InstanceError(
                f"`{value}` has no scheme: write `{fixed}` (or a bare instance name such as `dev12345`)",
                suggestion=fixed,
                reason="it has no scheme: give an https:// URL or a bare instance name such as `dev12345`",
            )
        raise InstanceError(
            f"`{value}` is not an instance name (letters, digits and hyphens, like `dev12345`) or an https:// URL",
            reason="it is neither an instance name (letters, digits and hyphens, like `dev12345`) nor an https:// URL",
        )
    m = _PLAIN_HTTPS.fullmatch(value)
    if m is not None and _HOST.fullmatch(host := m.group(1).lower()):
        return f"https://{host}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InstanceError(f"`{value}` is not a valid URL: {exc}", reason="it is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InstanceError(
            f"`instance` must use https:// (found `{parts.scheme}://`)", reason="it does not use https://"
        )
    host = parts.hostname or ""
    if not host:
        raise InstanceError(f"`{value}` has no host name", reason="it has no host name")
    if parts.username is not None or parts.password is not None:
        raise InstanceError("`instance` must not contain a user name or password: use the connection's keys")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise InstanceError(
            "`instance` must not have a query (`?…`) or fragment (`#…`): give the instance's base URL",
            suggestion=f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}",
        )
    bare = host.strip("[]")
    if not (_HOST.fullmatch(bare) or _is_ip(bare)):
        raise InstanceError(f"`{host}` is not a valid host name", reason="its host name is not valid")
    if scheme == "http" and not is_loopback_host(host):
        raise InstanceError(
            f"`http://` sends credentials in clear text: use `https://{parts.netloc}{parts.path}` "
            "(plain http is allowed only for loopback hosts such as 127.0.0.1)",
            code="insecure-instance",
            suggestion=f"https://{parts.netloc}{parts.path.rstrip('/')}",
            reason="it uses `http://`, which sends credentials in clear text (plain http is allowed only for "
            "loopback hosts such as 127.0.0.1): use https://",
        )
    netloc = parts.netloc.lower() if port is None else f"{parts.netloc.rsplit(':', 1)[0].lower()}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def pastes_code(redirect_uri: str) -> bool:
    """Whether the sign-in ends with the person pasting the code: ``redirect_uri`` is not
    on this machine (an `http(s)://` URL of another host, or a path of the instance such
    as the SDK's `/sdk-oauth.do`). A loopback address is for snowauth's listener: it is
    checked by :func:`check_redirect_uri` (an https or port-less one is a mistake there)."""
    if redirect_uri.startswith("/") and not redirect_uri.startswith("//"):
        return True
    try:
        parts = urlsplit(redirect_uri)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme.lower() in ("http", "https") and bool(host) and not is_loopback_host(host)


def check_redirect_uri(value: str) -> str | None:
    """None when ``value`` is a usable loopback redirect URI, else the problem."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"`{value}` is not a valid URL: {exc}"
    if parts.scheme != "http":
        return "`redirect_uri` must be an `http://` loopback URL such as `http://127.0.0.1:53682/callback`"
    host = (parts.hostname or "").lower()
    if host not in ("127.0.0.1", "::1", "localhost"):
        return (
            f"`redirect_uri` must point at this machine (127.0.0.1, [::1] or localhost), not `{host}`: "
            "snowauth listens there for the authorization code"
        )
    if not port:  # none, or 0 (a random port cannot match the registered URL)
        return (
            "`redirect_uri` needs an explicit port, e.g. `http://127.0.0.1:53682/callback`, "
            "as registered on the instance"
        )
    if parts.fragment:
        return "`redirect_uri` must not have a fragment (`#…`)"
    return None


def check_proxy_url(proxy: str) -> str | None:
    """What is wrong with a ``proxy`` URL (http or https, a host, a port), or None."""
    try:
        parts = urlsplit(proxy)
        port = parts.port
    except ValueError as exc:
        return f"`proxy` is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "`proxy` must start with http:// or https:// (for example http://proxy.corp:3128)"
    if not parts.hostname:
        return "`proxy` names no host (for example http://proxy.corp:3128)"
    if parts.path not in ("", "/") or parts.query or parts.fragment or port == 0:
        return "`proxy` holds only a scheme, a host and a port (for example http://proxy.corp:3128)"
    return None


def proxy_has_password(proxy: str) -> bool:
    """Whether a proxy URL carries a password (a secret written in the file)."""
    try:
        return bool(urlsplit(proxy).password)
    except ValueError:
        return False
