"""Helpers for the hardening LSP sessions: a pytest-lsp client that records the version
of every pushed diagnostic, waiting for a version, raw JSON-RPC messages through the
client's own transport, the server's pid and memory, and document edits sent as LSP
ranges in the negotiated encoding."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex

SERVER = [sys.executable, "-m", "snowauth", "lsp"]

SEVERITY = {"error": 1, "warning": 2, "information": 3, "hint": 4}


def _publish(ls: LanguageClient, params: t.PublishDiagnosticsParams) -> None:
    ls.diagnostics[params.uri] = params.diagnostics
    ls.published[params.uri] = (params.version, list(params.diagnostics))  # type: ignore[attr-defined]
    ls.publish_count += 1  # type: ignore[attr-defined]


def _confirm(ls: LanguageClient, params: t.ShowMessageRequestParams) -> t.MessageActionItem | None:
    """The user's answer to "Send the credentials … to <host>?": Cancel, unless the test
    set ``send_to_new_hosts``."""
    ls.questions.append(params.message)  # type: ignore[attr-defined]
    wanted = "Send" if ls.send_to_new_hosts else "Cancel"  # type: ignore[attr-defined]
    return next((a for a in params.actions or [] if a.title == wanted), None)


def make_client() -> LanguageClient:
    """pytest-lsp's test client, recording ``(version, diagnostics)`` per URI, and a user
    who answers the server's questions (``window/showMessageRequest``)."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish
    features[t.WINDOW_SHOW_MESSAGE_REQUEST] = _confirm
    register_lsp_features(client, features)
    client.published = {}  # type: ignore[attr-defined]
    client.publish_count = 0  # type: ignore[attr-defined]
    client.questions = []  # type: ignore[attr-defined]
    client.send_to_new_hosts = False  # type: ignore[attr-defined]
    return client


def capabilities(encoding: str) -> t.ClientCapabilities:
    """VS Code's capabilities (UTF-16), or Neovim's (UTF-8 first) with pushed
    diagnostics instead of pulled ones."""
    if encoding == "utf-16":
        return client_capabilities("visual-studio-code")
    caps = client_capabilities("neovim")
    assert caps.text_document is not None
    caps.text_document.diagnostic = None
    return caps


async def wait_published(client: LanguageClient, uri: str, version: int | None, timeout: float = 20) -> list[Any]:
    """The diagnostics pushed for ``uri`` at ``version`` (waiting for them)."""
    deadline = time.monotonic() + timeout
    published: dict[str, tuple[int | None, list[t.Diagnostic]]] = client.published  # type: ignore[attr-defined]
    while True:
        got = published.get(uri)
        if got is not None and got[0] == version:
            return got[1]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no diagnostics for {uri} version {version} (last: {got and got[0]}); {health(client)}")
        await asyncio.sleep(0.01)


def health(client: LanguageClient) -> str:
    """The state of the client's connection and of the server process, for a failure."""
    tasks = [
        f"task {i}: "
        + ("running" if not task.done() else repr(task.exception() if not task.cancelled() else "cancelled"))
        for i, task in enumerate(getattr(client, "_async_tasks", []))
    ]
    process = getattr(client, "_server", None)
    code = getattr(process, "returncode", "?")
    return f"server exit code {code}; client {', '.join(tasks) or 'no tasks'}; published {client.publish_count}"  # type: ignore[attr-defined]


def diag_key(d: t.Diagnostic, *, message: bool = False) -> tuple[Any, ...]:
    r = d.range
    key = (r.start.line, r.start.character, r.end.line, r.end.character, d.code, int(d.severity or 0))
    return (*key, d.message) if message else key


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri=uri, language_id="snowauth-toml", version=version, text=text)
        )
    )


def change_event(text: str, start: int, end: int, new: str, encoding: str) -> t.TextDocumentContentChangePartial:
    conv = Converter(LineIndex(text), encoding)
    return t.TextDocumentContentChangePartial(range=conv.range(start, end), text=new)


def did_change(client: LanguageClient, uri: str, version: int, changes: list[Any]) -> None:
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(t.VersionedTextDocumentIdentifier(uri=uri, version=version), changes)
    )


# -- raw JSON-RPC through the client's transport ------------------------------------------------


def raw_request(client: LanguageClient, msg_id: int | str, method: str, params: Any = None) -> Future[Any]:
    """Send any request (valid or not) and get a future of its answer: the result, or a
    JsonRpcException for an error reply. Nothing is validated on the way out."""
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    client.protocol._send_data(message)
    return future


def raw_notify(client: LanguageClient, method: str, params: Any = None) -> None:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    client.protocol._send_data(message)


# -- the server process ----------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (2nd field) is in parentheses and may hold spaces
    return int(stat.rsplit(")", 1)[1].split()[1])


def server_pids() -> list[int]:
    """Children of this process whose command line is ``… snowauth lsp``, from /proc."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if _ppid(pid) != me:
            continue
        cmd = _cmdline(pid)
        if "snowauth" in cmd and "lsp" in cmd:
            found.append(pid)
    return found


def server_pid(client: LanguageClient) -> int:
    """The pid of the client's server: found in /proc, checked against pytest-lsp's."""
    process = getattr(client, "_server", None)
    known = getattr(process, "pid", None)
    pids = server_pids()
    if known is not None:
        assert known in pids, (known, pids)
        return int(known)
    assert len(pids) == 1, pids
    return pids[0]


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
