"""From a checked connection to one ready to send: pick it, refuse it while it has
errors, resolve its secret references (at fetch time only)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from snowauth import instance_records as records
from snowauth import model
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.findings import ERROR
from snowauth.instance import InstanceError, instance_url
from snowauth.secrets import (
    Environment,
    ReferenceSyntaxError,
    SecretUnavailable,
    file_reference_path,
    parse_reference,
)
from snowauth.tokens import ResolvedConnection, TokenSet
from snowauth.trust import SYSTEM_TRUST, TrustError, TrustSettings, ca_bundle_settings

AsyncPrompt = Callable[[str, str], Awaitable[str | None]]  # (connection, key) -> value


class ConnectionProblem(Exception):
    """The connection cannot be used as it is; the message says what to fix.

    ``key`` names the key to fix where one is clear. Never holds a secret."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def select(a: Analysis, name: str | None, offset: int | None) -> Connection:
    """The connection named, else the one at ``offset``, else the default or the only one."""
    if name is not None:
        c = a.connections.get(name)
        if c is None:
            known = ", ".join(f"`{n}`" for n in a.connections) or "none"
            raise ConnectionProblem(f"There is no connection `{name}` in this file (connections here: {known})")
        return c
    if offset is not None:
        c = a.connection_at(offset)
        if c is not None:
            return c
    default = a.layout.default
    if default is not None and default[1].kind == "string":
        c = a.connections.get(str(default[1].data))
        if c is not None:
            return c
    if len(a.connections) == 1:
        return next(iter(a.connections.values()))
    if not a.connections:
        raise ConnectionProblem("This file has no connection: add a `[connections.<name>]` table")
    raise ConnectionProblem(
        "Name the connection to use (this file has several and no `default`): "
        + ", ".join(f"`{n}`" for n in a.connections)
    )


def errors_of(a: Analysis, c: Connection, *, allow_missing: Collection[str] = ()) -> list[str]:
    """Error messages that concern the connection (checked before anything is sent).
    ``allow_missing``: keys whose absence is no error here (Register OAuth client writes
    them: ``client_id``, ``client_secret``)."""
    lo, hi = c.extent if c.segments else c.header
    # the missing-key findings of those keys (checks.py words them so)
    allowed = tuple(f"The connection `{c.name}` is missing `{key}`" for key in allow_missing)
    out = []
    for f in a.findings:
        if f.severity != ERROR:
            continue
        if allowed and f.code == "missing-key" and f.message.startswith(allowed):
            continue
        if f.connection == c.name or (f.connection is None and lo <= f.start <= hi):
            out.append(f.message)
    return out


def _value(c: Connection, key: str) -> object | None:
    a = c.keys.get(key)
    return a.value.data if a is not None else None


def stored_tokens(c: Connection) -> TokenSet | None:
    """The tokens written in the connection's token table, when there is an access token.

    A token holding characters no token has (a line break, `$(…)` on a new line) is not
    used: the file is untrusted, and the token is pasted into shells and headers."""
    from snowauth.token_text import is_token_text

    t = c.token
    access = t.get("access_token")
    if access is None or access.value.kind != "string" or not is_token_text(str(access.value.data)):
        return None

    def text(key: str) -> str | None:
        a = t.get(key)
        ok = a is not None and a.value.kind == "string" and is_token_text(str(a.value.data))
        return str(a.value.data) if ok and a is not None else None

    return TokenSet(
        access_token=str(access.value.data),
        token_type=text("token_type") or "Bearer",
        refresh_token=text("refresh_token"),
        scope=text("scope"),
        expires_at=c.token_expiry,
        refresh_expires_at=c.refresh_expiry,
    )


def token_store(c: Connection) -> str:
    v = _value(c, "token_store")
    return v if isinstance(v, str) and v in model.TOKEN_STORE_VALUES else "file"


def remember_prompts(c: Connection) -> str:
    """Where `${prompt}` answers may be remembered: "keyring" or "never"."""
    v = _value(c, "remember_prompts")
    return v if isinstance(v, str) and v in model.REMEMBER_PROMPTS_VALUES else "never"


@dataclass(frozen=True)
class Destination:
    """Where a connection's credentials go: the instance URL and the trust settings that
    decide which server is accepted there (a ``ca_bundle``).

    Read once, before anything is sent: the user confirms these values and the request
    uses these same values. Reading ``instance = "${file:…}"`` again for the request would
    let the file name another host after the confirmation."""

    base_url: str
    trust: TrustSettings = SYSTEM_TRUST


def _reference_free(c: Connection, key: str, env: Environment) -> str | None:
    """A non-secret value, its `${env:}`/`${file:}` reference resolved (`${prompt}`: None)."""
    raw = _value(c, key)
    if raw is None:
        return None
    value = str(raw)
    ref = parse_reference(value)
    if ref is None:
        return value
    if ref.kind == "prompt":
        return None
    from snowauth.secrets import resolve as resolve_value

    try:
        return resolve_value(value, key, env)
    except SecretUnavailable as exc:
        raise ConnectionProblem(str(exc), key) from None


