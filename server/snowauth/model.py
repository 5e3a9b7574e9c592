"""The connection-file format: every key, its type, docs and per-grant rules.

This module is the single source of truth. Validation (``checks``), hover and
completion (``hover``, ``completion``), the JSON Schema (``schema``) and ``docs/reference.md`` all
read it. It is plain data (no pydantic) so that ``snowauth check`` starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

GRANT_PASSWORD = "password"
GRANT_REFRESH = "refresh_token"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_BEARER_ALIAS = "jwt_bearer"

GRANTS: tuple[str, ...] = (
    GRANT_PASSWORD,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH,
    GRANT_JWT_BEARER,
)

GRANT_DOCS: Mapping[str, str] = {
    GRANT_PASSWORD: (
        "Resource owner password grant: the connection logs in as a ServiceNow user "
        "(`username`, `password`). Needs `client_id` and `client_secret`."
    ),
    GRANT_CLIENT_CREDENTIALS: (
        "Client credentials grant: the application authenticates as itself and acts as "
        "the registry record's *OAuth Application User*. Off by default on instances: "
        "needs the system property `glide.oauth.inbound.client.credential.grant_type."
        "enabled = true` (Washington DC and later)."
    ),
    GRANT_AUTHORIZATION_CODE: (
        "Authorization code grant: the browser opens the instance's login page, the user "
        "clicks *Allow*, and the code comes back to `redirect_uri` on this machine. "
        "PKCE (S256) is on by default; a public client needs no `client_secret`."
    ),
    GRANT_REFRESH: ("Refresh token grant: exchanges a `refresh_token` obtained elsewhere for a new access token."),
    GRANT_JWT_BEARER: (
        "JWT bearer grant: a JWT signed with `jwt_key_file` is exchanged for a token. "
        "Needs a registry record made with *Create an OAuth JWT API endpoint for external "
        "clients* and a JWT verifier map. `jwt_bearer` is accepted as a short alias."
    ),
}

CLIENT_AUTH_VALUES: Mapping[str, str] = {
    "body": "Send `client_id` and `client_secret` as form fields (ServiceNow's documented way).",
    "basic": "Send `client_id` and `client_secret` in an HTTP Basic `Authorization` header.",
}
TOKEN_STORE_VALUES: Mapping[str, str] = {
    "file": "Write fetched tokens into `[connections.<name>.token]` of this file.",
    "cache": "Keep fetched tokens in your user cache folder only; this file is never written.",
    "keyring": (
        "Keep fetched tokens in the system keychain (macOS Keychain, Windows Credential Locker, "
        "the Secret Service on Linux); this file is never written."
    ),
}
REMEMBER_PROMPTS_VALUES: Mapping[str, str] = {
    "keyring": (
        "The command line asks once whether to remember each `${prompt}` answer in the system "
        "keychain; later runs (and editors without their own secret storage, such as Neovim) "
        "read it from there."
    ),
    "never": "Ask every time.",
}
JWT_ALGORITHMS: Mapping[str, str] = {
    **{
        alg: f"{'RSA PKCS#1 v1.5' if alg[0] == 'R' else 'ECDSA'} with SHA-{alg[2:]} (the key: `jwt_key_file`)."
        for alg in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
    },
    **{
        alg: f"HMAC with SHA-{alg[2:]}: the verifier map's shared key (`jwt_shared_secret`)."
        for alg in ("HS256", "HS384", "HS512")
    },
}


def jwt_shared(algorithm: object) -> bool:
    """True when ``jwt_algorithm`` signs with a shared key (HS256/384/512), not a key file."""
    return isinstance(algorithm, str) and algorithm.upper().startswith("HS")


REGISTRY = "System OAuth > Application Registry"

#: `client = "servicenow-sdk"`: the ServiceNow SDK's public OAuth client, shipped with
#: instances (its ID and redirect are in ``instance_records``; docs/decisions.md)
CLIENT_SDK = "servicenow-sdk"
CLIENT_VALUES: Mapping[str, str] = {
    CLIENT_SDK: (
        "ServiceNow's own SDK client (the one `now-sdk auth` uses), shipped with instances "
        "(the ServiceNow IDE 1.1 or later, on by default from the Australia release): no "
        "registry record to create and no client secret. The browser opens the instance's "
        "sign-in page (SSO and MFA work as usual) and the page it lands on shows a code to "
        "paste back. Authorization code with PKCE; `client_id`, `client_secret`, "
        "`redirect_uri` and `pkce` are not needed."
    ),
}
#: the keys the SDK client makes needless: its own ID and redirect, no secret, PKCE always
SDK_IGNORED_KEYS: tuple[str, ...] = ("client_id", "client_secret", "redirect_uri", "pkce")


@dataclass(frozen=True)
class KeySpec:
    """One key of a table of the file format."""

    name: str
    type: str  # "string" | "boolean" | "number" | "datetime"
    summary: str
    where: str = ""
    default: str | bool | int | None = None
    values: Mapping[str, str] | None = None  # allowed values -> their docs
    grants: frozenset[str] | None = None  # None: every grant; else ignored by the others
    secret: bool = False  # a literal value deserves a warning
    placeholder: str = '""'  # what a quick fix or completion inserts as the value

    def doc_markdown(self) -> str:
        parts = [f"**{self.name}** ({self.type})", "", self.summary]
        if self.where:
            parts += ["", f"*In ServiceNow:* {self.where}"]
        if self.default is not None:
            shown = str(self.default).lower() if isinstance(self.default, bool) else self.default
            parts += ["", f"Default: `{shown}`"]
        if self.grants is not None:
            names = ", ".join(f"`{g}`" for g in sorted(self.grants))
            parts += ["", f"Used by the grant {names}; ignored by the others."]
        return "\n".join(parts)


# keys whose value is a path of a file beside the connection file (confined like
# `${file:}`, watched, checked for existence)
FILE_KEYS: Final = ("jwt_key_file", "ca_bundle", "client_cert", "client_key")
PEM_KEYS: Final = ("ca_bundle", "client_cert", "client_key")


def _k(*specs: KeySpec) -> dict[str, KeySpec]:
    return {s.name: s for s in specs}


CONNECTION_KEYS: Mapping[str, KeySpec] = _k(
    KeySpec(
        "instance",
        "string",
        "The ServiceNow instance: a bare instance name (`dev12345` means "
        "`https://dev12345.service-now.com`) or an `https://` URL (custom domains, "
        "`*.servicenowservices.com`, on-premise hosts with a port and base path). `http://` "
        "is accepted only for loopback hosts.",
        where="the address bar of your instance; developer instances are listed at developer.servicenow.com.",
        placeholder='"dev12345"',
    ),
    KeySpec(
        "grant_type",
        "string",
        "The OAuth grant this connection runs at `/oauth_token.do`.",
        where=f"{REGISTRY}: the grant must be allowed for the registry record.",
        values={**GRANT_DOCS, JWT_BEARER_ALIAS: "Short alias of the JWT bearer grant."},
        placeholder='"password"',
    ),
    KeySpec(
        "client_id",
        "string",
        "The OAuth client ID (32 hexadecimal characters on real instances).",
        where=f"{REGISTRY} > your record > *Client ID*.",
        placeholder='""',
    ),
    KeySpec(
        "client",
        "string",
        "A client snowauth knows, instead of your own registry record: `servicenow-sdk` signs "
        "in with the ServiceNow SDK's public client (no `client_id`, `client_secret` or "
        "`redirect_uri`; `grant_type` may be left out). Its client ID is the one "
        "the SDK's CLI sends, or the value of the environment variable "
        "`SDK_OAUTH_APP_CLIENT_ID` of the process that runs snowauth (never a `.env`), as the "
        "SDK's own CLI reads it.",
        where="nothing to create: instances with the ServiceNow IDE (1.1 or later) ship the SDK client "
        "and its `/sdk-oauth.do` page that shows the code.",
        values=CLIENT_VALUES,
        grants=frozenset({GRANT_AUTHORIZATION_CODE}),
        placeholder='"servicenow-sdk"',
    ),
    KeySpec(
        "client_secret",
        "string",
        "The OAuth client secret. Prefer a reference such as `${env:SNOW_CLIENT_SECRET}` "
        "or `${prompt}` to a literal. Optional only for a public client (a record without "
        "a secret): `authorization_code` with `pkce = true`, `refresh_token` (a refresh "
        "token a public client was given, e.g. by the ServiceNow SDK's sign-in, is "
        "refreshed with `client_id` alone) and the JWT bearer grant; *PKCE required* on a "
        "record with a secret does not make it optional.",
        where=f"{REGISTRY} > your record > *Client Secret* (the padlock field).",
        secret=True,
        placeholder='"${env:SNOW_CLIENT_SECRET}"',
    ),
    KeySpec(
        "username",
        "string",
        "The ServiceNow user the password grant logs in as. The user must be active, not "
        "locked out, and allowed an interactive session (not *Web service access only*).",
        where="User Administration > Users > *User ID*.",
        grants=frozenset({GRANT_PASSWORD}),
        placeholder='""',
    ),
    KeySpec(
        "password",
        "string",
        "The password of `username`. Prefer `${env:…}` or `${prompt}` to a literal.",
        where="User Administration > Users > *Set Password*.",
        grants=frozenset({GRANT_PASSWORD}),
        secret=True,
        placeholder='"${prompt}"',
    ),
    KeySpec(
        "otp",
        "string",
        "The current one-time code of the user's authenticator, appended to the password "
        "when the instance enforces multi-factor authentication for integrations (the system "
        "property `glide.authenticate.multifactor.for_integrations`, for users enrolled in "
        'MFA). Always `"${prompt}"`: asked at each fetch and never stored or remembered.',
        where="the user's authenticator app (enrolled under *Multi-factor Authentication*).",
        grants=frozenset({GRANT_PASSWORD}),
        secret=True,
        placeholder='"${prompt}"',
    ),
    KeySpec(
        "refresh_token",
        "string",
        "A refresh token obtained elsewhere, exchanged by the `refresh_token` grant.",
        where="the answer of an earlier token request; System OAuth > Manage Tokens lists them.",
        grants=frozenset({GRANT_REFRESH}),
        secret=True,
        placeholder='"${env:SNOW_REFRESH_TOKEN}"',
    ),
    KeySpec(
        "redirect_uri",
        "string",
        "Where the browser brings the authorization code back, exactly as registered "
        "(ServiceNow compares it literally: `localhost` and `127.0.0.1` differ). An `http://` "
        "loopback URL with an explicit port (`127.0.0.1`, `[::1]` or `localhost`): snowauth "
        "listens there and gets the code itself. Any other address (`https://example.com/cb`, "
        "a page of the instance): after you sign in, paste the code the page shows, or the "
        "whole address the browser landed on.",
        where=f"{REGISTRY} > your record > *Redirect URL*.",
        grants=frozenset({GRANT_AUTHORIZATION_CODE}),
        placeholder='"http://127.0.0.1:53682/callback"',
    ),
    KeySpec(
        "pkce",
        "boolean",
        "Use PKCE (S256) in the authorization code flow: a code challenge goes with the "
        "sign-in and its verifier with the code. A record with *PKCE required* checked "
        "refuses a sign-in without it. Whether `client_secret` may be left out is a separate "
        "matter: only for a public client (a record without a secret), which always uses PKCE.",
        where=f"{REGISTRY} > your record > *PKCE required* (a checkbox of its own, separate "
        "from *Public Client*: a record can require PKCE and still have a secret).",
        default=True,
        grants=frozenset({GRANT_AUTHORIZATION_CODE}),
        values={"true": "Use PKCE S256.", "false": "Do not use PKCE."},
        placeholder="true",
    ),
    KeySpec(
        "jwt_key_file",
        "string",
        "Path of the PEM private key that signs the JWT assertion, relative to this file's "
        "folder (RS and ES algorithms; the HS ones use `jwt_shared_secret`).",
        where="System OAuth > JWT Keys holds the matching certificate; the JWT verifier map "
        "links it to the registry record.",
        grants=frozenset({GRANT_JWT_BEARER}),
        placeholder='"jwt-private-key.pem"',
    ),
    KeySpec(
        "jwt_subject",
        "string",
        "The JWT `sub` claim: the ServiceNow user, as the registry record's *User Field* "
        "expects (user name, email or sys_id).",
        where=f"{REGISTRY} > your JWT record > *User Field*.",
        grants=frozenset({GRANT_JWT_BEARER}),
        placeholder='""',
    ),
    KeySpec(
        "jwt_key_id",
        "string",
        "The JWT `kid` header, when the verifier map needs it.",
        where="System OAuth > JWT Verifier Maps > *Kid*.",
        grants=frozenset({GRANT_JWT_BEARER}),
        placeholder='""',
    ),
    KeySpec(
        "jwt_shared_secret",
        "string",
        "The shared key that signs the JWT assertion for `jwt_algorithm` = `HS256`, `HS384` "
        "or `HS512` (at least 32, 48 or 64 bytes). A secret: write a reference such as "
        '`"${env:SNOW_JWT_SHARED_SECRET}"`.',
        where="System OAuth > JWT Verifier Maps > your map > *Shared key*.",
        grants=frozenset({GRANT_JWT_BEARER}),
        secret=True,
        placeholder='"${env:SNOW_JWT_SHARED_SECRET}"',
    ),
    KeySpec(
        "jwt_audience",
        "string",
        "The JWT `aud` claim. Default: the client ID, which is what the registry record's "
        "*Client ID* field says it must match; set it when your verifier expects another "
        "audience (such as the token endpoint's URL).",
        where=f"{REGISTRY} > your JWT record > *Client ID*.",
        grants=frozenset({GRANT_JWT_BEARER}),
        placeholder='""',
    ),
    KeySpec(
        "jwt_algorithm",
        "string",
        "The JWT signing algorithm.",
        where="System OAuth > JWT Keys > *Signing Algorithm*.",
        default="RS256",
        grants=frozenset({GRANT_JWT_BEARER}),
        values=JWT_ALGORITHMS,
        placeholder='"RS256"',
    ),
    KeySpec(
        "scope",
        "string",
        "Space-separated OAuth scopes to request (e.g. `useraccount`).",
        where=f"{REGISTRY} > your record > *Auth Scopes*.",
        placeholder='"useraccount"',
    ),
    KeySpec(
        "client_auth",
        "string",
        "How the client authenticates at the token endpoint.",
        default="body",
        values=CLIENT_AUTH_VALUES,
        placeholder='"body"',
    ),
    KeySpec(
        "timeout",
        "number",
        "Seconds to wait for each HTTP request to the instance.",
        default=30,
        placeholder="30",
    ),
    KeySpec(
        "ca_bundle",
        "string",
        "A PEM file of extra certificate authorities to trust (corporate proxies), relative "
        "to this file's folder. TLS verification is never switched off.",
        placeholder='"corporate-ca.pem"',
    ),
    KeySpec(
        "proxy",
        "string",
        "The HTTP proxy to the instance, for example `http://proxy.corp:3128`; it overrides "
        "`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` of snowauth's own process environment (never "
        "read from a `.env`). Credentials go in a reference, never in the file: "
        '`proxy = "${env:CORP_PROXY}"` with `CORP_PROXY=http://user:password@proxy.corp:3128`. '
        "TLS to the instance is verified end to end through the proxy.",
        placeholder='"http://proxy.corp:3128"',
    ),
    KeySpec(
        "client_cert",
        "string",
        "A PEM client certificate for mutual TLS (an instance behind a gateway that asks for "
        "one), relative to this file's folder; it may hold the private key too.",
        placeholder='"client.pem"',
    ),
    KeySpec(
        "client_key",
        "string",
        "The PEM private key of `client_cert`, relative to this file's folder (left out: the key is in `client_cert`).",
        placeholder='"client-key.pem"',
    ),
    KeySpec(
        "client_key_password",
        "string",
        "The passphrase of an encrypted `client_key`.",
        secret=True,
        placeholder='"${env:SNOW_CLIENT_KEY_PASSWORD}"',
    ),
    KeySpec(
        "token_store",
        "string",
        "Where fetched tokens are kept.",
        default="file",
        values=TOKEN_STORE_VALUES,
        placeholder='"file"',
    ),
    KeySpec(
        "remember_prompts",
        "string",
        "Whether `${prompt}` answers (a password, a client secret) may be remembered in the "
        "system keychain. VS Code keeps its own (SecretStorage) and ignores this key; a "
        "one-time code (`otp`) is never remembered.",
        default="never",
        values=REMEMBER_PROMPTS_VALUES,
        placeholder='"keyring"',
    ),
    KeySpec(
        "auto_refresh",
        "boolean",
        "Keep the token fresh while the connection file is open in the editor: the language "
        "server refreshes it (with the stored refresh token only) when less than 2 minutes "
        "remain. It never prompts, never opens a browser and never asks to confirm the "
        "instance (the first *Fetch token* does). A connection with an "
        "`[connections.<name>.export]` table is kept fresh too. A failed refresh is shown "
        "once (a notification and a problem on the connection) and not retried until the "
        "connection (its text or its token) changes.",
        default=False,
        values={"true": "Refresh the token while the file is open.", "false": "Refresh only when asked."},
        placeholder="true",
    ),
)

TOKEN_TABLE = "token"

TOKEN_KEYS: Mapping[str, KeySpec] = _k(
    KeySpec(
        "access_token",
        "string",
        "The access token, written by *Fetch token*. Sent as `Authorization: Bearer …`.",
        where="System OAuth > Manage Tokens.",
        secret=True,
    ),
    KeySpec(
        "refresh_token",
        "string",
        "The refresh token, written by *Fetch token*; *Refresh* exchanges it.",
        where="System OAuth > Manage Tokens.",
        secret=True,
    ),
    KeySpec("token_type", "string", "The token type the instance answered (`Bearer`)."),
    KeySpec("scope", "string", "The scopes the instance granted."),
    KeySpec(
        "expires_at",
        "datetime",
        "When the access token expires (UTC). Access tokens live 1,800 s by default.",
        where=f"{REGISTRY} > your record > *Access Token Lifespan*.",
    ),
    KeySpec(
        "refresh_expires_at",
        "datetime",
        "When the refresh token expires (UTC), when known. Refresh tokens live 8,640,000 s (100 days) by default.",
        where=f"{REGISTRY} > your record > *Refresh Token Lifespan*.",
    ),
)

EXPORT_TABLE = "export"

EXPORT_KEYS: Mapping[str, KeySpec] = _k(
    KeySpec(
        "dotenv",
        "string",
        "A `.env` file, relative to this file's folder, kept fresh with the lines "
        "`SNOWAUTH_<NAME>_ACCESS_TOKEN` and `SNOWAUTH_<NAME>_INSTANCE_URL` (`<NAME>`: the "
        "connection's name in capitals, other characters as `_`). Every other line is kept. "
        "Read by REST Client's `{{$dotenv …}}`, httpYac, docker compose, python-dotenv.",
        placeholder='".env"',
    ),
    KeySpec(
        "http_client",
        "string",
        "An `http-client.private.env.json` (JetBrains HTTP Client, httpYac), relative to this "
        "file's folder, where the environment named after the connection gets `instance_url` "
        "and `access_token` (`{{access_token}}` in a request). Other environments and keys are kept.",
        placeholder='"http-client.private.env.json"',
    ),
    KeySpec(
        "postman",
        "string",
        "A Postman environment file, relative to this file's folder, whose `instance_url` and "
        "`access_token` (type secret) values are kept fresh; other values are kept. Import it "
        "in Postman as an environment.",
        placeholder='"postman_environment.json"',
    ),
)

TOP_KEYS: Mapping[str, KeySpec] = _k(
    KeySpec(
        "default",
        "string",
        "The connection the CLI (and editor commands without a connection) use when none is named.",
        placeholder='""',
    ),
)

CONNECTIONS_TABLE = "connections"
CONNECTIONS_DOC = (
    "**connections**: one table per named connection, e.g. `[connections.dev]`. "
    "Each holds an instance, a grant and its credentials."
)
EXPORT_TABLE_DOC = (
    "**export**: files other tools read the token from, rewritten after every fetch, refresh "
    "and revoke (`snowauth export` rewrites them on demand). Paths are relative to this "
    "file's folder and confined like `${file:}`: inside that folder, or a folder listed in "
    "`$SNOWAUTH_FILE_ROOTS`."
)
TOKEN_TABLE_DOC = "**token**: the tokens written by *Fetch token*. Users rarely type it; *Revoke* removes it."

SECRET_KEYS = frozenset(k for k, s in CONNECTION_KEYS.items() if s.secret)


def canonical_grant(value: str) -> str | None:
    """The canonical grant name for a ``grant_type`` value, or None when unknown."""
    if value == JWT_BEARER_ALIAS:
        return GRANT_JWT_BEARER
    return value if value in GRANTS else None


def required_keys(
    grant: str | None, *, pkce: bool = True, client: str | None = None, jwt_algorithm: object = None
) -> tuple[str, ...]:
    """The keys a connection with this (canonical) grant must have, in display order
    (with ``client = "servicenow-sdk"``: the instance only; the JWT bearer grant's key
    depends on ``jwt_algorithm``)."""
    if client == CLIENT_SDK:
        return ("instance",)
    keys = ["instance", "grant_type", "client_id"]
    if grant is None:
        return tuple(keys)
    if not (grant == GRANT_AUTHORIZATION_CODE and pkce) and grant not in (GRANT_JWT_BEARER, GRANT_REFRESH):
        # a public client has none: a JWT one, or one whose refresh token is refreshed
        # with client_id alone (docs/servicenow.md)
        keys.append("client_secret")
    keys += {
        GRANT_PASSWORD: ["username", "password"],
        GRANT_REFRESH: ["refresh_token"],
        GRANT_CLIENT_CREDENTIALS: [],
        GRANT_AUTHORIZATION_CODE: ["redirect_uri"],
        GRANT_JWT_BEARER: ["jwt_shared_secret" if jwt_shared(jwt_algorithm) else "jwt_key_file", "jwt_subject"],
    }[grant]
    return tuple(keys)


#: the grants Register OAuth Client makes a record for (JWT bearer needs keys and a
#: verifier map; a refresh token belongs to the client that issued it)
REGISTERABLE_GRANTS = frozenset({GRANT_PASSWORD, GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS})


def effective_grant(grant: str | None, client: str | None) -> str | None:
    """The grant a connection runs: ``grant`` (canonical) as written, else the one its
    ``client`` implies (the SDK client: authorization code)."""
    if grant is None and client == CLIENT_SDK:
        return GRANT_AUTHORIZATION_CODE
    return grant


def is_ignored(key: str, grant: str | None, client: str | None = None) -> bool:
    """True when a known connection key is ignored by this (canonical) grant, or by the
    ``client`` named (the SDK client ignores :data:`SDK_IGNORED_KEYS`)."""
    if client == CLIENT_SDK and key in SDK_IGNORED_KEYS:
        return True
    spec = CONNECTION_KEYS.get(key)
    return bool(spec and grant and spec.grants is not None and grant not in spec.grants)
