"""The checks of a connection's stored token: its keys' types, texts no token holds, and
an access token that has expired (with the quick fix that refreshes it, or fetches a new
one when it cannot be refreshed). The codes are listed in docs/decisions.md."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from snowauth import model
from snowauth.document import Connection
from snowauth.findings import ERROR, INFORMATION, Fix
from snowauth.token_text import CHECKED_KEYS as TOKEN_TEXT_KEYS
from snowauth.token_text import token_problem
from snowauth.wording import humanize

if TYPE_CHECKING:
    from snowauth.checks import Checker


def check_token(ch: Checker, c: Connection) -> None:
    """The token table of ``c``, reported to ``ch``."""
    for key, a in c.token.items():
        spec = model.TOKEN_KEYS[key]
        if not ch.check_type(a, spec, c.name):
            continue
        if spec.type == "datetime":
            dt = a.value.data
            assert isinstance(dt, datetime)
            if dt.tzinfo is None:
                ch.add(
                    a.value.start,
                    a.value.end,
                    ERROR,
                    "wrong-type",
                    f"`{key}` must be an offset date-time in UTC, e.g. `2026-11-28T10:29:59Z`",
                    connection=c.name,
                )
        elif key in TOKEN_TEXT_KEYS and isinstance(a.value.data, str):
            # a "token" with a line break would be pasted into a shell or a header
            bad = token_problem(key, a.value.data) if a.value.data or key.endswith("_token") else None
            if bad is not None:
                ch.add(
                    a.value.start,
                    a.value.end,
                    ERROR,
                    "invalid-token",
                    f"The stored {bad}. snowauth does not use it: delete the token and fetch a new one",
                    connection=c.name,
                )
    dt = c.token_expiry
    if dt is None or dt > ch.now:
        return
    expires = c.token["expires_at"]
    ago = humanize(ch.now - dt)
    if c.can_refresh(ch.now):
        msg = f"The access token of `{c.name}` expired {ago} ago: refresh it"
        fix = Fix("Refresh token", action="refresh", connection=c.name, preferred=True)
    else:
        msg = f"The access token of `{c.name}` expired {ago} ago and cannot be refreshed: fetch a new one"
        fix = Fix("Fetch token", action="fetch", connection=c.name, preferred=True)
    ch.add(
        expires.value.start,
        expires.value.end,
        INFORMATION,
        "token-expired",
        msg,
        fixes=[fix],
        connection=c.name,
    )
