"""Register OAuth client: the one workflow that creates a connection's client on the
instance, shared by the command line (``register_cli``) and the language server
(``lsp/commands``), as :mod:`snowauth.workflow` is for tokens.

For a connection without ``client_id`` it

1. plans the Application Registry record its grant needs (:func:`plan`; JWT bearer is
   refused: it needs keys and a JWT verifier map);
2. confirms the destination as a token fetch does (the workflow's host question, before
   any credential is read or asked for; :meth:`snowauth.workflow.TokenWorkflow.destination`);
3. gets an admin for this run (:mod:`snowauth.admin`: asked once, or another
   connection's token, never stored);
4. for client credentials, looks up the OAuth Application User in ``sys_user``;
5. generates the client secret (a confidential client) and creates the ``oauth_entity``
   record through the Table API (:mod:`snowauth.oauth.table`), reading back its
   ``client_id`` and ``sys_id``;
6. writes the secret into the ``.env`` beside the file (as an export writes: locked,
   atomic, 0600 when new) and the connection's ``client_id``, ``client_secret =
   "${env:…}"`` (and a default ``redirect_uri``) into the file through the
   :class:`RegisterUI`; warns when git would publish that ``.env``.

Nothing is written when the request fails, and nothing is sent unless the host is
confirmed. Field names come from :mod:`snowauth.instance_records`; the choices (no
redirect URL but for the authorization code grant, the lifespans, a generated secret)
are in docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import secrets as random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from snowauth import admin as admins
from snowauth import instance_records as rec
from snowauth import redact
from snowauth.connections import ConnectionProblem
from snowauth.lenses import CLIENT_KEY
from snowauth.model import GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_JWT_BEARER, REGISTERABLE_GRANTS
from snowauth.secrets import DOTENV, env_name, parse_reference
from snowauth.token_edits import toml_string
from snowauth.workflow import TokenUI, TokenWorkflow

if TYPE_CHECKING:
    from snowauth.admin import Admin
    from snowauth.analysis import Analysis
    from snowauth.document import Connection
    from snowauth.oauth.http import HttpTransport
    from snowauth.oauth.table import TableClient
    from snowauth.secrets import Environment

#: the loopback redirect an authorization code connection gets when it has none (the
#: placeholder docs/reference.md shows)
DEFAULT_REDIRECT: Final = "http://127.0.0.1:53682/callback"
#: ServiceNow's defaults for a new client ("Create an endpoint for clients to access the
#: instance": 30 minutes and 100 days), written out so the record says what it gets
ACCESS_TOKEN_LIFESPAN: Final = 1800
REFRESH_TOKEN_LIFESPAN: Final = 8_640_000
#: the keys register writes into the connection (so their absence is no error before)
WRITTEN_KEYS: Final = frozenset({"client_id", "client_secret", "redirect_uri"})
SECRET_BYTES: Final = 32


class RegisterUI(TokenUI, Protocol):
    """What register needs beyond the token workflow's :class:`TokenUI`."""

    async def write_connection(self, connection: str, values: Mapping[str, str]) -> None:
        """Set keys of the connection in its file (key -> TOML value text), keeping what
        the person typed meanwhile."""

    def warn(self, message: str) -> None:
        """Show a warning (no secret in it); the registration goes on."""


@dataclass(frozen=True)
class Plan:
    """What the connection's client must be."""

    connection: str
    grant: str
    record_name: str
    #: an authorization code client with PKCE and no client_secret: no secret at all
    public: bool
    #: the record's Redirect URL ("" for grants that redirect nowhere)
    redirect_url: str
    #: the connection gets ``redirect_uri = <redirect_url>`` (it had none)
    write_redirect: bool

    @property
    def needs_application_user(self) -> bool:
        return self.grant == GRANT_CLIENT_CREDENTIALS


