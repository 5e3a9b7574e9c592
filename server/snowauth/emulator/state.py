"""What the emulated instance remembers at run time, behind one lock.

The live records (Application Registry clients, users, system properties, the system
log: the config is only their starting point, the Table API changes them), tokens,
authorization codes, failed logins and lockouts, seen JWT ids, the modes (hibernating,
rate limited, flaky, slow) and request counters. Callers take
``state.lock`` around every read-modify-write; the helper methods here assume it is
held unless their name says otherwise.
"""

from __future__ import annotations

import hmac
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snowauth import instance_records as ir
from snowauth.emulator.config import ClientRecord, EmulatorConfig, UserRecord, sdk_client


@dataclass
class AccessToken:
    value: str = field(repr=False)
    client_id: str
    user_name: str
    scope: str
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    revoked: bool = False


@dataclass
class RefreshToken:
    value: str = field(repr=False)
    client_id: str
    user_name: str
    scope: str
    expires_at: float
    revoked: bool = False


@dataclass
class AuthorizationCode:
    value: str = field(repr=False)
    client_id: str
    redirect_uri: str
    user_name: str
    scope: str
    code_challenge: str | None
    created_at: float
    used: bool = False


@dataclass
class Modes:
    hibernating: bool = False
    rate_limited: bool = False
    retry_after: int = 1
    flaky: bool = False
    flaky_remaining: int | None = None  # None: every token request fails while flaky
    slow: float = 0.0
    #: ``/api/now/ui/user/current_user`` answers 404, as on instances without it
    no_current_user: bool = False
    #: the Table API drops a ``javascript:gs.getUserID()`` term instead of applying it
    drop_user_filter: bool = False
    #: ``/api/now/*`` answers 429 as an inbound REST rate limit rule does
    rest_rate_limited: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rest_rate_limited": self.rest_rate_limited,
            "no_current_user": self.no_current_user,
            "drop_user_filter": self.drop_user_filter,
            "hibernating": self.hibernating,
            "rate_limited": self.rate_limited,
            "retry_after": self.retry_after,
            "flaky": self.flaky,
            "flaky_failures": self.flaky_remaining,
            "slow": self.slow,
        }


@dataclass
class PropertyRecord:
    """A ``sys_properties`` row."""

    sys_id: str
    name: str
    value: str
    created: float


@dataclass(frozen=True)
class SyslogRecord:
    """A ``syslog`` row. ``seq`` orders rows created within the same second."""

    sys_id: str
    message: str
    level: str
    source: str
    created: float
    seq: int


#: syslog.level's choice value for "Error" (docs/servicenow.md: not confirmed)
SYSLOG_LEVEL_ERROR = "2"
#: the source seen next to "Exception on token flow" lines (docs/servicenow.md)
SYSLOG_TOKEN_SOURCE = "com.glide.ui.ServletErrorListener"


def new_sys_id() -> str:
    return secrets.token_hex(16)


def new_token() -> str:
    """An opaque token like ServiceNow's: 86 base64url characters."""
    return secrets.token_urlsafe(64)


