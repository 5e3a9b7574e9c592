"""An instance admin's credentials for one command run (Register OAuth client, doctor):
asked once, used for that run's Table API requests, never stored.

Three sources, in this order:

- another connection of the same file whose token belongs to an admin (CLI
  ``--admin-connection NAME``, the editor's ``adminConnection`` argument): its access
  token, obtained through that connection's :meth:`snowauth.workflow.TokenWorkflow.access_token`
  (its own host question, refreshed when it has less than 60 s left);
- the person: the user name (a plain prompt) then the password (a hidden one), each a
  one-time question (``once``: never remembered, never answered from a store) through the
  :class:`snowauth.workflow.TokenUI`;
- without anyone to ask (the CLI without a terminal): ``SNOW_ADMIN_USER`` and
  ``SNOW_ADMIN_PASSWORD`` from the process environment (never from a workspace ``.env``,
  which comes with the repository).

The password and the token are registered with the log filter (:mod:`snowauth.redact`)
the moment they are known: they appear in no log line, trace, message or result
(SECURITY.md). The value carries the ``Authorization`` header the Table API client
(:mod:`snowauth.oauth.table`) sends.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from snowauth import redact
from snowauth.connections import ConnectionProblem

if TYPE_CHECKING:
    from snowauth.workflow import TokenUI, TokenWorkflow

USER_VARIABLE: Final = "SNOW_ADMIN_USER"
PASSWORD_VARIABLE: Final = "SNOW_ADMIN_PASSWORD"
#: the keys of the two questions (``PromptSecretParams.key``)
USERNAME_KEY: Final = "admin_username"
PASSWORD_KEY: Final = "admin_password"


class NoAdmin(ConnectionProblem):
    """No admin credentials could be had (nobody to ask, nothing entered); nothing was sent."""


@dataclass(frozen=True)
class Admin:
    """Who the Table API requests run as: a user name and password (HTTP Basic) or an
    access token (Bearer). ``repr`` shows no secret."""

    kind: Literal["basic", "bearer"]
    #: how messages name them: "the user admin", "the token of connection “x”"
    who: str
    username: str | None
    _secret: str = field(repr=False)

    def authorization(self) -> str:
        if self.kind == "bearer":
            return f"Bearer {self._secret}"
        pair = f"{self.username}:{self._secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def secrets(self) -> tuple[str, ...]:
        return (self._secret, self.authorization().split(" ", 1)[1])


def basic(username: str, password: str) -> Admin:
    """An admin by user name and password (both registered with the log filter)."""
    admin = Admin("basic", f"the user “{username}”", username, password)
    redact.register(*admin.secrets())
    return admin


def bearer(access_token: str, connection: str) -> Admin:
    """An admin by the access token of ``connection`` (registered with the log filter)."""
    admin = Admin("bearer", f"the token of connection “{connection}”", None, access_token)
    redact.register(*admin.secrets())
    return admin


def from_environment(environ: Mapping[str, str]) -> Admin | None:
    """``SNOW_ADMIN_USER`` and ``SNOW_ADMIN_PASSWORD`` of the process, or None unless both are set."""
    user, password = environ.get(USER_VARIABLE), environ.get(PASSWORD_VARIABLE)
    if not user or not password:
        return None
    return basic(user, password)


async def ask(ui: TokenUI, connection: str, purpose: str) -> Admin:
    """The user name, then the password, each asked once (``purpose`` says what for, e.g.
    "to register an OAuth client for “dev”")."""
    if not ui.can_ask:
        raise NoAdmin(
            f"An admin's user name and password are needed {purpose}, and this client cannot ask for them: "
            "name a connection of this file whose token belongs to an admin (adminConnection)"
        )
    user = await ui.ask_secret(
        connection,
        USERNAME_KEY,
        once=True,
        password=False,
        prompt=f"The user name of an admin of the instance, {purpose} (asked once, never stored)",
    )
    if not user:
        raise NoAdmin("No admin user name was entered; nothing was sent")
    password = await ui.ask_secret(
        connection,
        PASSWORD_KEY,
        once=True,
        prompt=f"The password of {user} (asked once, never stored)",
    )
    if not password:
        raise NoAdmin("No admin password was entered; nothing was sent")
    return basic(user, password)


async def via_connection(workflow: TokenWorkflow) -> Admin:
    """The access token of another connection (``workflow``'s), used as the admin."""
    _conn, token = await workflow.access_token()
    return bearer(token, workflow.name)


async def obtain(
    ui: TokenUI,
    connection: str,
    purpose: str,
    *,
    admin_workflow: TokenWorkflow | None = None,
    environ: Mapping[str, str] | None = None,
) -> Admin:
    """The admin for this run: ``admin_workflow``'s token when given; else the process
    environment when ``environ`` is given (the CLI without a terminal); else asked."""
    if admin_workflow is not None:
        return await via_connection(admin_workflow)
    if environ is not None:
        found = from_environment(environ)
        if found is None:
            raise NoAdmin(
                f"An admin's user name and password are needed {purpose}, and there is no terminal to ask "
                f"on: set {USER_VARIABLE} and {PASSWORD_VARIABLE} in the environment, or use "
                "--admin-connection NAME (a connection of this file whose token belongs to an admin)"
            )
        return found
    return await ask(ui, connection, purpose)
