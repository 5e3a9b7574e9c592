"""The files the open documents read: watchers registered with the client for them, and
what a reported change re-checks.

Watched for every client that lets a server register watchers: any `.env`, connection
file and `.gitignore`; plus, per document, the files its connections read (at most
WATCHED_PER_DOCUMENT, WATCHED_MAX patterns in all: a hostile file naming 100,000
`${file:}` targets gets no 100,000 watchers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as t
from pygls.capabilities import get_capability

from snowauth import model
from snowauth.lsp.documents import Document, uri_path

if TYPE_CHECKING:
    from snowauth.lsp.server import SnowauthServer

logger = logging.getLogger("snowauth.lsp")

WATCHED_EVERYWHERE = ("**/.env", "**/*.snowauth.toml", "**/.gitignore")
WATCHED_PER_DOCUMENT = 50
WATCHED_MAX = 500
WATCH_SETTLE = 0.05  # seconds: file events that come together are handled together


def glob_escape(name: str) -> str:
    """A file name as a glob that matches only it."""
    return "".join(f"[{ch}]" if ch in "*?[]{}" else ch for ch in name)


def dependencies(doc: Document, env: dict[str, str]) -> set[Path]:
    """The files (absolute, as written and with links resolved) whose content changes
    the document's findings: its .env, `${file:}` targets, `jwt_key_file`, `ca_bundle`."""
    from snowauth.secrets import DOTENV, ReferenceSyntaxError, file_reference_path, parse_reference

    folder = doc.folder
    if folder is None:
        return set()
    found = [folder / DOTENV]
    for c in doc.analysis(env).connections.values():
        for key, a in c.keys.items():
            if a.value.kind != "string":
                continue
            value = str(a.value.data)
            if key in model.FILE_KEYS and value and "${" not in value:
                found.append(file_reference_path(value, folder))
                continue
            try:
                ref = parse_reference(value)
            except ReferenceSyntaxError:
                continue
            if ref is not None and ref.kind == "file":
                found.append(file_reference_path(ref.argument, folder))
        if len(found) > WATCHED_PER_DOCUMENT:
            break
    out: set[Path] = set()
    for path in found[: WATCHED_PER_DOCUMENT + 1]:
        out.add(Path(os.path.normpath(path)))
        with contextlib.suppress(OSError, RuntimeError):
            out.add(path.resolve())
    return out


class FileWatcher:
    """The watchers registered with one client, and the changes it reported that are
    not handled yet."""

    def __init__(self, ls: SnowauthServer) -> None:
        self._ls = ls
        self._watching: set[str] = set()  # glob patterns registered with the client
        self._changed: set[Path] = set()  # reported by the client, not yet handled

    def watch(self, uri: str) -> None:
        """Ask the client to tell us when the document's .env, `${file:}` targets or key
        files change (and any `.env`, `.gitignore` or connection file), when it lets a
        server register watchers; new patterns only. (The VS Code extension also watches
        `*.snowauth.toml` and `.env` itself; ``files_changed`` handles a file once per
        notification, however many watchers reported it.)"""
        ls = self._ls
        doc = ls.docs.get(uri)
        if doc is None or not ls.watcher_registration:
            return
        relative = ls.relative_watch_patterns
        watchers: list[t.FileSystemWatcher] = []
        for pattern in WATCHED_EVERYWHERE:
            if pattern not in self._watching:
                self._watching.add(pattern)
                watchers.append(t.FileSystemWatcher(glob_pattern=pattern))
        for path in sorted(dependencies(doc, ls.env)):
            if path.name == ".env" or len(self._watching) >= WATCHED_MAX:
                continue
            if relative:
                key = str(path)
                glob: t.GlobPattern = t.RelativePattern(base_uri=path.parent.as_uri(), pattern=glob_escape(path.name))
            else:  # a glob matched against the workspace's files: any file of that name
                key = glob = "**/" + glob_escape(path.name)
            if key not in self._watching:
                self._watching.add(key)
                watchers.append(t.FileSystemWatcher(glob_pattern=glob))
        if not watchers:
            return
        registration = t.Registration(
            id=f"snowauth-watch-{len(self._watching)}",
            method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=t.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )

        async def register() -> None:
            try:
                await ls.client_register_capability_async(t.RegistrationParams([registration]))
            except Exception as exc:  # the client refused: documents are re-checked on edits only
                logger.info("the client did not register file watchers (%s)", type(exc).__name__)

        ls.spawn(register())

    def files_changed(self, params: t.DidChangeWatchedFilesParams) -> None:
        """Files changed on disk: re-check the open documents that read them, and find out
        again what git thinks when a .env or .gitignore changed. Events that come within
        WATCH_SETTLE seconds are handled together, once per file (VS Code reports a file
        once per watcher that matches it: the extension's and ours)."""
        first = not self._changed
        for event in params.changes:
            path = uri_path(event.uri)
            if path is not None:
                self._changed.add(Path(os.path.normpath(path)))
                with contextlib.suppress(OSError, RuntimeError):
                    self._changed.add(path.resolve())
        if first and self._changed:

            async def settle() -> None:
                await asyncio.sleep(WATCH_SETTLE)
                changed, self._changed = self._changed, set()
                self._recheck(changed)

            self._ls.spawn(settle())

    def _recheck(self, changed: set[Path]) -> None:
        ls = self._ls
        git_files = any(p.name in (".gitignore", ".env") for p in changed)
        rechecked = []
        for uri, doc in list(ls.docs.items()):
            if doc.version is None:
                continue
            if not dependencies(doc, ls.env).isdisjoint(changed):
                doc.environment_changed()
                rechecked.append(uri)
            if git_files:
                ls.check_git(uri)
        if rechecked:
            ls.diagnostics.changed(*rechecked)
            if get_capability(ls.client_capabilities, "workspace.inlay_hint.refresh_support", False):
                ls.workspace_inlay_hint_refresh(None)  # "✗ not set" may now be "✓ .env"
