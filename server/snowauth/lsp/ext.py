"""snowauth's own protocol on top of LSP, in one place: its custom requests, what a
client declares under ``capabilities.experimental.snowauth``, the
`workspace/executeCommand` ids (and the short action names the core gives lenses), the
action titles of the questions the server asks through `window/showMessageRequest`, and
the shapes of every argument and result.

The VS Code extension's twin is client-vscode/src/protocol.ts: the same constant names
and values, the same interface names and fields (tests/lsp/test_ext_twin.py reads it and
fails when the two differ). README.md (Neovim) and client-vscode/README.md describe the commands.

It imports nothing but typing: the CLI and the server's start-up load it for nothing.
No ``from __future__ import annotations`` either: TypedDict then takes every
``NotRequired`` key for a required one (Python 3.11), and the twin test reads them.
"""

from collections.abc import Mapping
from typing import Final, Literal, NotRequired, TypedDict

# -- custom requests ------------------------------------------------------------------------

#: client -> server: the connections of a file (open, or read from disk), see ``ListConnections*``
LIST_CONNECTIONS: Final = "snowauth/listConnections"
#: server -> client: a `${prompt}` value at fetch time, see ``PromptSecret*``; the
#: request's id is registered as sensitive (its answer is never logged)
PROMPT_SECRET: Final = "snowauth/promptSecret"

# -- client capabilities: capabilities.experimental.snowauth.<name> = true ------------------

#: the key under ``capabilities.experimental`` that holds snowauth's own capabilities
EXPERIMENTAL: Final = "snowauth"
#: the client answers ``PROMPT_SECRET``
CAP_PROMPT_SECRET: Final = "promptSecret"
#: the client shows each command's success itself: the server sends no message of its own
CAP_SUCCESS_MESSAGES: Final = "successMessages"
#: a failure may come as `window/showMessageRequest` with a SHOW_PROBLEM / DETAILS action
#: (a client that would ask modally, as Neovim does, does not declare it)
CAP_MESSAGE_ACTIONS: Final = "messageActions"

# -- commands (workspace/executeCommand) ---------------------------------------------------

FETCH_TOKEN: Final = "snowauth.fetchToken"
REFRESH_TOKEN: Final = "snowauth.refreshToken"
REVOKE_TOKEN: Final = "snowauth.revokeToken"
TEST_CONNECTION: Final = "snowauth.testConnection"
INSERT_TOKEN: Final = "snowauth.insertToken"
#: create the connection's Application Registry record on the instance (``CommandTarget``
#: -> ``RegisterResult``); asks once for an admin's credentials
REGISTER_CLIENT: Final = "snowauth.registerClient"
#: walk the connection's chain live (``CommandTarget`` -> ``DiagnoseResult``)
DIAGNOSE_CONNECTION: Final = "snowauth.diagnoseConnection"

#: the short action names (``lenses.LensAction.action``, ``findings.Fix.action``, ``Commands`` methods) -> command ids
ACTIONS: Final[Mapping[str, str]] = {
    "fetch": FETCH_TOKEN,
    "refresh": REFRESH_TOKEN,
    "revoke": REVOKE_TOKEN,
    "test": TEST_CONNECTION,
    "insert": INSERT_TOKEN,
    "register": REGISTER_CLIENT,
    "diagnose": DIAGNOSE_CONNECTION,
}
#: the commands of those actions (all of them send credentials over the network)
COMMAND_IDS: Final = tuple(ACTIONS.values())
#: a fresh access token for another tool (``CommandTarget`` -> ``AccessTokenResult``): no
#: lens or quick fix runs it. The one command whose result carries a secret: the server
#: registers the token with its log filter before answering (SECURITY.md)
ACCESS_TOKEN: Final = "snowauth.accessToken"
#: every command the server registers (all of them send credentials over the network)
SERVER_COMMAND_IDS: Final = (*COMMAND_IDS, ACCESS_TOKEN)

# -- action titles of the server's window/showMessageRequest questions ---------------------

#: before credentials first go to a destination (instance + trust settings): send or not
HOST_SEND: Final = "Send"
HOST_CANCEL: Final = "Cancel"
#: a failed command, to a client that declares CAP_MESSAGE_ACTIONS: go to the diagnostic
#: that explains it, or read the whole message
SHOW_PROBLEM: Final = "Show Problem"
DETAILS: Final = "Details"
#: after Register OAuth Client: fetch the first token now, or not
FETCH_NOW: Final = "Fetch Token"
NOT_NOW: Final = "Later"

# -- shapes ------------------------------------------------------------------------------------
# (names and fields as in protocol.ts; the JSON keys are the field names)


class LspPosition(TypedDict):
    line: int
    character: int


class LspRange(TypedDict):
    start: LspPosition
    end: LspPosition


