"""The shapes of what ``/oauth_token.do`` answers: a token answer and an OAuth error.

A success is ``{"access_token", "refresh_token", "scope", "token_type", "expires_in"}``
(RFC 6749 section 5.1; what an instance sends: docs/servicenow.md), an OpenID Connect
answer adds ``id_token``; a failure is ``{"error", "error_description"}`` (section 5.2;
ServiceNow folds most failures into ``{"error": "server_error", "error_description":
"access_denied"}``). Every field is text or ``null`` (strict: a number where a token
belongs is a malformed answer), except ``expires_in``: an instance sends a number, some
answers send the number as text, and a meaningless value (``true``, ``"soon"``, a negative
number) means "no expiry known", as it always has (docs/decisions.md, "pydantic at the
network boundary"). The lifetime is capped at :data:`MAX_EXPIRES_IN`.

The models are read by ``responses.py``; what a failed validation means is built there.
"""

from __future__ import annotations

import math
from typing import Annotated, Final

from pydantic import BeforeValidator

from snowauth.json_shapes import Shape, field_names

# the longest lifetime taken from `expires_in`: an instance that claims more (1e300, a
# 400-digit integer) would overflow the date arithmetic; ten years is already "no expiry"
MAX_EXPIRES_IN: Final = 10 * 366 * 24 * 3600


def seconds(value: object) -> float | None:
    """`expires_in` as seconds: None when absent or meaningless (not a number, negative,
    NaN, infinite), at most :data:`MAX_EXPIRES_IN`."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return None if not isinstance(value, int) or value < 0 else float(MAX_EXPIRES_IN)
    if math.isnan(number) or number < 0:
        return None
    return min(number, float(MAX_EXPIRES_IN))  # +inf too: the lifetime is only bounded


class TokenAnswer(Shape):
    """A token endpoint's success (HTTP 2xx)."""

    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    scope: str | None = None
    id_token: str | None = None
    expires_in: Annotated[float | None, BeforeValidator(seconds)] = None


class ErrorAnswer(Shape):
    """A token endpoint's failure (HTTP 4xx): the OAuth error and its description."""

    error: str | None = None
    error_description: str | None = None


#: the names a message about these shapes may show
KNOWN: Final = field_names(TokenAnswer, ErrorAnswer)
