"""The emulated instance's configuration: OAuth clients, users and system properties.

See the package docstring for the TOML format. Records are immutable; the emulator
keeps what changes at run time (failed logins, lockouts, tokens) in its state.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from snowauth import instance_records as ir

DEFAULT_ACCESS_TOKEN_LIFESPAN = 1800
DEFAULT_REFRESH_TOKEN_LIFESPAN = 8_640_000
DEFAULT_CODE_LIFESPAN = 60
DEFAULT_LOCKOUT_THRESHOLD = 5
DEFAULT_SCOPE = "useraccount"
JWT_USER_FIELDS = ("user_name", "email", "sys_id")
SDK_CLIENT_NAME = "ServiceNow SDK"

_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


class ConfigError(ValueError):
    """A configuration file (or value) the emulator cannot use; the message names it."""


@dataclass(frozen=True)
class UserRecord:
    """A ``sys_user`` row. ``password = None`` means the user cannot log in with one."""

    user_name: str
    password: str | None = field(default=None, repr=False)
    active: bool = True
    locked_out: bool = False
    web_service_only: bool = False
    sys_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    roles: tuple[str, ...] = ()
    #: the user's current one-time code (enrolled in MFA; a fixed code stands in for the
    #: authenticator's TOTP), None: not enrolled
    mfa_code: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.sys_id:
            derived = hashlib.sha256(self.user_name.encode("utf-8")).hexdigest()[:32]
            object.__setattr__(self, "sys_id", derived)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True)
class ClientRecord:
    """An Application Registry record ("OAuth API endpoint for external clients").

    ``scopes`` are the record's Auth Scopes: the scopes the client may request (empty:
    any), and, read at request time, the REST API auth scopes its tokens pass
    (``useraccount`` passes all of them).
    ``jwt_public_key_pem`` (a PEM public key or X.509 certificate) or ``jwt_shared_key``
    (HS256/384/512) enables the JWT bearer grant; the TOML key ``jwt_public_key_file``
    fills the first from a file.
    """

    name: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_uris: tuple[str, ...] = ()
    public: bool = False
    application_user: str | None = None
    access_token_lifespan: int = DEFAULT_ACCESS_TOKEN_LIFESPAN
    refresh_token_lifespan: int = DEFAULT_REFRESH_TOKEN_LIFESPAN
    jwt_public_key_file: str | None = None
    jwt_public_key_pem: bytes | None = None
    jwt_user_field: str = "user_name"
    jwt_key_id: str | None = None
    #: the JWT verifier map's Shared key (HS256/384/512); enables the grant too
    jwt_shared_key: str | None = field(default=None, repr=False)
    #: the ``aud`` the verifier takes; None: the client ID
    jwt_audience: str | None = None
    #: whether ``iss`` must be the client ID (the docs say "should match")
    jwt_check_issuer: bool = True
    #: the verifier map's Clock skew, seconds (ServiceNow's default: 0)
    jwt_clock_skew: int = 0
    scopes: tuple[str, ...] = ()
    active: bool = True
    sys_id: str = ""
    #: instance_records.ENTITY_TYPE_CLIENT for an OAuth API endpoint for external clients
    type: str = ir.ENTITY_TYPE_CLIENT
    #: OAuth Application User as written on the record: a sys_user sys_id (records
    #: created through the Table API); None: ``application_user`` (a user name) rules
    user_ref: str | None = None

    def __post_init__(self) -> None:
        if not self.sys_id:
            seed = f"{ir.OAUTH_ENTITY}/{self.client_id}".encode()
            object.__setattr__(self, "sys_id", hashlib.sha256(seed).hexdigest()[:32])


def sdk_client() -> ClientRecord:
    """The ServiceNow SDK's public client, shipped with instances (docs/servicenow.md):
    no secret, PKCE S256, its one redirect the relative ``/sdk-oauth.do``."""
    return ClientRecord(
        name=SDK_CLIENT_NAME,
        client_id=ir.SDK_CLIENT_ID,
        public=True,
        redirect_uris=(ir.SDK_REDIRECT_PATH,),
    )


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulated instance knows. ``clients`` is keyed by record name,
    ``users`` by user name."""

    clients: Mapping[str, ClientRecord] = field(default_factory=dict)
    users: Mapping[str, UserRecord] = field(default_factory=dict)
    client_credentials_enabled: bool = False
    lockout_threshold: int = DEFAULT_LOCKOUT_THRESHOLD
    auto_approve_user: str | None = None
    code_lifespan: int = DEFAULT_CODE_LIFESPAN
    sdk_client: bool = True
    oauth_active: bool = True
    password_grant_disabled: bool = False
    #: glide.authenticate.multifactor.for_integrations
    mfa_for_integrations: bool = False
    #: REST API Auth Scopes: an API path prefix → the auth scope it needs (none: any
    #: valid token; docs/servicenow.md "Scopes and JWT")
    api_scopes: Mapping[str, str] = field(default_factory=dict)
    #: the answer to client credentials on a record with no OAuth Application User
    #: (docs/servicenow.md: only "the request isn't passed" is documented)
    no_application_user: str = "unauthorized_client"
    #: an unregistered redirect_uri gets the client's first redirect URL (as the docs
    #: say an instance does); False refuses it with an error page
    redirect_fallback: bool = True
    #: the answer to a PKCE verifier that does not match: the folded 401 access_denied,
    #: or 401 invalid_request "can't verify code challenge" (neither confirmed)
    pkce_failure: str = "access_denied"
    source: str = "<config>"

    def client_by_id(self, client_id: str) -> ClientRecord | None:
        for client in self.clients.values():
            if client.client_id == client_id:
                return client
        return None


