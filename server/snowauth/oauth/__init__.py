"""The token exchange against a ServiceNow instance (protocol-free, httpx-based).

:class:`OAuthClient` runs a :class:`ResolvedConnection`'s grant and gives back a
:class:`TokenSet`, or raises :class:`OAuthError` with a message fit for the user.
"""

from __future__ import annotations

from snowauth.oauth.client import OAuthClient, can_run_unattended
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.types import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    ResolvedConnection,
    TokenSet,
)

__all__ = [
    "GRANT_AUTHORIZATION_CODE",
    "GRANT_CLIENT_CREDENTIALS",
    "GRANT_JWT_BEARER",
    "GRANT_PASSWORD",
    "GRANT_REFRESH",
    "OAuthClient",
    "OAuthError",
    "ResolvedConnection",
    "TokenSet",
    "can_run_unattended",
]