def same_secret(given: str | None, expected: str | None) -> bool:
    if given is None or expected is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class EmulatorState:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.config = config
        self.clock = clock
        self.modes = Modes()
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        #: session cookie (``JSESSIONID``) → user name: a token answer opens a session
        self.sessions: dict[str, str] = {}
        self.failed_logins: dict[str, int] = {}
        self.locked_users: set[str] = set()
        self.seen_jtis: set[tuple[str, str]] = set()
        self.token_requests = 0
        self.requests: list[tuple[str, str]] = []
        self.system_log: list[str] = []
        self.syslog: list[SyslogRecord] = []
        self.auto_approve_user: str | None = config.auto_approve_user
        self.approve_next: str | None = None
        self.rng = random.Random()
        self.users: dict[str, UserRecord] = dict(config.users)
        clients = list(config.clients.values())
        if config.sdk_client and not any(c.client_id == ir.SDK_CLIENT_ID for c in clients):
            clients.append(sdk_client())
        #: the Application Registry, by sys_id
        self.clients: dict[str, ClientRecord] = {c.sys_id: c for c in clients}
        now = clock()
        #: system properties, by name
        self.properties: dict[str, PropertyRecord] = {}
        for name, value in (
            (ir.PROP_OAUTH_ACTIVE, config.oauth_active),
            (ir.PROP_CLIENT_CREDENTIALS_ENABLED, config.client_credentials_enabled),
            (ir.PROP_PASSWORD_GRANT_DISABLED, config.password_grant_disabled),
            (ir.PROP_MFA_FOR_INTEGRATIONS, config.mfa_for_integrations),
        ):
            self.set_property(name, "true" if value else "false", now)

    # --- records ----------------------------------------------------------------------

    def client_by_id(self, client_id: str) -> ClientRecord | None:
        """The Application Registry record ("OAuth API endpoint for external clients")
        with this client ID, active or not."""
        for client in self.clients.values():
            if client.client_id == client_id and client.type == ir.ENTITY_TYPE_CLIENT:
                return client
        return None

    def application_user(self, client: ClientRecord) -> UserRecord | None:
        """The record's OAuth Application User: its sys_user reference, or the config's
        user name. None when the field is empty or names no user."""
        if client.user_ref is not None:
            return self.user_by_sys_id(client.user_ref) if client.user_ref else None
        if client.application_user is None:
            return None
        return self.user(client.application_user)

    def set_property(self, name: str, value: str, now: float | None = None) -> PropertyRecord:
        record = self.properties.get(name)
        if record is None:
            created = self.clock() if now is None else now
            record = PropertyRecord(new_sys_id(), name, value, created)
            self.properties[name] = record
        else:
            record.value = value
        return record

    def property_true(self, name: str) -> bool:
        """A boolean system property: true only when set to "true" (absent: false)."""
        record = self.properties.get(name)
        return record is not None and record.value.strip().lower() == "true"

    # --- bookkeeping ------------------------------------------------------------------

    def deny(self, reason: str) -> None:
        """Record why a request was refused: the emulated instance's system log.

        Reasons never contain secrets; they are kept in memory, never logged."""
        self.system_log.append(reason)

    def log_token_flow(self, reason: str) -> None:
        """A ``syslog`` row for a refused token request, as the instance writes it."""
        self.syslog.append(
            SyslogRecord(
                sys_id=new_sys_id(),
                message=f"{ir.TOKEN_FLOW_EXCEPTION} - {reason}",
                level=SYSLOG_LEVEL_ERROR,
                source=SYSLOG_TOKEN_SOURCE,
                created=self.clock(),
                seq=len(self.syslog),
            )
        )

    # --- users ------------------------------------------------------------------------

    def user(self, user_name: str) -> UserRecord | None:
        return self.users.get(user_name)

    def user_by_sys_id(self, sys_id: str) -> UserRecord | None:
        return next((u for u in self.users.values() if u.sys_id == sys_id), None)

    def is_locked(self, user: UserRecord) -> bool:
        return user.locked_out or user.user_name in self.locked_users

    def usable_user(self, user_name: str) -> UserRecord | None:
        """The user if it exists, is active and is not locked out."""
        user = self.user(user_name)
        if user is None or not user.active or self.is_locked(user):
            return None
        return user

    def check_login(
        self, user_name: str, password: str, what: str, *, interactive: bool = True, api: bool = False
    ) -> UserRecord | None:
        """A password login (password grant, the login form, or with ``interactive``
        false HTTP Basic on REST, which web service users may use), counting failures.
        ``api``: an API login (the password grant, Basic auth), where MFA for integrations
        (:data:`ir.PROP_MFA_FOR_INTEGRATIONS`) wants the password followed by the one-time
        code of an enrolled user."""
        user = self.user(user_name)
        if user is None:
            self.deny(f"{what}: no such user")
            return None
        if self.is_locked(user):
            self.deny(f"{what}: user {user_name} is locked out")
            return None
        if not user.active:
            self.deny(f"{what}: user {user_name} is inactive")
            return None
        if user.password is None:
            self.deny(f"{what}: user {user_name} has no password")
            return None
        code = user.mfa_code if api and self.property_true(ir.PROP_MFA_FOR_INTEGRATIONS) else None
        if code:
            if same_secret(password, user.password):
                self.deny(f"{what}: MFA for integrations: no one-time code after the password of {user_name}")
                return None
            if len(password) > len(code) and same_secret(password[: -len(code)], user.password):
                if not same_secret(password[-len(code) :], code):
                    self.deny(f"{what}: MFA for integrations: wrong one-time code for {user_name}")
                    return None
                password = user.password  # the code is right: check the rest as usual
        if not same_secret(password, user.password):
            count = self.failed_logins.get(user_name, 0) + 1
            self.failed_logins[user_name] = count
            threshold = self.config.lockout_threshold
            if threshold and count >= threshold:
                self.locked_users.add(user_name)
                self.deny(f"{what}: wrong password for {user_name}; now locked out")
            else:
                self.deny(f"{what}: wrong password for {user_name} ({count} failed)")
            return None
        if user.web_service_only and interactive:
            self.deny(f"{what}: user {user_name} is web service access only")
            return None
        self.failed_logins.pop(user_name, None)
        return user

    # --- tokens -----------------------------------------------------------------------

    def _valid_refresh(self, value: str | None, now: float) -> RefreshToken | None:
        if value is None:
            return None
        token = self.refresh_tokens.get(value)
        if token is None or token.revoked or token.expires_at <= now:
            return None
        return token

    def valid_refresh_token(self, value: str) -> RefreshToken | None:
        return self._valid_refresh(value, self.clock())

    def issue(
        self,
        client: ClientRecord,
        user_name: str,
        scope: str,
        *,
        with_refresh: bool,
        refresh: RefreshToken | None = None,
    ) -> dict[str, Any]:
        """Issue (or reuse) tokens and build the success body, keys in random order.

        Within an access token's lifetime the same client, user and scope get the same
        access token back, its expiry reset, and a grant other than the refresh grant
        resets its refresh token's expiry too (ServiceNow's behaviour, KB0791140)."""
        now = self.clock()
        found: AccessToken | None = None
        for token in self.access_tokens.values():
            if (
                token.revoked
                or token.expires_at <= now
                or token.client_id != client.client_id
                or token.user_name != user_name
                or token.scope != scope
            ):
                continue
            if refresh is not None:
                if token.refresh_token == refresh.value:
                    found = token
            elif with_refresh:
                if self._valid_refresh(token.refresh_token, now) is not None:
                    found = token
            elif token.refresh_token is None:
                found = token
            if found is not None:
                break

        refresh_value: str | None = refresh.value if refresh is not None else None
        if found is not None:
            found.expires_at = now + client.access_token_lifespan
            refresh_value = found.refresh_token
            kept = self.refresh_tokens.get(refresh_value) if refresh_value is not None else None
            if refresh is None and kept is not None:
                # a new grant (not grant_type=refresh_token) extends the refresh token too
                # (KB0791140); a refresh grant leaves its expiry as it is
                kept.expires_at = now + client.refresh_token_lifespan
        else:
            if with_refresh and refresh is None:
                refresh_value = new_token()
                self.refresh_tokens[refresh_value] = RefreshToken(
                    value=refresh_value,
                    client_id=client.client_id,
                    user_name=user_name,
                    scope=scope,
                    expires_at=now + client.refresh_token_lifespan,
                )
            found = AccessToken(
                value=new_token(),
                client_id=client.client_id,
                user_name=user_name,
                scope=scope,
                expires_at=now + client.access_token_lifespan,
                refresh_token=refresh_value,
            )
            self.access_tokens[found.value] = found

        items: list[tuple[str, Any]] = [
            ("access_token", found.value),
            ("scope", scope),
            ("token_type", "Bearer"),
            ("expires_in", max(client.access_token_lifespan - 1, 0)),
        ]
        if with_refresh and refresh_value is not None:
            items.append(("refresh_token", refresh_value))
        self.rng.shuffle(items)
        return dict(items)

    def revoke(self, value: str) -> None:
        """Revoke an access or refresh token; a refresh token takes its access tokens."""
        access = self.access_tokens.get(value)
        if access is not None:
            access.revoked = True
        refresh = self.refresh_tokens.get(value)
        if refresh is not None:
            refresh.revoked = True
            for token in self.access_tokens.values():
                if token.refresh_token == value:
                    token.revoked = True

    def open_session(self, access_token: str) -> str | None:
        """A new session for the user of a just-issued access token: its cookie value."""
        token = self.access_tokens.get(access_token)
        if token is None:
            return None
        session = new_token()
        self.sessions[session] = token.user_name
        return session

    def session_user(self, session: str) -> UserRecord | None:
        """The usable user of a session cookie, if the emulator opened it."""
        user_name = self.sessions.get(session)
        return self.usable_user(user_name) if user_name is not None else None

    def bearer(self, value: str) -> AccessToken | None:
        """The access token if it is known, unrevoked, unexpired and its user usable."""
        token = self.access_tokens.get(value)
        if token is None or token.revoked or token.expires_at <= self.clock():
            return None
        if self.usable_user(token.user_name) is None:
            return None
        return token

    # --- modes ------------------------------------------------------------------------

    def set_mode(
        self,
        *,
        hibernating: bool | None = None,
        rate_limited: bool | None = None,
        retry_after: int | None = None,
        flaky: bool | None = None,
        flaky_failures: int | None = None,
        slow: float | None = None,
        no_current_user: bool | None = None,
        drop_user_filter: bool | None = None,
        rest_rate_limited: bool | None = None,
    ) -> None:
        modes = self.modes
        if rest_rate_limited is not None:
            modes.rest_rate_limited = rest_rate_limited
        if no_current_user is not None:
            modes.no_current_user = no_current_user
        if drop_user_filter is not None:
            modes.drop_user_filter = drop_user_filter
        if hibernating is not None:
            modes.hibernating = hibernating
        if rate_limited is not None:
            modes.rate_limited = rate_limited
        if retry_after is not None:
            if retry_after < 0:
                raise ValueError("retry_after must be >= 0")
            modes.retry_after = retry_after
        if flaky_failures is not None:
            if flaky_failures < 0:
                raise ValueError("flaky_failures must be >= 0")
            modes.flaky = flaky is not False and flaky_failures > 0
            modes.flaky_remaining = flaky_failures if modes.flaky else None
        elif flaky is not None:
            modes.flaky = flaky
            modes.flaky_remaining = None
        if slow is not None:
            if slow < 0:
                raise ValueError("slow must be >= 0")
            modes.slow = slow

    def take_flaky_failure(self) -> bool:
        """Whether this token request should fail with 503 (consumes one failure)."""
        modes = self.modes
        if not modes.flaky:
            return False
        if modes.flaky_remaining is not None:
            modes.flaky_remaining -= 1
            if modes.flaky_remaining <= 0:
                modes.flaky = False
                modes.flaky_remaining = None
        return True
