"""Defence in depth for logs: every secret the process handles is registered here, and
a logging filter replaces it in every record before any handler writes it.

The code already keeps secrets out of its messages; this catches what a library (pygls'
message trace at DEBUG, httpx, a traceback) would otherwise print.
"""

from __future__ import annotations

import logging
import threading

_MIN_LENGTH = 4  # shorter values are too common in ordinary text to replace safely
_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: list[str] = []
_sensitive_ids: set[str] = set()


def register(*values: str | None) -> None:
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_LENGTH and value not in _secrets:
                _secrets.add(value)
                _ordered.append(value)
                _ordered.sort(key=len, reverse=True)


def sensitive_message(msg_id: str) -> None:
    """A JSON-RPC message whose answer is a secret (a prompt): any log record naming its
    id is dropped whole, since the value is not known before it arrives."""
    with _lock:
        _sensitive_ids.add(msg_id)


def redact(text: str) -> str:
    if not _ordered:
        return text
    with _lock:
        secrets = list(_ordered)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _sensitive_ids:
            message = record.getMessage()
            if any(msg_id in message for msg_id in list(_sensitive_ids)):
                record.msg, record.args, record.exc_info, record.exc_text = (
                    "[redacted: a secret answer]",
                    None,
                    None,
                    None,
                )
                return True
        if _ordered:
            message = record.getMessage()
            cleaned = redact(message)
            if record.exc_info:
                formatter = logging.Formatter()
                cleaned += "\n" + redact(formatter.formatException(record.exc_info))
                record.exc_info = None
                record.exc_text = None
            if cleaned != message or record.args:
                record.msg, record.args = cleaned, None
        return True


def install(handler: logging.Handler) -> None:
    handler.addFilter(RedactingFilter())
