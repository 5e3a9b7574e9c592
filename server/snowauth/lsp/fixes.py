"""The other files a quick fix writes (a `.env` it moves a secret to, the `.gitignore`
that keeps that `.env` out of git): whether the client may write each, where each ends
now, and what is added there. None when the fix cannot be offered as an edit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as t

from snowauth.findings import FileAppend, Fix
from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.secrets import DOTENV

if TYPE_CHECKING:
    from snowauth.lsp.server import SnowauthServer

#: per file to extend: its URI, whether it exists, the position of its end, the text added
Append = tuple[str, bool, t.Position, str]


def dotenv_unignored(ls: SnowauthServer, folder: Path) -> bool:
    """Whether a `.env` written in ``folder`` might be published by git. git's own answer
    (found in the background on open and save, trusted workspaces only) when there is
    one; else (not known yet, an untrusted workspace where git never runs, a repository
    git was not asked about) yes inside anything git takes for a repository, unless the
    `.gitignore` beside it already has a `.env` line."""
    from snowauth import gitstate  # (git is asked for nothing until it is needed)

    state = ls.dotenv_git.get(folder) if ls.trusted else None
    if state == gitstate.SAFE:
        return False
    if state in (gitstate.UNIGNORED, gitstate.TRACKED):
        return True
    return gitstate.in_repository(folder) and not gitstate.gitignore_lists(folder, DOTENV)


def appends(ls: SnowauthServer, doc: Document, fix: Fix) -> tuple[str, list[Append]] | None:
    """The fix's title and the appends its edit makes; the title says so when a
    `.gitignore` line is added first. None when one of them cannot be written."""
    from snowauth import files, gitstate

    title = fix.title
    out: list[Append] = []
    wanted = list(fix.appends)
    if doc.folder is not None and any(app.name == DOTENV for app in wanted) and dotenv_unignored(ls, doc.folder):
        # the secret goes to a .env that git would publish: ignore it first
        wanted.insert(0, FileAppend(gitstate.GITIGNORE, DOTENV + "\n"))
        title = title[:-1] + ", which is added to .gitignore)" if title.endswith(")") else title
    for app in wanted:
        if doc.folder is None or not ls.document_changes or not ls.resource_create:
            return None  # the fix needs to create or extend a file the client cannot
        if app.name in ("", ".", "..") or "/" in app.name or "\\" in app.name:
            return None  # only a file directly in the document's folder
        target = doc.folder / app.name
        # the client writes wherever the path leads: checked again now (the analysis
        # may be older than the folder), a link (say to ~/.bashrc) is never written through
        if files.append_refusal(target, files.SECRET_MAX_BYTES) is not None:
            return None
        other_uri = target.as_uri()
        other = ls.docs.get(other_uri)
        if other is not None:
            text = other.text
        else:
            try:
                text = files.read_bytes(target, files.SECRET_MAX_BYTES, follow_links=False).decode("utf-8")
            except FileNotFoundError:
                text = ""
            except (OSError, UnicodeDecodeError):
                return None  # its end is unknown: no edit rather than a wrong one
        end = convert.end_position(text, ls.encoding)
        lead = "\n" if text and not text.endswith(("\n", "\r")) else ""
        out.append((other_uri, target.exists(), end, lead + app.text))
    return title, out