@dataclass(frozen=True)
class Registered:
    """The record made (``ext.RegisterResult`` without ``fetched``)."""

    connection: str
    client_id: str
    sys_id: str
    #: where the client secret went (None: a public client)
    secret_file: Path | None


def _text(c: Connection, key: str) -> str | None:
    a = c.keys.get(key)
    return str(a.value.data) if a is not None and a.value.kind == "string" else None


def plan(c: Connection, env: Environment, file_stem: str) -> Plan:
    """The record the connection needs; ConnectionProblem when register cannot make it."""
    if "client_id" in c.keys:
        raise ConnectionProblem(
            f"The connection “{c.name}” already has a client_id: register makes a client only for a "
            "connection without one",
            "client_id",
        )
    if CLIENT_KEY in c.keys:
        raise ConnectionProblem(
            f"The connection “{c.name}” uses a client shipped with the instance (`client`): it needs no "
            "registered client",
            CLIENT_KEY,
        )
    grant, pkce = c.grant_and_pkce()
    if grant is None:
        raise ConnectionProblem(f"Set the grant_type of “{c.name}” first: the client depends on it", "grant_type")
    if grant == GRANT_JWT_BEARER:
        raise ConnectionProblem(
            "Register OAuth Client does not make JWT bearer clients: they need a JWT verifier map and "
            "the public key on the instance. Create the client in System OAuth > Application Registry "
            "(“Create an OAuth JWT API endpoint for external clients”), then set client_id.",
            "grant_type",
        )
    if grant not in REGISTERABLE_GRANTS:
        raise ConnectionProblem(
            "A refresh token belongs to the client that issued it: set that client's client_id "
            f"in “{c.name}” instead of registering a new client",
            "client_id",
        )
    redirect, write_redirect = "", False
    if grant == GRANT_AUTHORIZATION_CODE:
        given = _text(c, "redirect_uri")
        if given is None:
            redirect, write_redirect = DEFAULT_REDIRECT, True
        elif parse_reference(given) is not None:
            from snowauth.secrets import SecretUnavailable, resolve

            try:
                redirect = resolve(given, "redirect_uri", env)
            except SecretUnavailable as exc:
                raise ConnectionProblem(str(exc), "redirect_uri") from None
        else:
            redirect = given
    public = grant == GRANT_AUTHORIZATION_CODE and pkce and "client_secret" not in c.keys
    return Plan(
        connection=c.name,
        grant=grant,
        record_name=f"snowauth {c.name} ({file_stem})",
        public=public,
        redirect_url=redirect,
        write_redirect=write_redirect,
    )


def record_fields(p: Plan, client_secret: str | None, application_user: str | None) -> dict[str, object]:
    """The ``oauth_entity`` record to create (field names: instance_records)."""
    fields: dict[str, object] = {
        rec.ENTITY_NAME: p.record_name,
        rec.ENTITY_TYPE: rec.ENTITY_TYPE_CLIENT,
        rec.ENTITY_ACTIVE: "true",
        rec.ENTITY_PUBLIC_CLIENT: "true" if p.public else "false",
        rec.ENTITY_REDIRECT_URL: p.redirect_url,
        rec.ENTITY_ACCESS_TOKEN_LIFESPAN: str(ACCESS_TOKEN_LIFESPAN),
        rec.ENTITY_REFRESH_TOKEN_LIFESPAN: str(REFRESH_TOKEN_LIFESPAN),
    }
    if client_secret is not None:
        fields[rec.ENTITY_CLIENT_SECRET] = client_secret
    if application_user is not None:
        fields[rec.ENTITY_APPLICATION_USER] = application_user
    return fields


def _timeout(c: Connection) -> float:
    a = c.keys.get("timeout")
    value = a.value.data if a is not None else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 30.0


def _dotenv_refusal(path: Path) -> str | None:
    """Why the secret cannot go to ``path`` (checked before anything is sent)."""
    from snowauth import files

    return files.append_refusal(path, files.SECRET_MAX_BYTES)


