"""Code lens data: per connection, its header's span and token state, and the actions
its lenses offer ("fetch", "refresh", "test"; "register" for a connection without a
client), titled with that state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.findings import TokenAction
from snowauth.model import REGISTERABLE_GRANTS
from snowauth.wording import humanize, humanized_changes


@dataclass(slots=True)
class LensInfo:
    connection: str
    start: int
    end: int
    expires_at: datetime | None
    has_token: bool
    has_refresh_token: bool
    #: no client_id, and register can make one (see :func:`needs_client`)
    needs_client: bool = False


#: the key that names a client shipped with instances (the ServiceNow SDK's) in place of
#: a client_id of the connection's own: such a connection needs no registered client
CLIENT_KEY = "client"


def needs_client(c: Connection) -> bool:
    """Whether Register OAuth Client fits the connection: it has no ``client_id``, names
    no shipped client (``client = …``), and its grant is one register makes a client for
    (``model.REGISTERABLE_GRANTS``)."""
    if "client_id" in c.keys or CLIENT_KEY in c.keys:
        return False
    grant, _pkce = c.grant_and_pkce()
    return grant in REGISTERABLE_GRANTS


def lenses(a: Analysis) -> list[LensInfo]:
    return [lens_info(c) for c in a.connections.values()]


def lens_info(c: Connection) -> LensInfo:
    """The lens data of one connection."""
    return LensInfo(c.name, c.header[0], c.header[1], c.token_expiry, c.has_token, c.has_refresh_token, needs_client(c))


@dataclass(frozen=True, slots=True)
class LensAction:
    title: str
    action: TokenAction


def lens_actions(info: LensInfo, now: datetime) -> list[LensAction]:
    """The lenses of a connection's header, the token's state in the first one's title.

    Without a token there is one lens, so a client that runs "the lens on this line"
    (Neovim's `vim.lsp.codelens.run()`) runs it without asking which; every title starts
    with what it does."""
    if info.needs_client:  # nothing can be fetched before the client exists
        return [LensAction("Register OAuth Client", "register")]
    if not info.has_token:
        return [LensAction("Fetch token (no token yet)", "fetch")]
    return [
        LensAction(f"Refresh ({lens_state_title(info, now)})", "refresh"),
        LensAction("Test connection", "test"),
        LensAction("Fetch token", "fetch"),
    ]


def lens_state_title(info: LensInfo, now: datetime) -> str:
    if not info.has_token:
        return "no token"
    if info.expires_at is None:
        return "token stored"
    delta = info.expires_at - now
    if delta.total_seconds() > 0:
        return f"expires in {humanize(delta)}"
    return f"expired {humanize(delta)} ago"


def titles_until(info: LensInfo, now: datetime) -> datetime | None:
    """Until when ``lens_actions(info, now)`` titles the lenses the same (the wording of
    the time left changes: "3 days" to "2 days", "2 days" to "47 h"…); None when
    they name no time."""
    if info.needs_client or not info.has_token or info.expires_at is None:
        return None
    return humanized_changes(info.expires_at, now)
