"""URL helpers that keep query strings (and so tokens) out of messages and logs."""

from __future__ import annotations

import httpx


def origin(url: str | httpx.URL) -> str:
    """``scheme://host[:port]`` of a URL: what messages name for "where"."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    host = parsed.host
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}"


def host(url: str | httpx.URL) -> str:
    """The bare host name of a URL (for progress messages)."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return parsed.host


def redact(url: str | httpx.URL) -> str:
    """Scheme, host, port and path of a URL; never user info, query or fragment."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return origin(parsed) + (parsed.path or "/")
