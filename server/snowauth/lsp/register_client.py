"""`snowauth.registerClient`: Register OAuth client in the editor.

The command runs the register workflow (:mod:`snowauth.register`, the policy the CLI
shares) with :class:`RegisterEditor` as its :class:`snowauth.register.RegisterUI`: the
admin asked through `snowauth/promptSecret` (once, never remembered), the connection's
new keys written through the same versioned `workspace/applyEdit` as a token
(:mod:`snowauth.lsp.token_edit`), warnings as `window/showMessage`. Then it offers the
first token (`window/showMessageRequest` with ``ext.FETCH_NOW`` / ``ext.NOT_NOW``) and,
accepted, runs Fetch token. Its failures are reported once by :meth:`Commands.run`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from snowauth import connections as conns
from snowauth.lsp import ext
from snowauth.lsp.commands import Editor
from snowauth.lsp.documents import uri_path
from snowauth.lsp.failures import CommandError
from snowauth.lsp.token_edit import edit_token
from snowauth.register import Registration
from snowauth.secrets import Environment
from snowauth.token_edits import key_edits

if TYPE_CHECKING:
    from collections.abc import Mapping

    from snowauth.lsp.commands import Commands


class RegisterEditor(Editor):
    """The editor adapter of :class:`snowauth.register.RegisterUI`: the connection's new
    keys go through the same versioned edit as a token; a failure is reported once, by
    the command (it is no failed fetch)."""

    async def write_connection(self, connection: str, values: Mapping[str, str]) -> None:
        await edit_token(
            self.ls, self.doc.uri, connection, lambda a, cc: key_edits(a, cc, dict(values)), label="SnowAuth: client"
        )

    def warn(self, message: str) -> None:
        self.commands.reporter.warn(message)

    def exchange_failed(self, exc: Exception) -> None:
        """Nothing here: the command reports it."""


async def register_client(commands: Commands, p: dict[str, Any]) -> dict[str, Any]:
    """Register OAuth client (``ext.RegisterResult``): the record made on the instance
    (:mod:`snowauth.register`), the file and its `.env` written, then the offer to
    fetch the first token (FETCH_NOW / NOT_NOW)."""
    commands._require_trust()
    doc, a, c = commands._target(p)
    admin_workflow = None
    admin_name = p.get("adminConnection")
    if admin_name is not None:
        if not isinstance(admin_name, str) or admin_name == c.name:
            raise CommandError('"adminConnection" must name another connection of the file')
        other = conns.select(a, admin_name, None)
        admin_workflow = commands._workflow(doc, a, other)
    user = p.get("applicationUser")
    if user is not None and not isinstance(user, str):
        raise CommandError('"applicationUser" must be a user name')
    path = uri_path(doc.uri)
    env = Environment(commands.ls.env, doc.folder)

    async def work() -> Any:
        registration = Registration(
            a,
            c,
            env,
            RegisterEditor(commands, doc, c),
            file_stem=(path.name.split(".")[0] if path is not None else "") or c.name,
            admin_workflow=admin_workflow,
            application_user=user or None,
            transport=commands.client.transport,
        )
        return await registration.run()

    done = await commands._once((doc.uri, c.name, "register"), work)
    commands.reporter.clear_failure(doc.uri)
    if commands.ls.code_lens_refresh:  # the connection has a client now: its lenses change
        commands.ls.workspace_code_lens_refresh(None)
    commands.reporter.announce(f"OAuth client registered for {c.name} (client_id {done.client_id}).")
    fetched = False
    if await _offer_fetch(commands, c.name):
        await commands._fetch({"uri": doc.uri, "connection": c.name})
        fetched = True
    result: ext.RegisterResult = {
        "connection": c.name,
        "client_id": done.client_id,
        "sys_id": done.sys_id,
        "secret_file": str(done.secret_file) if done.secret_file is not None else None,
        "fetched": fetched,
    }
    return dict(result)


async def _offer_fetch(commands: Commands, name: str) -> bool:
    now, later = t.MessageActionItem(ext.FETCH_NOW), t.MessageActionItem(ext.NOT_NOW)
    try:
        answer = await commands.ls.window_show_message_request_async(
            t.ShowMessageRequestParams(
                t.MessageType.Info, f"SnowAuth: fetch the first token of “{name}” now?", [now, later]
            )
        )
    except Exception:  # the client could not ask: no fetch
        return False
    return answer is not None and answer.title == now.title
