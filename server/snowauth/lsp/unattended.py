"""The editor adapter for the refresh nobody asked for (lsp/auto_refresh.py): the
commands' :class:`snowauth.lsp.commands.Editor` asking nobody. Imported when a
connection asks to be kept fresh: it builds on the connections' problems, which the
first diagnostics do not need (docs/decisions.md, "Cold start: what the first
diagnostics need")."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from snowauth import connections as conns
from snowauth.lsp.commands import Editor

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


class NotAsked(conns.ConnectionProblem):
    """The unattended refresh would have had to ask the person (a host not yet confirmed):
    it stops, and nothing is shown; the person confirms on their first Fetch token."""


class Unattended(Editor):
    """The editor adapter for the refresh nobody asked for (``auto_refresh``, see
    :mod:`snowauth.lsp.auto_refresh`): it never asks for a secret, never asks to confirm
    a host, never opens a browser and shows no progress. The token is stored as by
    :class:`Editor` (the cache, or the versioned edit of the open document)."""

    @property
    def can_ask(self) -> bool:
        return False

    async def ask_secret(
        self, connection: str, key: str, *, once: bool = False, password: bool = True, prompt: str | None = None
    ) -> str | None:
        raise NotAsked(f"`{key}` of “{connection}” would have to be asked for")

    async def confirm_host(self, name: str, target: conns.Destination) -> bool:
        raise NotAsked(f"the destination of “{name}” is not confirmed yet")

    async def open_browser(self, url: str) -> None:
        raise NotAsked("a refresh never opens a browser")

    async def ask_code(self, connection: str) -> str | None:
        raise NotAsked("a refresh never asks for a sign-in code")

    @asynccontextmanager
    async def _quiet(self) -> AsyncIterator[Callable[[str], None]]:
        yield lambda _message: None

    def progress(self, title: str) -> AbstractAsyncContextManager[Callable[[str], None]]:
        return self._quiet()
