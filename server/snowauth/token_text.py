"""What characters a token may hold (pure; used on receipt, on reading a stored token
and before printing one).

A token is pasted into shells (`eval "$(snowauth token --format env)"`), HTTP headers
and the connection file. A connection file is untrusted input, and so is what an
instance answers: a "token" holding a line break and `$(…)` would run a command in the
user's shell, add a header, or add lines to the file. RFC 6749 (appendix A) allows only
visible ASCII and the space (VSCHAR, %x20-7E) in access and refresh tokens, and RFC 6750
only b64token characters in an `Authorization: Bearer` header; anything else is refused.
"""

from __future__ import annotations

import re

_VSCHAR = re.compile(r"[\x20-\x7e]+")
_NOT_VSCHAR = re.compile(r"[^\x20-\x7e]")
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

# the keys of a token answer (and of the token table) that are checked, and what they may hold
CHECKED_KEYS = ("access_token", "refresh_token", "token_type", "scope")
ALLOWED = "only visible ASCII characters and spaces"


def is_token_text(value: str) -> bool:
    """True when ``value`` is a non-empty string of visible ASCII characters and spaces."""
    return _VSCHAR.fullmatch(value) is not None


def is_b64token(value: str) -> bool:
    """True when ``value`` may follow `Bearer ` in an Authorization header."""
    return _B64TOKEN.fullmatch(value) is not None


def token_problem(key: str, value: str) -> str | None:
    """Why ``value`` cannot be the token key ``key``, or None. Never quotes the value:
    only the code point of the first bad character and its position."""
    if value == "":
        return f"`{key}` is empty"
    bad = _NOT_VSCHAR.search(value)
    if bad is None:
        return None
    code = ord(bad.group())
    return (
        f"`{key}` holds a character no token has (U+{code:04X} at position {bad.start() + 1}): "
        f"a token holds {ALLOWED} (RFC 6749)"
    )
