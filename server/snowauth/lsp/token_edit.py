"""The commands' edits of documents: the token written to (or removed from) a connection
through a versioned `workspace/applyEdit`, computed again when the user typed meanwhile,
and a token inserted at a position of another document."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as t

from snowauth.lsp import convert
from snowauth.lsp.documents import Document, uri_path
from snowauth.lsp.failures import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from snowauth.analysis import Analysis
    from snowauth.document import Connection
    from snowauth.findings import Edit
    from snowauth.lsp.server import SnowauthServer

EDIT_ATTEMPTS = 5


def from_disk(uri: str) -> Document:
    """The connection file of a command that is not open in the editor."""
    from snowauth.files import read_text

    path = uri_path(uri)
    if path is None or not path.is_file():
        raise CommandError(f"The connection file is neither open nor on disk: {uri}")
    try:
        return Document(uri, read_text(path)[0], None)
    except OSError as exc:  # too large, swapped for a FIFO meanwhile, unreadable
        raise CommandError(f"Cannot read the connection file {uri}: {exc.strerror or exc}") from None


async def edit_token(
    ls: SnowauthServer,
    uri: str,
    name: str,
    make: Callable[[Analysis, Connection], Sequence[Edit]],
    *,
    label: str = "SnowAuth: store token",
) -> None:
    """Apply ``make``'s edits to the connection, against the version they were computed
    for; when the user typed meanwhile, compute them again."""
    for _ in range(EDIT_ATTEMPTS):
        doc = ls.docs.get(uri) or from_disk(uri)
        a = doc.analysis(ls.env)
        c = a.connections.get(name)
        if c is None:
            raise CommandError(f"The connection “{name}” is no longer in the file; nothing was written")
        edits = make(a, c)
        if not edits:
            return
        version = doc.version
        edit = convert.edits_edit(uri, version, doc.converter(ls.encoding), edits, document_changes=ls.document_changes)
        result = await ls.workspace_apply_edit_async(t.ApplyWorkspaceEditParams(edit=edit, label=label))
        if result.applied:
            return
        await asyncio.sleep(0.05)  # let the user's edit (didChange) arrive, then recompute
        live = ls.docs.get(uri)
        if live is None or live.version == version:
            reason = f" ({result.failure_reason})" if result.failure_reason else ""
            raise CommandError(f"The editor did not apply the token edit{reason}; the file is unchanged")
    raise CommandError("The file kept changing while the token was being written; fetch again")


async def insert_text(ls: SnowauthServer, uri: str, at: t.Position, text: str) -> None:
    """Insert ``text`` at ``at`` in ``uri`` (against its open version, when open)."""
    other = ls.docs.get(uri)
    version = other.version if other is not None else None
    edit = convert.insertion_edit(uri, version, at, text, document_changes=ls.document_changes)
    params = t.ApplyWorkspaceEditParams(edit=edit, label="SnowAuth: insert token")
    result = await ls.workspace_apply_edit_async(params)
    if not result.applied:
        raise CommandError("The editor did not insert the token (the document changed); try again")