class ListConnectionsParams(TypedDict):
    uri: str


class TokenSummary(TypedDict):
    #: ISO 8601 UTC, or None when the stored token carries no expiry
    expiresAt: str | None
    hasRefreshToken: bool


class ConnectionInfo(TypedDict):
    name: str
    #: the whole extent of the connection
    range: LspRange
    #: its header (`[connections.<name>]`, or the first key that introduces it)
    selectionRange: LspRange
    #: the connection the file's `default` names
    isDefault: bool
    token: TokenSummary | None


class ListConnectionsResult(TypedDict):
    connections: list[ConnectionInfo]


class PromptSecretParams(TypedDict):
    connection: str
    key: str
    title: str
    #: the connection file the command runs on (several commands may run at once)
    uri: NotRequired[str]
    #: a one-time answer (a pasted authorization code, an admin's credentials): never
    #: remembered and never answered from a store
    once: NotRequired[bool]
    #: False: the answer is not secret (an admin's user name) and may be shown as typed
    password: NotRequired[bool]
    #: what to do, shown with the box (e.g. "Paste the code the browser shows")
    prompt: NotRequired[str]


class PromptSecretResult(TypedDict):
    #: None: the user cancelled
    value: str | None


class CommandTarget(TypedDict):
    """The argument of fetch, refresh, revoke and test: the connection by name, else the
    one at ``position``, else the file's default or only one."""

    uri: str
    connection: NotRequired[str]
    position: NotRequired[LspPosition]
    #: registerClient: another connection of the file whose token belongs to an admin
    #: (else the admin's user name and password are asked for, once)
    adminConnection: NotRequired[str]
    #: registerClient, client credentials: the user the client acts as (its OAuth
    #: Application User; else asked for)
    applicationUser: NotRequired[str]


class InsertTokenTarget(TypedDict):
    uri: str
    position: LspPosition


class InsertTokenArgs(TypedDict):
    uri: str
    connection: NotRequired[str]
    position: NotRequired[LspPosition]
    target: InsertTokenTarget
    #: "raw": the access token alone; "header": `Authorization: Bearer <token>`
    format: NotRequired[Literal["raw", "header"]]


class TokenResult(TypedDict):
    """The result of fetch and refresh."""

    connection: str
    token_type: str | None
    scope: str | None
    #: TOML's datetime form (UTC), or None when the token carries no expiry
    expires_at: str | None
    #: refresh only: the instance gave the same access token back, with a later expiry
    same_token: NotRequired[bool]


class RevokeResult(TypedDict):
    connection: str
    revoked: bool


class TestResult(TypedDict):
    """The result of test: the instance and who the token authenticates as (the fields
    the instance gave of its current user)."""

    connection: str
    instance: str
    user_name: NotRequired[str]
    user_sys_id: NotRequired[str]
    user_display_name: NotRequired[str]
    first_name: NotRequired[str]
    last_name: NotRequired[str]
    email: NotRequired[str]


class RegisterResult(TypedDict):
    """The result of registerClient: the record made and where its secret went."""

    connection: str
    client_id: str
    #: the Application Registry record's sys_id on the instance
    sys_id: str
    #: the `.env` file the client secret was written to (None: a public client, no secret)
    secret_file: str | None
    #: whether the first token was fetched afterwards (the user accepted FETCH_NOW)
    fetched: bool


class DiagnoseCheck(TypedDict):
    #: a stable id of the link of the chain, e.g. "dns", "tls", "hibernating", "oauth_active"
    id: str
    title: str
    status: Literal["pass", "fail", "skipped"]
    #: what was found and, for "fail", what to do; for "skipped", why (no secret)
    message: str
    #: the connection key the failure implicates (its diagnostic goes there)
    key: NotRequired[str]


class DiagnoseResult(TypedDict):
    """The result of diagnoseConnection: the checks in chain order, stopping at the first
    failure, and the same as a markdown report for the client to show."""

    connection: str
    ok: bool
    checks: list[DiagnoseCheck]
    report: str


class InsertResult(TypedDict):
    connection: str
    inserted: bool


class AccessTokenResult(TypedDict):
    """The result of accessToken: an access token with at least 60 s left (reused,
    refreshed, or fetched as Fetch token fetches). It is a secret: never log it."""

    connection: str
    access_token: str
    #: the instance's origin, e.g. ``https://dev12345.service-now.com``
    instance_url: str
    #: TOML's datetime form (UTC), or None when the token carries no expiry
    expires_at: str | None


def client_declares(experimental: object, name: str) -> bool:
    """Whether a client's ``capabilities.experimental`` (any JSON value) sets
    ``snowauth.<name>`` to a true value."""
    own = experimental.get(EXPERIMENTAL) if isinstance(experimental, dict) else None
    return isinstance(own, dict) and bool(own.get(name))
