"""Log filters that keep secrets out of httpx's and httpcore's own log records.

httpx logs each request's URL at INFO (a revoke falling back to ``GET ?token=`` would
put the token there); httpcore logs the response headers at DEBUG (``Set-Cookie``
session cookies, a ``Location`` that may carry anything). Installed once on those
libraries' loggers by :func:`install`; records keep the method, host, path and status.
"""

from __future__ import annotations

import logging
import re
from typing import Final

import httpx

from snowauth.oauth.urls import redact

_HTTPCORE_LOGGERS: Final = (
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.connection",
    "httpcore.proxy",
    "httpcore.socks",
)
_RESPONSE_HEADERS: Final = re.compile(
    r"^(receive_response_headers\.complete return_value=\((?:b'[^']*', )?\d+, b'[^']*'), \[.*\]\)$",
    re.DOTALL,
)


class RedactUrlFilter(logging.Filter):
    """Strips query strings from the URLs httpx puts into its log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL) for a in args):
            record.args = tuple(redact(a) if isinstance(a, httpx.URL) else a for a in args)
        return True


class RedactHeadersFilter(logging.Filter):
    """Drops the response header list from httpcore's trace records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("receive_response_headers"):
            match = _RESPONSE_HEADERS.match(record.msg)
            if match is not None:
                record.msg = f"{match.group(1)}, [headers not logged])"
            elif record.msg.startswith("receive_response_headers.complete"):
                record.msg = "receive_response_headers.complete [not logged]"
        return True


_URL_FILTER: Final = RedactUrlFilter()
_HEADERS_FILTER: Final = RedactHeadersFilter()


def install() -> None:
    """Add the filters (once) to httpx's and httpcore's loggers."""
    httpx_logger = logging.getLogger("httpx")
    if _URL_FILTER not in httpx_logger.filters:
        httpx_logger.addFilter(_URL_FILTER)
    for name in _HTTPCORE_LOGGERS:
        logger = logging.getLogger(name)
        if _HEADERS_FILTER not in logger.filters:
            logger.addFilter(_HEADERS_FILTER)
