"""`snowauth doctor` and Diagnose Connection: a live diagnosis of one connection, shared
by the command line (``doctor_cli``) and the language server (``lsp/commands``).

One cohesive thing, the chain and what it says (longer than the core's usual 500 lines on
purpose: each check and its messages belong together, ARCHITECTURE.md; the report they
fill and its rendering are ``doctor_report.py``): the connection's links are checked in
order and the walk stops at the first broken one, whose message says what to do
(docs/decisions.md, "Doctor: the chain", lists each check and its source):

====================  ==================================================================
``dns``               the instance's host name resolves
``tls``               TLS verifies with the connection's trust settings (``ca_bundle``)
``hibernating``       the instance answers, and not with the hibernation page
``oauth_active``      the system property that switches OAuth on is not false
``client``            the client's Application Registry record exists, is active and
                      fits the grant (redirect URL, public client, application user)
``grant_enabled``     the system property of the grant allows it
``user``              the user the grant signs in as can sign in
``token``             the grant itself, run once (the token is not kept)
``syslog``            when the grant failed: the instance's own words about it
====================  ==================================================================

``oauth_active`` to ``user`` and ``syslog`` read the instance's records through the
Table API, which needs an admin's rights: the front end asks for them once, before the
walk (:class:`Admin`); without them those checks are "skipped" and say why.

The destination is confirmed first (the token workflow's question: the doctor sends
credentials), the connection's secrets are resolved once, and nothing is written: the
token of ``token`` is registered with the log filter like every token and dropped.
No check message holds a secret; text from the instance is scrubbed and quoted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from snowauth import instance_records as rec
from snowauth.doctor_report import Check, Report, Status
from snowauth.hover import markdown_code as code
from snowauth.model import REGISTRY
from snowauth.tokens import (
    GRANT_AUTHORIZATION_CODE,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_PASSWORD,
)

if TYPE_CHECKING:
    from snowauth.admin import Admin
    from snowauth.oauth.client import OAuthClient
    from snowauth.oauth.table import TableClient
    from snowauth.tokens import ResolvedConnection
    from snowauth.workflow import TokenUI, TokenWorkflow

#: the checks that read the instance's records (an admin's rights)
ADMIN_CHECKS = ("oauth_active", "client", "grant_enabled", "user", "syslog")
NEEDS_ADMIN = "needs an admin's rights"
SYSLOG_ROWS = 3  # the latest token-flow exceptions quoted


@dataclass(frozen=True)
class AdminAccess:
    """An admin's credentials, asked for once before the walk (:mod:`snowauth.admin`), or
    ``None`` and why not (declined, nobody to ask, …; no secret in it)."""

    credentials: Admin | None
    reason: str = ""


async def ask_admin(
    ui: TokenUI,
    connection: str,
    *,
    admin_workflow: TokenWorkflow | None = None,
    environ: Mapping[str, str] | None = None,
) -> AdminAccess:
    """The admin for this walk through :func:`snowauth.admin.obtain` (another
    connection's token, the process environment, or the person, asked once); when none
    can be had the checks that need one are skipped, saying why."""
    from snowauth import admin

    purpose = f"to read the OAuth records of the instance for the diagnosis of “{connection}”"
    try:
        return AdminAccess(await admin.obtain(ui, connection, purpose, admin_workflow=admin_workflow, environ=environ))
    except admin.NoAdmin as exc:
        return AdminAccess(None, str(exc).removesuffix("; nothing was sent"))


AdminSource = Callable[[], Awaitable[AdminAccess]]


# -- reading the instance's answers -----------------------------------------------------------


def _text(value: object) -> str:
    """A Table API value as text (a reference: its sys_id)."""
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, str) else ""


def _true(value: object) -> bool:
    return _text(value).strip().lower() == "true"


def _shown(text: str) -> str:
    """Text from the instance (a record's name, a log line): scrubbed, as a code span."""
    from snowauth.oauth.errors import scrub

    return code(scrub(text, limit=200))


_ORDER = "ORDERBY"
_UNSAFE_IN_QUERY = re.compile(r"[\^\r\n]")


class _Stop(Exception):
    """The walk ends here (a check failed; it is in the report)."""


class Doctor:
    """One walk of the chain for one connection (see the module docstring)."""

    def __init__(self, workflow: TokenWorkflow, admin: AdminSource, client: OAuthClient) -> None:
        self.workflow = workflow
        self.ask_admin = admin
        self.client = client
        self.admin = AdminAccess(None)
        self.records: TableClient | None = None
        self.report = Report(workflow.name, "")
        self.conn: ResolvedConnection | None = None
        self.entity: dict[str, Any] = {}  # the client's record, once read

    # -- the walk -----------------------------------------------------------------------------

    async def run(self) -> Report:
        """Confirm the destination, resolve the connection, ask for the admin once, then
        walk the chain. A connection that cannot be used raises ConnectionProblem."""
        target = await self.workflow.destination()
        self.report.instance = target.base_url
        grant = self._grant()
        runs_grant = grant != GRANT_AUTHORIZATION_CODE and not self._sdk_client()
        # the person answers everything before the walk: the ${prompt} secrets of the grant
        # it runs, then the admin
        self.conn = await self.workflow.resolve(need_secrets=runs_grant)
        self.admin = await self.ask_admin()
        if self.admin.credentials is not None:
            from snowauth.oauth.table import TableClient
            from snowauth.oauth.tls import client_certificate

            conn = self.conn
            self.records = TableClient(
                conn.base_url,
                self.admin.credentials,
                timeout=conn.timeout,
                ca_bundle=conn.ca_bundle,
                transport=self.client.http,
                proxy=conn.proxy,
                client_cert=client_certificate(conn),
            )
        steps: list[Callable[[], Awaitable[None]]] = [
            self._dns,
            self._reach,
            self._oauth_active,
            self._client,
            self._grant_enabled,
            self._user,
            self._token,
        ]
        try:
            for step in steps:
                await step()
        except _Stop:
            pass
        return self.report

    def _add(self, check_id: str, status: Status, message: str, key: str | None = None) -> None:
        self.report.checks.append(Check(check_id, status, message, key))
        if status == "fail":
            raise _Stop

    def _grant(self) -> str:
        if self.conn is not None:
            return self.conn.grant_type
        from snowauth.model import canonical_grant

        a = self.workflow.connection.keys.get("grant_type")
        return canonical_grant(str(a.value.data) if a is not None else "") or ""

    def _sdk_client(self) -> bool:
        c = self.workflow.connection
        client = c.keys.get("client")
        if client is not None and client.value.data == "servicenow-sdk":
            return True
        return self.conn is not None and self.conn.client_id == rec.SDK_CLIENT_ID

    def _host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.base_url).hostname or self.base_url

    @property
    def base_url(self) -> str:
        assert self.conn is not None
        return self.conn.base_url

    # -- 1-3: reaching the instance -------------------------------------------------------------

    async def _dns(self) -> None:
        from snowauth.oauth.probe import unresolved

        why = await unresolved(self.base_url)
        if why is not None:
            self._add(
                "dns",
                "fail",
                f"{why}. Check the instance name in `instance` (a ServiceNow instance is "
                "`<name>.service-now.com`) and the network (VPN, proxy, DNS).",
                "instance",
            )
        self._add("dns", "pass", f"{code(self._host())} resolves.")

    async def _reach(self) -> None:
        from snowauth.oauth.errors import OAuthError, hibernating
        from snowauth.oauth.probe import probe
        from snowauth.oauth.tls import client_certificate
        from snowauth.oauth.urls import origin

        conn = self.conn
        assert conn is not None
        https = conn.base_url.startswith("https://")
        try:
            awake = await probe(
                self.client.http,
                conn.base_url,
                ca_bundle=conn.ca_bundle,
                timeout=conn.timeout,
                proxy=conn.proxy,
                client_cert=client_certificate(conn),
            )
        except OAuthError as exc:
            # no TLS session when nothing answered: that link is where the walk stops
            if exc.code == "tls" or (https and exc.code in ("unreachable", "timeout")):
                self._add("tls", "fail", exc.message, exc.key)
            if https:
                self._add("tls", "pass", self._tls_pass())
            else:
                self._tls_skipped()
            self._add("hibernating", "fail", exc.message, exc.key)
            return
        if https:
            self._add("tls", "pass", self._tls_pass())
        else:
            self._tls_skipped()
        if awake.hibernating:
            message = hibernating(origin(conn.base_url), status=awake.status).message
            self._add("hibernating", "fail", message, "instance")
        self._add("hibernating", "pass", f"The instance answers (HTTP {awake.status} without credentials).")

    def _tls_pass(self) -> str:
        assert self.workflow.target is not None
        return f"The certificate verifies with {self.workflow.target.trust.describe()}."

    def _tls_skipped(self) -> None:
        self._add("tls", "skipped", "http:// to a loopback address: there is no TLS to verify.")

    # -- 4-7: the instance's records (an admin's rights) --------------------------------------

    async def _rows(self, check_id: str, table: str, query: str, fields: Sequence[str]) -> list[dict[str, Any]] | None:
        """The rows, or None when they cannot be read (the check is then skipped)."""
        from snowauth.oauth.errors import OAuthError

        records = self.records
        if records is not None and _UNSAFE_IN_QUERY.search(query.split(f"^{_ORDER}", 1)[0]):
            # a value from the file would change the encoded query (`^` joins conditions)
            self._add(check_id, "skipped", "a value of the connection holds a character the lookup cannot send.")
            return None
        if records is None:
            said = any(c.message.startswith(NEEDS_ADMIN) for c in self.report.checks)
            reason = " (as above)" if said else f" ({self.admin.reason})" if self.admin.reason else ""
            self._add(check_id, "skipped", f"{NEEDS_ADMIN}{reason}.")
            return None
        try:
            return [r.fields for r in await records.list(table, query, fields, 5)]
        except OAuthError as exc:
            if exc.status == 403:
                self._add(check_id, "skipped", f"the account lacks the admin role: {exc.message}")
                return None
            if exc.status == 401:
                self.records, self.admin = None, AdminAccess(None, "the admin credentials were refused")
                self._add(check_id, "skipped", f"{NEEDS_ADMIN}: {exc.message}")
                return None
            raise

    async def _property(self, check_id: str, name: str) -> tuple[bool, str | None]:
        """(readable, value): the system property's value, None when it is not set."""
        rows = await self._rows(
            check_id,
            rec.SYS_PROPERTIES,
            f"{rec.PROPERTY_NAME}={name}",
            (rec.PROPERTY_NAME, rec.PROPERTY_VALUE),
        )
        if rows is None:
            return False, None
        return True, (_text(rows[0].get(rec.PROPERTY_VALUE)) if rows else None)

    async def _oauth_active(self) -> None:
        readable, value = await self._property("oauth_active", rec.PROP_OAUTH_ACTIVE)
        if not readable:
            return
        prop = code(rec.PROP_OAUTH_ACTIVE)
        if value is not None and value.strip().lower() == "false":
            self._add(
                "oauth_active",
                "fail",
                f"OAuth is switched off on the instance: the system property {prop} is false, so "
                f"the instance refuses every token request. An admin sets it to true (System "
                f"Properties, `sys_properties.list`).",
            )
        shown = "not set (OAuth is on by default)" if value is None else f"{code(value)}"
        self._add("oauth_active", "pass", f"{prop} is {shown}.")

    async def _client(self) -> None:
        conn = self.conn
        assert conn is not None
        fields = (
            rec.ENTITY_NAME,
            rec.ENTITY_CLIENT_ID,
            rec.ENTITY_ACTIVE,
            rec.ENTITY_REDIRECT_URL,
            rec.ENTITY_PUBLIC_CLIENT,
            rec.ENTITY_APPLICATION_USER,
        )
        rows = await self._rows("client", rec.OAUTH_ENTITY, f"{rec.ENTITY_CLIENT_ID}={conn.client_id}", fields)
        if rows is None:
            return
        if not rows:
            self._add(
                "client",
                "fail",
                f"No record in {REGISTRY} has the client ID {code(conn.client_id)}: copy the client ID "
                "of the record you meant, or create one (Register OAuth Client, `snowauth register`).",
                "client_id",
            )
        row = rows[0]
        self.entity = row
        name = _shown(_text(row.get(rec.ENTITY_NAME)) or "(no name)")
        if not _true(row.get(rec.ENTITY_ACTIVE)):
            self._add(
                "client",
                "fail",
                f"The client's record {name} in {REGISTRY} is inactive: the instance refuses its "
                "token requests. Tick Active on the record.",
                "client_id",
            )
        grant = conn.grant_type
        if grant == GRANT_AUTHORIZATION_CODE:
            self._authcode_fits(row, name)
        if grant == GRANT_CLIENT_CREDENTIALS and not _text(row.get(rec.ENTITY_APPLICATION_USER)):
            self._add(
                "client",
                "fail",
                f'The client\'s record {name} has no "OAuth Application User": the client '
                "credentials grant runs as that user, and the instance refuses it without one. "
                f"Set the field on the record in {REGISTRY}.",
                "client_id",
            )
        self._add("client", "pass", f"The record {name} is active and fits the {_grant_name(grant)}.")

    def _authcode_fits(self, row: dict[str, Any], name: str) -> None:
        conn = self.conn
        assert conn is not None
        registered = [u.strip() for u in _text(row.get(rec.ENTITY_REDIRECT_URL)).split(",") if u.strip()]
        wanted = conn.redirect_uri
        if not self._sdk_client() and wanted and wanted not in registered:
            listed = ", ".join(code(u) for u in registered) or "none"
            first = (
                f" it silently sends the browser to the first one ({code(registered[0])}) instead, where "
                "nothing waits for the code"
                if registered
                else " without one it cannot send the code anywhere"
            )
            self._add(
                "client",
                "fail",
                f"redirect_uri {code(wanted)} is not among the Redirect URLs of the record {name} "
                f"({listed}). The instance does not refuse such a sign-in:{first}. Add it to the "
                "record's Redirect URL field (comma-separated) or set redirect_uri to one of them.",
                "redirect_uri",
            )
        has_secret = "client_secret" in self.workflow.connection.keys
        if not has_secret and not _true(row.get(rec.ENTITY_PUBLIC_CLIENT)):
            self._add(
                "client",
                "fail",
                f"The connection has no client_secret, but the record {name} is not a public "
                "client: the instance asks a confidential client for its secret. Tick Public "
                "Client on the record (the sign-in then uses PKCE), or set client_secret.",
                "client_secret",
            )

    async def _grant_enabled(self) -> None:
        grant = self._grant()
        if grant == GRANT_CLIENT_CREDENTIALS:
            readable, value = await self._property("grant_enabled", rec.PROP_CLIENT_CREDENTIALS_ENABLED)
            if not readable:
                return
            prop = code(rec.PROP_CLIENT_CREDENTIALS_ENABLED)
            if (value or "").strip().lower() != "true":
                now = "not set" if value is None else f"{code(value)}"
                self._add(
                    "grant_enabled",
                    "fail",
                    f"The client credentials grant is off on the instance: the system property "
                    f"{prop} is {now}. An admin creates or sets it to true (`sys_properties.list`).",
                    "grant_type",
                )
            self._add("grant_enabled", "pass", f"{prop} is true.")
            return
        if grant == GRANT_PASSWORD:
            readable, value = await self._property("grant_enabled", rec.PROP_PASSWORD_GRANT_DISABLED)
            if not readable:
                return
            prop = code(rec.PROP_PASSWORD_GRANT_DISABLED)
            if (value or "").strip().lower() == "true":
                self._add(
                    "grant_enabled",
                    "fail",
                    f"The password grant is switched off on the instance: the system property {prop} "
                    "is true. An admin sets it to false, or use another grant (authorization_code, "
                    "client_credentials).",
                    "grant_type",
                )
            self._add("grant_enabled", "pass", f"{prop} is {'not set' if value is None else code(value)}.")
            return
        self._add("grant_enabled", "pass", f"No system property switches the {_grant_name(grant)} off.")

    async def _user(self) -> None:
        conn = self.conn
        assert conn is not None
        grant = self._grant()
        fields = (rec.USER_NAME, rec.USER_ACTIVE, rec.USER_LOCKED_OUT, rec.USER_WEB_SERVICE_ONLY)
        if grant == GRANT_PASSWORD:
            username = conn.username or ""
            from_ref = dict(conn.references).get("username")
            who = f"from `{from_ref}`" if from_ref else code(username)
            rows = await self._rows("user", rec.SYS_USER, f"{rec.USER_NAME}={username}", fields)
            if rows is None:
                return
            if not rows:
                self._add(
                    "user",
                    "fail",
                    f"No user has the user name {who}: check `username` (the User ID, not the name).",
                    "username",
                )
            self._user_can_sign_in(rows[0], f"The user {who}", "username", web_service_blocks=True)
            self._add("user", "pass", f"The user {who} is active and may sign in with a password.")
            return
        if grant == GRANT_CLIENT_CREDENTIALS:
            user_id = _text(self.entity.get(rec.ENTITY_APPLICATION_USER))
            rows = await self._rows("user", rec.SYS_USER, f"sys_id={user_id}", fields)
            if rows is None:
                return
            if not rows:
                self._add(
                    "user",
                    "fail",
                    f'The "OAuth Application User" of the client\'s record names no user (sys_id '
                    f"{code(user_id)}): set it to an existing user in {REGISTRY}.",
                    "client_id",
                )
            who = _shown(_text(rows[0].get(rec.USER_NAME)))
            self._user_can_sign_in(rows[0], f"The application user {who}", "client_id", web_service_blocks=False)
            self._add("user", "pass", f"The application user {who} is active.")
            return
        self._add("user", "skipped", f"The {_grant_name(grant)} names no user for the doctor to look up.")

    def _user_can_sign_in(self, row: dict[str, Any], who: str, key: str, *, web_service_blocks: bool) -> None:
        where = "User Administration > Users"
        if not _true(row.get(rec.USER_ACTIVE)):
            self._add("user", "fail", f"{who} is inactive: tick Active on the user ({where}).", key)
        if _true(row.get(rec.USER_LOCKED_OUT)):
            self._add(
                "user",
                "fail",
                f"{who} is locked out (too many failed sign-ins): clear Locked out on the user "
                f"({where}), after fixing the credentials that failed.",
                key,
            )
        if web_service_blocks and _true(row.get(rec.USER_WEB_SERVICE_ONLY)):
            self._add(
                "user",
                "fail",
                f'{who} is "Web service access only", which the password grant refuses: clear it on '
                f"the user ({where}), or use the client credentials grant for an integration.",
                key,
            )

    # -- 8-9: the grant itself, and what the instance logged ----------------------------------

    async def _token(self) -> None:
        from snowauth.oauth.errors import OAuthError

        conn = self.conn
        assert conn is not None
        if conn.grant_type == GRANT_AUTHORIZATION_CODE or self._sdk_client():
            self._add("token", "skipped", "needs a browser sign-in: run Fetch Token.")
            return
        try:
            await self.client.fetch(conn)  # the token is not kept: nothing is written
        except OAuthError as exc:
            at = len(self.report.checks)
            logged = await self._syslog()  # the syslog check comes after the token's
            said = f" The instance's system log: {'; '.join(logged)}." if logged else ""
            self.report.checks.insert(at, Check("token", "fail", exc.message + said, exc.key))
            return
        self._add("token", "pass", f"The instance issued a token through the {_grant_name(conn.grant_type)}.")

    async def _syslog(self) -> list[str] | None:
        """The latest "Exception on token flow" lines of the system log (this client's
        first), quoted and scrubbed; None when the log could not be read (the syslog check
        says why)."""
        from snowauth.oauth.errors import OAuthError, scrub

        fields = (rec.SYSLOG_CREATED, rec.SYSLOG_LEVEL, rec.SYSLOG_SOURCE, rec.SYSLOG_MESSAGE)
        query = f"{rec.SYSLOG_MESSAGE}STARTSWITH{rec.TOKEN_FLOW_EXCEPTION}^ORDERBYDESC{rec.SYSLOG_CREATED}"
        try:
            rows = await self._rows("syslog", rec.SYSLOG, query, fields)
        except OAuthError as exc:  # the token failure is the answer; the log was extra
            self._add("syslog", "skipped", f"the system log could not be read: {exc.message}")
            return None
        if rows is None:
            return None
        conn = self.conn
        assert conn is not None
        mine = [r for r in rows if conn.client_id in _text(r.get(rec.SYSLOG_MESSAGE))]
        secrets = (conn.client_secret, conn.password, conn.refresh_token)
        lines = [
            f"{code(scrub(_text(r.get(rec.SYSLOG_CREATED)), limit=40))} "
            f"{code(scrub(_text(r.get(rec.SYSLOG_MESSAGE)), secrets, limit=300))}"
            for r in (mine or rows)[:SYSLOG_ROWS]
        ]
        if lines:
            self._add("syslog", "pass", f"{len(lines)} “{rec.TOKEN_FLOW_EXCEPTION}” line(s), quoted under token.")
        else:
            self._add("syslog", "pass", f"No “{rec.TOKEN_FLOW_EXCEPTION}” line in the system log explains it.")
        return lines


def _grant_name(grant: str) -> str:
    from snowauth.oauth.errors import grant_name

    return grant_name(grant)


async def diagnose(workflow: TokenWorkflow, admin: AdminSource, client: OAuthClient | None = None) -> Report:
    """Walk the chain of ``workflow``'s connection (see the module docstring)."""
    if client is not None:
        return await Doctor(workflow, admin, client).run()
    from snowauth.oauth.client import OAuthClient  # httpx loads when the doctor runs

    async with OAuthClient() as own:
        return await Doctor(workflow, admin, own).run()
