"""Which proxy a request goes through: the connection's ``proxy``, else the process's.

The proxy variables are read from snowauth's own PROCESS environment only
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``, upper or lower case,
lower case first as curl does), never from a workspace ``.env``: a cloned repository
must not route credentials through a proxy of its choosing (SECURITY.md). httpx's own
``trust_env`` is switched off so that this module is the one place that decides.

A proxy never weakens TLS: the instance's certificate is verified end to end through
the CONNECT tunnel, and an ``https://`` proxy's own certificate is verified too.
Proxy credentials (``http://user:password@host:port``) are registered with the log
filter and never shown: messages name the proxy by :func:`shown` (scheme, host, port).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from snowauth import redact


def _env(environ: Mapping[str, str], name: str) -> str | None:
    for key in (name.lower(), name.upper()):
        value = environ.get(key)
        if value is not None and value.strip():
            return value.strip()
    return None


def _host_matches(host: str, port: int | None, entry: str) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    if entry == "*":
        return True
    entry_port: int | None = None
    if entry.startswith("[") and "]" in entry:  # [::1]:8443
        inner, _, rest = entry[1:].partition("]")
        entry = inner
        if rest.startswith(":") and rest[1:].isdigit():
            entry_port = int(rest[1:])
    elif entry.count(":") == 1:
        name, _, maybe_port = entry.partition(":")
        if maybe_port.isdigit():
            entry, entry_port = name, int(maybe_port)
    if entry_port is not None and entry_port != port:
        return False
    try:  # an address or a network (10.0.0.0/8)
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        network = None
    if network is not None:
        try:
            return ipaddress.ip_address(host) in network
        except ValueError:
            return False
    domain = entry.lstrip("*").lstrip(".")
    return host == domain or host.endswith("." + domain)


def bypassed(host: str, port: int | None, no_proxy: str | None) -> bool:
    """Whether ``NO_PROXY`` (comma-separated hosts, domains, ``.suffix``, ``*``,
    addresses, CIDR networks, optional ``:port``) names this host."""
    if not no_proxy:
        return False
    host = host.strip("[]").lower()
    return any(_host_matches(host, port, entry) for entry in no_proxy.split(","))


def from_environment(
    url_scheme: str, host: str, port: int | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The proxy URL the process environment names for this destination, or None."""
    env = os.environ if environ is None else environ
    if bypassed(host, port, _env(env, "NO_PROXY")):
        return None
    proxy = _env(env, "HTTPS_PROXY") if url_scheme == "https" else _env(env, "HTTP_PROXY")
    proxy = proxy or _env(env, "ALL_PROXY")
    if proxy is None:
        return None
    if "://" not in proxy:  # curl's reading of `proxy.corp:3128`
        proxy = "http://" + proxy
    register(proxy)
    return proxy


def register(proxy: str | None) -> None:
    """Register a proxy URL's credentials with the log filter."""
    if not proxy:
        return
    try:
        parts = urlsplit(proxy)
    except ValueError:
        return
    if parts.password:
        redact.register(parts.password, unquote(parts.password), proxy)
    if parts.username and parts.password:
        redact.register(f"{parts.username}:{parts.password}")


def shown(proxy: str) -> str:
    """The proxy as messages may show it: scheme, host and port, never credentials."""
    try:
        parts = urlsplit(proxy)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "the proxy"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