def _reference_text(c: Connection, key: str) -> str | None:
    """The `${env:…}`/`${file:…}` reference a key's value is read from, or None: messages
    name it instead of quoting the value it resolved to."""
    raw = _value(c, key)
    try:
        ref = parse_reference(str(raw)) if isinstance(raw, str) else None
    except ReferenceSyntaxError:
        return None
    return ref.describe() if ref is not None and ref.kind != "prompt" else None


def _refuse_errors(a: Analysis, c: Connection, allow_missing: Collection[str] = ()) -> None:
    """ConnectionProblem when the connection has any Error: nothing half right is sent."""
    problems = errors_of(a, c, allow_missing=allow_missing)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConnectionProblem(f"Fix the connection `{c.name}` first: {problems[0]}{more}")


def destination(a: Analysis, c: Connection, env: Environment, *, allow_missing: Collection[str] = ()) -> Destination:
    """Where the connection would send, without resolving any secret (to confirm it before
    a prompt or a send). ConnectionProblem when the connection has errors (but the
    absence of the keys in ``allow_missing``)."""
    _refuse_errors(a, c, allow_missing)
    value = _reference_free(c, "instance", env)
    try:
        url = instance_url(value or "", reference=_reference_text(c, "instance"))
    except InstanceError as exc:
        raise ConnectionProblem(f"`instance` of `{c.name}`: {exc}", "instance") from None
    ca_bundle = _reference_free(c, "ca_bundle", env)
    if not ca_bundle:
        return Destination(url)
    try:
        trust = ca_bundle_settings(file_reference_path(ca_bundle, env.folder))
    except TrustError as exc:
        raise ConnectionProblem(f"`ca_bundle`: {exc}", "ca_bundle") from None
    return Destination(url, trust)


async def resolve(
    a: Analysis,
    c: Connection,
    env: Environment,
    prompt: AsyncPrompt | None,
    *,
    need_secrets: bool = True,
    no_prompt: frozenset[str] = frozenset(),
    target: Destination | None = None,
) -> ResolvedConnection:
    """A ResolvedConnection for ``c``; ConnectionProblem when it has errors or a secret is
    unavailable. ``need_secrets=False`` resolves only what revoke/test need (no secrets,
    no prompt); keys in ``no_prompt`` resolve to None instead of asking. ``target`` is the
    :func:`destination` the user confirmed: the instance and ``ca_bundle`` are taken from
    it, not read again."""
    _refuse_errors(a, c)

    async def get(key: str, *, secret: bool = False) -> str | None:
        return await _resolved(c, env, prompt, key, secret=secret, need_secrets=need_secrets, no_prompt=no_prompt)

    if target is None:
        target = destination(a, c, env)
    sdk = c.client == model.CLIENT_SDK
    grant, _ = c.grant_and_pkce()
    assert grant is not None
    pkce = True if sdk else _value(c, "pkce")
    timeout = _value(c, "timeout")
    key_pem = None
    folder = env.folder

    def used(key: str) -> bool:
        return not model.is_ignored(key, grant, c.client)

    if used("jwt_key_file") and need_secrets:
        key_file = await get("jwt_key_file")
        if key_file:
            from snowauth.secrets import outside_message, outside_roots

            path = file_reference_path(key_file, folder)
            shown = _reference_text(c, "jwt_key_file") or key_file  # a path from a reference is not quoted
            if outside_roots(path, env.roots):
                raise ConnectionProblem(outside_message("jwt_key_file", shown, env.roots), "jwt_key_file")
            from snowauth import files

            try:  # the resolved path, not through a link: what is read is what was checked
                key_pem = files.read_bytes(path.resolve(), files.SECRET_MAX_BYTES, follow_links=False)
            except OSError as exc:  # files.RefusedFile too: not a regular file, over 1 MiB
                raise ConnectionProblem(
                    f"`jwt_key_file`: cannot read `{shown}` ({exc.strerror or 'unreadable'})", "jwt_key_file"
                ) from None
    client_cert = _confined_path(c, "client_cert", env)  # revoke and test need it too
    client_key = _confined_path(c, "client_key", env) if client_cert else None
    proxy = _reference_free(c, "proxy", env)
    return ResolvedConnection(
        name=c.name,
        base_url=target.base_url,
        grant_type=grant,
        client_id=sdk_client_id() if sdk else str(await get("client_id")),
        client_secret=None if sdk else await get("client_secret", secret=True),
        username=await get("username") if used("username") else None,
        password=await get("password", secret=True) if used("password") else None,
        otp=await get("otp", secret=True) if used("otp") else None,
        refresh_token=await get("refresh_token", secret=True) if used("refresh_token") else None,
        redirect_uri=records.SDK_REDIRECT_PATH if sdk else await get("redirect_uri") if used("redirect_uri") else None,
        pkce=pkce if isinstance(pkce, bool) else True,
        jwt_key_pem=key_pem,
        jwt_subject=await get("jwt_subject") if used("jwt_subject") else None,
        jwt_key_id=await get("jwt_key_id") if used("jwt_key_id") else None,
        jwt_algorithm=str(await get("jwt_algorithm") or "RS256"),
        jwt_shared_secret=await get("jwt_shared_secret", secret=True) if used("jwt_shared_secret") else None,
        jwt_audience=await get("jwt_audience") if used("jwt_audience") else None,
        scope=await get("scope"),
        client_auth=str(await get("client_auth") or "body"),
        timeout=float(timeout) if isinstance(timeout, int | float) else 30.0,
        ca_bundle=target.trust.ca_bundle,
        proxy=proxy or None,
        client_cert=client_cert,
        client_key=client_key,
        client_key_password=await get("client_key_password", secret=True) if client_cert else None,
        references=tuple(
            (key, ref)
            for key in ("username", "redirect_uri", "jwt_subject", "jwt_key_id", "jwt_audience")
            if (ref := _reference_text(c, key))
        ),
    )


