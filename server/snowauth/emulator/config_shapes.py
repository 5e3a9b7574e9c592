"""The shape of the emulator's configuration (TOML, see the package docstring): its
``[properties]``, ``[clients.NAME]``, ``[users.NAME]`` and ``[api_scopes]`` tables, each
key's type, default and least value.

Unlike the models of what an instance answers (``json_shapes.Shape``: unknown keys
ignored), an unknown key is refused: the file is written by the person running the
emulator, and a misspelt key silently ignored would emulate another instance than the
one they meant. :func:`problem` says what is wrong in the words the configuration's
errors have always used ("clients.a.access_token_lifespan: must be at least 1"); the
rules between tables (a client's user exists, client IDs differ, a key file is a key)
stay in ``config.py``. Imported when a configuration is parsed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from snowauth.emulator.config import (
    DEFAULT_ACCESS_TOKEN_LIFESPAN,
    DEFAULT_CODE_LIFESPAN,
    DEFAULT_LOCKOUT_THRESHOLD,
    DEFAULT_REFRESH_TOKEN_LIFESPAN,
)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Properties(_Table):
    """``[properties]``: the instance's system properties and the emulator's modes."""

    client_credentials_enabled: bool = False
    lockout_threshold: Annotated[int, Field(ge=0)] = DEFAULT_LOCKOUT_THRESHOLD
    auto_approve_user: str | None = None
    code_lifespan: Annotated[int, Field(ge=1)] = DEFAULT_CODE_LIFESPAN
    sdk_client: bool = True
    oauth_active: bool = True
    password_grant_disabled: bool = False
    no_application_user: str | None = None
    redirect_fallback: bool = True
    pkce_failure: str | None = None
    mfa_for_integrations: bool = False


class Client(_Table):
    """``[clients.NAME]``: one record of the Application Registry."""

    client_id: str | None = None
    client_secret: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)
    public: bool = False
    application_user: str | None = None
    access_token_lifespan: Annotated[int, Field(ge=1)] = DEFAULT_ACCESS_TOKEN_LIFESPAN
    refresh_token_lifespan: Annotated[int, Field(ge=1)] = DEFAULT_REFRESH_TOKEN_LIFESPAN
    jwt_public_key_file: str | None = None
    jwt_user_field: str | None = None
    jwt_key_id: str | None = None
    jwt_shared_key: str | None = None
    jwt_audience: str | None = None
    jwt_check_issuer: bool = True
    jwt_clock_skew: Annotated[int, Field(ge=0)] = 0
    scopes: list[str] = Field(default_factory=list)


class User(_Table):
    """``[users.NAME]``: one user of ``sys_user``."""

    password: str | None = None
    active: bool = True
    locked_out: bool = False
    web_service_only: bool = False
    sys_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    roles: list[str] = Field(default_factory=list)
    mfa_code: str | None = None


class Config(_Table):
    """The whole file."""

    properties: Properties = Properties()
    clients: dict[str, Client] = Field(default_factory=dict)
    users: dict[str, User] = Field(default_factory=dict)
    api_scopes: dict[str, Any] = Field(default_factory=dict)


_TYPES = {
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "list_type": "must be an array of strings",
}
# the models under each path's last named part (what "unknown key" lists)
_TABLES: dict[str, type[_Table]] = {"properties": Properties, "clients": Client, "users": User}


def problem(exc: ValidationError) -> tuple[str, str]:
    """(key path, what is wrong) of the first error, in the configuration's words."""
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    if kind == "extra_forbidden":
        table = _TABLES.get(loc[0]) if len(loc) > 1 else None
        known = ", ".join(sorted((table or Config).model_fields))
        path = ".".join(loc) if len(loc) > 1 else f"(top level).{loc[0]}"
        return path, f"unknown key (known keys: {known})"
    if len(loc) == 4 and loc[2] in ("roles", "redirect_uris", "scopes"):  # an item of an array
        return ".".join(loc[:3]), "must be an array of strings"
    path = ".".join(loc)
    if kind in ("model_type", "dict_type"):
        named = len(loc) == 1 and loc[0] in ("clients", "users", "api_scopes")
        return path, "must be a table of tables" if named else "must be a table"
    if kind in ("greater_than_equal", "greater_than"):
        least = (error.get("ctx") or {}).get("ge", (error.get("ctx") or {}).get("gt"))
        return path, f"must be at least {least}"
    return path, _TYPES.get(kind, kind.replace("_", " "))