class Registration:
    """One run of Register OAuth client on one connection (see the module docstring).

    ``admin_workflow``: the workflow of another connection whose token is the admin's;
    ``environ``: the process environment to read the admin from when nobody can be asked
    (the CLI without a terminal); ``application_user``: the client credentials client's
    user (else asked for); ``transport``: a running HTTP transport to share."""

    def __init__(
        self,
        a: Analysis,
        c: Connection,
        env: Environment,
        ui: RegisterUI,
        *,
        file_stem: str,
        admin_workflow: TokenWorkflow | None = None,
        environ: Mapping[str, str] | None = None,
        application_user: str | None = None,
        transport: HttpTransport | None = None,
    ) -> None:
        self.analysis, self.connection, self.env, self.ui = a, c, env, ui
        self.file_stem = file_stem
        self.admin_workflow = admin_workflow
        self.environ = environ
        self.application_user = application_user
        self.transport = transport
        self.workflow = TokenWorkflow(a, c, env, ui, allow_missing=WRITTEN_KEYS)

    @property
    def name(self) -> str:
        return self.connection.name

    async def run(self) -> Registered:
        p = plan(self.connection, self.env, self.file_stem)
        dotenv = self.env.folder / DOTENV if self.env.folder is not None else None
        if not p.public:
            if dotenv is None:
                raise ConnectionProblem("Save the connection file first: the client secret goes to the .env beside it")
            refusal = await asyncio.to_thread(_dotenv_refusal, dotenv)
            if refusal:
                raise ConnectionProblem(f"The client secret cannot go to {dotenv}: {refusal}; nothing was sent")
        target = await self.workflow.destination()  # the host question, before any credential
        purpose = f"to register an OAuth client for “{self.name}”"
        admin = await admins.obtain(
            self.ui, self.name, purpose, admin_workflow=self.admin_workflow, environ=self.environ
        )
        from snowauth.oauth.table import TableClient
        from snowauth.oauth.tls import ClientCertificate

        net = await self.workflow.network()  # the connection's proxy and client certificate
        client = TableClient(
            target.base_url,
            admin,
            timeout=_timeout(self.connection),
            ca_bundle=target.trust.ca_bundle,
            transport=self.transport,
            proxy=net.proxy,
            client_cert=ClientCertificate(net.client_cert, net.client_key, net.client_key_password)
            if net.client_cert
            else None,
        )
        try:
            async with self.ui.progress(f"registering an OAuth client for {self.name}") as report:
                try:
                    record = await self._create(client, p, admin, report)
                except Exception as exc:
                    self.ui.exchange_failed(exc)
                    raise
        finally:
            await client.aclose()
        client_id, sys_id, secret = record
        values: dict[str, str] = {"client_id": toml_string(client_id)}
        secret_file: Path | None = None
        if secret is not None:
            assert dotenv is not None
            variable = env_name(self.name, "client_secret")
            await asyncio.to_thread(_write_secret, dotenv, variable, secret)
            values["client_secret"] = toml_string(f"${{env:{variable}}}")
            secret_file = dotenv
            await self._warn_if_published(dotenv)
        if p.write_redirect:
            values["redirect_uri"] = toml_string(p.redirect_url)
        await self.ui.write_connection(self.name, values)
        return Registered(self.name, client_id, sys_id, secret_file)

    async def _create(
        self, client: TableClient, p: Plan, admin: Admin, say: Callable[[str], None]
    ) -> tuple[str, str, str | None]:
        user_id = None
        if p.needs_application_user:
            user_id = await self._application_user(client)
        secret = None if p.public else random.token_urlsafe(SECRET_BYTES)
        redact.register(secret)
        say(f"Creating the client record in {rec.OAUTH_ENTITY} as {admin.who}…")
        made = await client.create(rec.OAUTH_ENTITY, record_fields(p, secret, user_id))
        client_id = made.get(rec.ENTITY_CLIENT_ID)
        if not client_id and made.sys_id:
            client_id = (await client.get(rec.OAUTH_ENTITY, made.sys_id, [rec.ENTITY_CLIENT_ID])).get(
                rec.ENTITY_CLIENT_ID
            )
        if p.needs_application_user:
            await self._warn_if_grant_off(client)
        if not client_id or not made.sys_id:
            from snowauth.oauth.errors import OAuthError

            raise OAuthError(
                "register-incomplete",
                f"The instance created the record “{p.record_name}” but did not give its client ID back "
                f"(sys_id {made.sys_id or 'unknown'}). Open it in System OAuth > Application Registry, copy "
                "the Client ID into client_id, and set its client secret; nothing was written.",
            )
        return client_id, made.sys_id, secret

    async def _application_user(self, client: TableClient) -> str:
        """The sys_id of the OAuth Application User (asked for when not given)."""
        name = self.application_user
        if not name and self.ui.can_ask:
            name = await self.ui.ask_secret(
                self.name,
                "application_user",
                once=True,
                password=False,
                prompt="The user the client credentials client acts as (its OAuth Application User): a user name",
            )
        if not name:
            raise ConnectionProblem(
                "A client credentials client acts as a user (its OAuth Application User): name one "
                "(--application-user NAME, or applicationUser); nothing was sent"
            )
        if any(ch in name for ch in "^=\r\n"):
            raise ConnectionProblem(f"“{name}” is not a user name; nothing was sent")
        fields = ["sys_id", rec.USER_NAME, rec.USER_ACTIVE, rec.USER_LOCKED_OUT]
        found = await client.list(rec.SYS_USER, f"{rec.USER_NAME}={name}", fields, limit=1)
        if not found:
            raise ConnectionProblem(
                f"The instance has no user “{name}” (sys_user); create it, or name another one. Nothing was registered"
            )
        user = found[0]
        if user.get(rec.USER_ACTIVE) == "false" or user.get(rec.USER_LOCKED_OUT) == "true":
            state = "inactive" if user.get(rec.USER_ACTIVE) == "false" else "locked out"
            raise ConnectionProblem(
                f"The user “{name}” is {state}: a client credentials client acting as it would get no token. "
                "Nothing was registered"
            )
        return user.sys_id

    async def _warn_if_grant_off(self, client: TableClient) -> None:
        """The client credentials grant is off on an instance until a system property
        says "true" (docs/servicenow.md): say so, without changing it (instance-wide)."""
        from snowauth.oauth.errors import OAuthError

        prop = rec.PROP_CLIENT_CREDENTIALS_ENABLED
        try:
            rows = await client.list(rec.SYS_PROPERTIES, f"{rec.PROPERTY_NAME}={prop}", [rec.PROPERTY_VALUE], limit=1)
        except OAuthError:
            return  # not readable by this admin: nothing to say
        if not rows or rows[0].get(rec.PROPERTY_VALUE) != "true":
            self.ui.warn(
                f"The client credentials grant is off on this instance: set the system property {prop} to "
                "true (System Properties), or no token can be fetched with the new client"
            )

    async def _warn_if_published(self, dotenv: Path) -> None:
        from snowauth import gitstate

        state = await gitstate.git_state_async(dotenv)
        if state == gitstate.TRACKED:
            self.ui.warn(f"The client secret went to {dotenv}, which git tracks: a commit would publish it")
        elif state == gitstate.UNIGNORED:
            self.ui.warn(f"The client secret went to {dotenv}, which git does not ignore: add .env to .gitignore")


def _write_secret(dotenv: Path, variable: str, secret: str) -> None:
    from snowauth import exports

    try:
        exports.set_dotenv_variable(dotenv, variable, secret)
    except exports.ExportError as exc:
        raise ConnectionProblem(
            f"The client was registered, but its secret could not be saved: {exc}. Set a new client secret "
            "on the record in System OAuth > Application Registry"
        ) from None
