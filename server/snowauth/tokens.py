"""Values that cross the boundary between the core and the token exchange.

Secrets are held in fields excluded from ``repr`` so that a stray ``print`` or log
line of one of these objects never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from snowauth import redact

GRANT_PASSWORD = "password"
GRANT_REFRESH = "refresh_token"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class ResolvedConnection:
    """A connection whose secret references have been resolved, ready to send.

    ``base_url`` is the normalised instance URL without a trailing slash, e.g.
    ``https://dev12345.service-now.com`` or ``http://127.0.0.1:8080/base``.
    ``grant_type`` is canonical (the ``jwt_bearer`` alias already expanded).
    """

    name: str
    base_url: str
    grant_type: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # the one-time code appended to the password (MFA for integrations); never stored
    otp: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    pkce: bool = True
    jwt_key_pem: bytes | None = field(default=None, repr=False)
    jwt_subject: str | None = None
    jwt_key_id: str | None = None
    jwt_algorithm: str = "RS256"
    #: the JWT verifier map's Shared key (HS256/384/512)
    jwt_shared_secret: str | None = field(default=None, repr=False)
    #: the JWT ``aud`` claim; None: the client ID
    jwt_audience: str | None = None
    scope: str | None = None
    client_auth: str = "body"  # "body" | "basic"
    timeout: float = 30.0
    ca_bundle: str | None = None  # absolute path of a PEM file of extra CAs
    proxy: str | None = field(default=None, repr=False)  # the connection's proxy URL (may hold credentials)
    client_cert: str | None = None  # absolute path of a PEM client certificate (mutual TLS)
    client_key: str | None = None  # absolute path of its PEM private key (None: in client_cert)
    client_key_password: str | None = field(default=None, repr=False)
    # (key, `${env:…}`/`${file:…}`) for values read from a reference: messages name the
    # reference, never the value it resolved to (see snowauth.oauth.errors.shown)
    references: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        pem = self.jwt_key_pem.decode("ascii", "ignore").strip() if self.jwt_key_pem else None
        login = (self.password or "") + self.otp if self.password and self.otp else None
        redact.register(
            self.client_secret,
            self.password,
            self.otp,
            login,
            self.refresh_token,
            pem,
            self.client_key_password,
            self.jwt_shared_secret,
        )


@dataclass(frozen=True)
class TokenSet:
    """What a successful exchange returns. Datetimes are timezone-aware UTC."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        redact.register(self.access_token, self.refresh_token)