async def _resolved(
    c: Connection,
    env: Environment,
    prompt: AsyncPrompt | None,
    key: str,
    *,
    secret: bool = False,
    need_secrets: bool = True,
    no_prompt: frozenset[str] = frozenset(),
) -> str | None:
    """One key's value with its reference resolved (``${prompt}`` asked only for a
    ``secret`` key that is needed and not in ``no_prompt``)."""
    raw = _value(c, key)
    ref = parse_reference(str(raw)) if raw is not None else None
    if ref is not None and ref.kind == "prompt":
        if not secret or not need_secrets or key in no_prompt:
            return None
        if prompt is None:
            raise ConnectionProblem(
                f"`{key}` is `${{prompt}}`, but this client cannot ask for secrets: use "
                f"`${{env:NAME}}` or `${{file:path}}` for `{key}` instead",
                key,
            )
        answer = await prompt(c.name, key)
        if answer is None or answer == "":
            raise ConnectionProblem(f"No value was entered for `{key}`; nothing was sent", key)
        return answer
    if ref is not None and secret and not need_secrets:
        return None
    return _reference_free(c, key, env)  # a literal value, or `${env:}`/`${file:}` resolved


@dataclass(frozen=True)
class Network:
    """How a connection reaches its instance, for requests that are not its grant
    (Register OAuth client's Table API calls): its proxy and client certificate."""

    proxy: str | None
    client_cert: str | None
    client_key: str | None
    client_key_password: str | None


async def network(c: Connection, env: Environment, prompt: AsyncPrompt | None) -> Network:
    """The connection's ``proxy`` and client certificate, resolved as :func:`resolve`
    does (confined paths; ``client_key_password`` asked when it is ``${prompt}``)."""
    client_cert = _confined_path(c, "client_cert", env)
    client_key = _confined_path(c, "client_key", env) if client_cert else None
    password = await _resolved(c, env, prompt, "client_key_password", secret=True) if client_cert else None
    return Network(_reference_free(c, "proxy", env) or None, client_cert, client_key, password)


def _confined_path(c: Connection, key: str, env: Environment) -> str | None:
    """A file key's absolute path (``client_cert``, ``client_key``), confined like
    ``${file:}`` (SECURITY.md): a path outside the allowed folders is refused."""
    value = _reference_free(c, key, env)
    if not value:
        return None
    from snowauth.secrets import outside_message, outside_roots

    path = file_reference_path(value, env.folder)
    shown = _reference_text(c, key) or value
    if outside_roots(path, env.roots):
        raise ConnectionProblem(outside_message(key, shown, env.roots), key)
    resolved = path.resolve()
    if not resolved.is_file():
        raise ConnectionProblem(f"`{key}`: `{shown}` is not a file", key)
    return str(resolved)


def sdk_client_id() -> str:
    """The ServiceNow SDK client's ID: the process's `SDK_OAUTH_APP_CLIENT_ID` when set (as
    the SDK's CLI reads it), else the ID instances ship. The process environment only: a
    cloned repository's `.env` must not send the sign-in to another client (SECURITY.md)."""
    return os.environ.get(records.SDK_CLIENT_ID_ENV) or records.SDK_CLIENT_ID


def cache_user(c: Connection) -> str | None:
    """The user part of the token cache key (the password grant's user, the JWT subject)."""
    for key in ("username", "jwt_subject"):
        v = _value(c, key)
        if isinstance(v, str) and parse_reference(v) is None:
            return v
    return None


def folder_of(path: Path | None) -> Path | None:
    return path.parent if path is not None else None
