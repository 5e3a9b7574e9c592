"""The two failures of a command: the one to tell the user (:class:`CommandError`) and
the JSON-RPC error a failed command answers with once it was told (:class:`CommandFailed`).

Its own module so that ``lsp/server.py`` recognises a reported failure by its class
without importing the commands (which import the server)."""

from __future__ import annotations

from pygls.exceptions import JsonRpcException

REQUEST_FAILED = -32803


class CommandFailed(JsonRpcException):
    """The JSON-RPC error of a command that failed in a way the user can fix."""

    CODE = REQUEST_FAILED


class CommandError(Exception):
    """A failure to report to the user as it is (no secret inside)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key