# --- loading -------------------------------------------------------------------------

NO_APPLICATION_USER_ANSWERS = ("unauthorized_client", "access_denied")
PKCE_FAILURE_ANSWERS = ("access_denied", "invalid_request")

if TYPE_CHECKING:
    from snowauth.emulator.config_shapes import Client


def _error(source: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {message}")


def _read_public_key(source: str, key: str, name: str, base_dir: Path | None) -> tuple[str, bytes]:
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise _error(source, key, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if b"BEGIN CERTIFICATE" in pem:
            x509.load_pem_x509_certificate(pem)
        else:
            load_pem_public_key(pem)
    except ValueError:
        raise _error(source, key, f"{path} is not a PEM public key or certificate") from None
    return str(path), pem


def _client(source: str, name: str, c: Client, base_dir: Path | None) -> ClientRecord:
    path = f"clients.{name}"
    if not c.client_id:
        raise _error(source, f"{path}.client_id", "is required")
    if c.public and c.client_secret is not None:
        raise _error(source, f"{path}.client_secret", "a public client has no secret")
    if not c.public and not c.client_secret:
        raise _error(source, f"{path}.client_secret", "is required (or set public = true)")
    key_file: str | None = None
    key_pem: bytes | None = None
    if c.jwt_public_key_file is not None:
        key_file, key_pem = _read_public_key(source, f"{path}.jwt_public_key_file", c.jwt_public_key_file, base_dir)
    user_field = c.jwt_user_field or "user_name"
    if user_field not in JWT_USER_FIELDS:
        raise _error(source, f"{path}.jwt_user_field", f"must be one of {', '.join(JWT_USER_FIELDS)}")
    return ClientRecord(
        name=name,
        client_id=c.client_id,
        client_secret=c.client_secret,
        redirect_uris=tuple(c.redirect_uris),
        public=c.public,
        application_user=c.application_user,
        access_token_lifespan=c.access_token_lifespan,
        refresh_token_lifespan=c.refresh_token_lifespan,
        jwt_public_key_file=key_file,
        jwt_public_key_pem=key_pem,
        jwt_user_field=user_field,
        jwt_key_id=c.jwt_key_id,
        jwt_shared_key=c.jwt_shared_key,
        jwt_audience=c.jwt_audience,
        jwt_check_issuer=c.jwt_check_issuer,
        jwt_clock_skew=c.jwt_clock_skew,
        scopes=tuple(c.scopes),
    )


def parse_config(data: Mapping[str, Any], source: str = "<config>", base_dir: Path | None = None) -> EmulatorConfig:
    """Build a config from parsed TOML. ``base_dir`` resolves relative key files. The
    tables' shapes are config_shapes'; the rules between them are here."""
    from pydantic import ValidationError

    from snowauth.emulator import config_shapes as shapes

    try:
        shape = shapes.Config.model_validate(dict(data))
    except ValidationError as exc:
        raise _error(source, *shapes.problem(exc)) from None
    users: dict[str, UserRecord] = {}
    for user_name, u in shape.users.items():
        if u.sys_id and not _SYS_ID.match(u.sys_id):
            raise _error(source, f"users.{user_name}.sys_id", "must be 32 lowercase hex digits")
        users[user_name] = UserRecord(
            user_name=user_name,
            password=u.password,
            active=u.active,
            locked_out=u.locked_out,
            web_service_only=u.web_service_only,
            sys_id=u.sys_id or "",
            first_name=u.first_name or "",
            last_name=u.last_name or "",
            email=u.email or "",
            roles=tuple(u.roles),
            mfa_code=u.mfa_code,
        )
    clients = {name: _client(source, name, c, base_dir) for name, c in shape.clients.items()}
    seen: dict[str, str] = {}
    for name, client in clients.items():
        if client.client_id in seen:
            raise _error(source, f"clients.{name}.client_id", f"same client_id as clients.{seen[client.client_id]}")
        seen[client.client_id] = name
        if client.application_user is not None and client.application_user not in users:
            raise _error(source, f"clients.{name}.application_user", f"no user {client.application_user!r} in [users]")
    for prefix, scope in shape.api_scopes.items():
        if not prefix.startswith("/api/"):
            raise _error(source, f"api_scopes.{prefix}", "must be an API path such as /api/now/table")
        if not isinstance(scope, str) or not scope:
            raise _error(source, f"api_scopes.{prefix}", "must be the name of an auth scope")
    props = shape.properties
    if props.auto_approve_user is not None and props.auto_approve_user not in users:
        raise _error(source, "properties.auto_approve_user", f"no user {props.auto_approve_user!r} in [users]")
    no_app_user = props.no_application_user or "unauthorized_client"
    if no_app_user not in NO_APPLICATION_USER_ANSWERS:
        raise _error(
            source, "properties.no_application_user", f"must be one of {', '.join(NO_APPLICATION_USER_ANSWERS)}"
        )
    pkce_failure = props.pkce_failure or "access_denied"
    if pkce_failure not in PKCE_FAILURE_ANSWERS:
        raise _error(source, "properties.pkce_failure", f"must be one of {', '.join(PKCE_FAILURE_ANSWERS)}")
    return EmulatorConfig(
        clients=clients,
        users=users,
        client_credentials_enabled=props.client_credentials_enabled,
        lockout_threshold=props.lockout_threshold,
        auto_approve_user=props.auto_approve_user,
        code_lifespan=props.code_lifespan,
        sdk_client=props.sdk_client,
        oauth_active=props.oauth_active,
        password_grant_disabled=props.password_grant_disabled,
        mfa_for_integrations=props.mfa_for_integrations,
        no_application_user=no_app_user,
        redirect_fallback=props.redirect_fallback,
        pkce_failure=pkce_failure,
        api_scopes=dict(shape.api_scopes),
        source=source,
    )


def load_config(path: str | Path) -> EmulatorConfig:
    """Read an emulator config file; :class:`ConfigError` names the file and key."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(file), base_dir=file.resolve().parent)


def default_config() -> EmulatorConfig:
    """The built-in demo instance (``default.toml`` in this package)."""
    text = resources.files("snowauth.emulator").joinpath("default.toml").read_text("utf-8")
    return parse_config(tomllib.loads(text), source="<built-in default.toml>")
