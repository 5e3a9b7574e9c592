"""LSP-level chaos: random valid and invalid messages, a flood of edits, cancellation,
and malformed JSON-RPC bytes. The server answers every request (a result or a proper
JSON-RPC error), stays responsive, keeps its documents right and its memory bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from snowauth.emulator import Emulator
from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex
from snowauth.trust import local_emulator
from tests.kit.corpus import BASES, ENV_VARS, LONG, STATS, TABLES, cursor, random_edit, random_file, span
from tests.kit.lsp import (
    SERVER,
    Editor,
    capabilities,
    change_event,
    diag_key,
    did_change,
    framed,
    make_client,
    open_doc,
    raw_notify,
    raw_request,
    read_message,
    rss_kib,
    server_pid,
    wait_published,
)

SEED = int(os.environ.get("SNOWAUTH_FUZZ_SEED", "7" if not LONG else str(random.randrange(1 << 30))))
STEPS = 5000 if LONG else 700
FLOOD = 1000
SECRETS = {"SNOW_T_CLIENT_SECRET": "demo-client-secret", "SNOW_T_PASSWORD": "demo-password"}
PROCESS_ENV = {**os.environ, **ENV_VARS, **SECRETS}
# the JSON-RPC and LSP error codes a proper error reply may carry
ERROR_CODES = {-32700, -32600, -32601, -32602, -32603, -32800, -32801, -32802, -32803, -32002}
UINT_MAX = 2**31 - 1


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env=PROCESS_ENV, client_factory=make_client),
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(t.InitializeParams(capabilities=capabilities("utf-16")))
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu, local_emulator(emu.url):  # the user's own emulator
        yield emu


class ServerModel:
    """What the server's copy of each document must be: ranges past a line's end or past
    the last line are clamped (LSP's rule), the same way an editor's model would be."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def change(self, uri: str, start: t.Position, end: t.Position, new: str) -> None:
        text = self.texts[uri]
        conv = Converter(LineIndex(text), "utf-16")
        a = conv.offset(start)
        b = max(a, conv.offset(end))
        self.texts[uri] = text[:a] + new + text[b:]


class Requests:
    """Requests in flight, each to be answered with a result or a proper error."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.pending: list[tuple[str, Any, Future[Any]]] = []
        self.next_id = 10_000

    def send(self, method: str, params: Any) -> int:
        self.next_id += 1
        self.pending.append((method, params, raw_request(self.client, self.next_id, method, params)))
        return self.next_id

    async def settle(self, timeout: float = 15) -> tuple[int, int, list[str]]:
        """(results, errors, problems) once every pending request is answered."""
        results = errors = 0
        problems = []
        for method, params, future in self.pending:
            try:
                await asyncio.wait_for(asyncio.wrap_future(future), timeout)
                results += 1
            except JsonRpcException as exc:
                errors += 1
                if exc.code not in ERROR_CODES and not -32099 <= exc.code <= -32000:
                    problems.append(f"{method}: error code {exc.code}")
                if exc.data is not None:
                    problems.append(f"{method}: error data {exc.data!r}")
            except TimeoutError:
                problems.append(f"{method}: no answer to {json.dumps(params)[:200]}")
        self.pending = []
        return results, errors, problems


def random_position(rng: random.Random, text: str | None) -> dict[str, int]:
    lines = (text or "").count("\n") + 2
    r = rng.random()
    if r < 0.7:
        return {"line": rng.randrange(lines), "character": rng.randrange(120)}
    if r < 0.85:
        return {"line": rng.randrange(lines, lines + 1000), "character": rng.randrange(1000)}
    return {"line": rng.choice([0, UINT_MAX]), "character": UINT_MAX}


def chaos_step(rng: random.Random, client: LanguageClient, model: ServerModel, reqs: Requests, folder: Path) -> str:
    """One random message (or a request followed by its cancellation); returns its kind."""
    uris = list(model.texts)
    uri = rng.choice(uris) if uris and rng.random() < 0.85 else (folder / f"never{rng.randrange(5)}.toml").as_uri()
    text = model.texts.get(uri)
    doc = {"uri": uri}
    r = rng.random()
    if r < 0.06 and len(uris) < 8:
        new_uri = (folder / f"chaos{rng.randrange(1 << 20)}.snowauth.toml").as_uri()
        model.texts[new_uri] = random_file(rng)
        model.versions[new_uri] = 1
        open_doc(client, new_uri, model.texts[new_uri])
        return "didOpen"
    if r < 0.09 and uris:
        model.texts.pop(uri, None)
        model.versions.pop(uri, None)
        raw_notify(client, "textDocument/didClose", {"textDocument": doc})
        return "didClose"
    if r < 0.40:
        if text is None:  # an edit to a document that is not open: ignored
            rng_range = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 1}}
            change = {"range": rng_range, "text": "x"}
            raw_notify(
                client, "textDocument/didChange", {"textDocument": {**doc, "version": 2}, "contentChanges": [change]}
            )
            return "didChange (unopened)"
        model.versions[uri] += 1
        if rng.random() < 0.7:
            start, end, new = span(text, random_edit(rng))
            ev = change_event(text, start, end, new, "utf-16")
            rng_s, rng_e = ev.range.start, ev.range.end
            kind = "didChange"
        else:  # positions past the end of a line or of the document
            p1, p2 = random_position(rng, text), random_position(rng, text)
            p1, p2 = sorted([p1, p2], key=lambda p: (p["line"], p["character"]))
            rng_s, rng_e = t.Position(**p1), t.Position(**p2)
            new = rng.choice(["", "x", "😀", "\r\n", "[connections.z]\n"])
            kind = "didChange (out of range)"
        model.change(uri, rng_s, rng_e, new)
        change = {
            "range": {
                "start": {"line": rng_s.line, "character": rng_s.character},
                "end": {"line": rng_e.line, "character": rng_e.character},
            },
            "text": new,
        }
        raw_notify(
            client,
            "textDocument/didChange",
            {"textDocument": {**doc, "version": model.versions[uri]}, "contentChanges": [change]},
        )
        return kind
    if r < 0.70:
        method = rng.choice(
            [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/documentSymbol",
                "textDocument/codeAction",
                "textDocument/codeLens",
                "textDocument/diagnostic",
                "snowauth/listConnections",
            ]
        )
        pos = random_position(rng, text)
        params: dict[str, Any] = {"textDocument": doc}
        if method in ("textDocument/hover", "textDocument/completion"):
            params["position"] = pos
        elif method == "textDocument/codeAction":
            params["range"] = {"start": pos, "end": random_position(rng, text)}
            params["context"] = {"diagnostics": []}
        elif method == "snowauth/listConnections":
            params = {"uri": uri}
        msg_id = reqs.send(method, params)
        if rng.random() < 0.1:
            raw_notify(client, "$/cancelRequest", {"id": msg_id})
            return method + " (cancelled)"
        return method
    if r < 0.80:
        command, arguments = rng.choice(
            [
                ("snowauth.fetchToken", [{"uri": uri}]),
                ("snowauth.refreshToken", [{"uri": uri, "connection": "nope"}]),
                ("snowauth.revokeToken", [{"uri": 5}]),
                ("snowauth.testConnection", ["not an object"]),
                ("snowauth.insertToken", [{"uri": uri, "target": "nowhere"}]),
                ("snowauth.fetchToken", [{"uri": uri}, {"uri": uri}]),
                ("snowauth.noSuchCommand", []),
            ]
        )
        reqs.send("workspace/executeCommand", {"command": command, "arguments": arguments})
        return "executeCommand"
    if r < 0.84:
        reqs.send(rng.choice(["snowauth/noSuchMethod", "textDocument/noSuchThing", "$/noSuchRequest"]), {"x": 1})
        return "unknown method"
    if r < 0.88:
        reqs.send(*rng.choice(INVALID_PARAMS))
        return "invalid params"
    if r < 0.94:
        raw_notify(client, rng.choice(["snowauth/noSuchNotification", "$/noSuchNotification"]), {"x": [1, 2]})
        return "unknown notification"
    if r < 0.97:
        raw_notify(client, "$/cancelRequest", {"id": rng.choice([123456789, "no-such-id", reqs.next_id])})
        return "$/cancelRequest"
    raw_notify(client, "textDocument/didSave", {"textDocument": doc})
    return "didSave"


async def test_chaos_random_messages_flood_and_memory(client: LanguageClient, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    pid = server_pid(client)
    warm = (tmp_path / "warm.snowauth.toml").as_uri()
    open_doc(client, warm, TABLES)
    await wait_published(client, warm, 1)
    await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(warm), t.Position(4, 2)))
    rss_before = rss_kib(pid)

    # 1. random valid and invalid messages
    model = ServerModel()
    reqs = Requests(client)
    kinds: dict[str, int] = {}
    for step in range(STEPS):
        kind = chaos_step(rng, client, model, reqs, tmp_path)
        kinds[kind] = kinds.get(kind, 0) + 1
        if step % 50 == 49:
            await asyncio.sleep(0.01)
    results, errors, problems = await reqs.settle()
    assert not problems, problems[:10]
    # every open document is what the model says: its diagnostics are those of the same
    # text opened fresh
    for n, (uri, text) in enumerate(model.texts.items()):
        edited = await wait_published(client, uri, model.versions[uri])
        fresh_uri = (tmp_path / f"fresh{n}.snowauth.toml").as_uri()
        open_doc(client, fresh_uri, text)
        fresh = await wait_published(client, fresh_uri, 1)
        assert [diag_key(d, message=True) for d in edited] == [diag_key(d, message=True) for d in fresh], uri

    # 2. a flood of 1,000 edits within a second, then a hover answers within seconds
    flood_uri = (tmp_path / "flood.snowauth.toml").as_uri()
    text = BASES[0]
    open_doc(client, flood_uri, text)
    version = 1
    typed = "# typed by a very fast user 😀 漢字\n"
    at = text.index("[connections.svc]")  # where the user types
    published_before = client.publish_count  # type: ignore[attr-defined]
    started = time.monotonic()
    for i in range(FLOOD):
        if i % 4:
            at = cursor(text, at)
            start, end, new = at, at, typed[i % len(typed)]
            at += 1
        else:
            start, end, new = span(text, random_edit(rng))
        version += 1
        did_change(client, flood_uri, version, [change_event(text, start, end, new, "utf-16")])
        text = text[:start] + new + text[end:]
    sent_in = time.monotonic() - started
    assert sent_in < 1.0, sent_in
    asked = time.monotonic()
    hover = await asyncio.wait_for(
        client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(flood_uri), t.Position(4, 3))),
        timeout=10,
    )
    hover_after = time.monotonic() - asked
    assert hover_after < 5.0, hover_after
    del hover
    flooded = await wait_published(client, flood_uri, version)
    flood_publishes = client.publish_count - published_before  # type: ignore[attr-defined]
    fresh_uri = (tmp_path / "flood-fresh.snowauth.toml").as_uri()
    open_doc(client, fresh_uri, text)
    fresh = await wait_published(client, fresh_uri, 1)
    assert [diag_key(d, message=True) for d in flooded] == [diag_key(d, message=True) for d in fresh]

    # 3. open and close many documents: memory does not grow with what was closed (kept
    # under 64 KiB of diagnostics each: see test_bug_large_diagnostics_cut_while_git_runs)
    big = "\n".join([BASES[0]] * 4)
    for n in range(40):
        uri = (tmp_path / f"big{n}.snowauth.toml").as_uri()
        open_doc(client, uri, big)
        await wait_published(client, uri, 1)
        raw_notify(client, "textDocument/didClose", {"textDocument": {"uri": uri}})
    await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(warm), t.Position(4, 2)))
    rss_after = rss_kib(pid)

    STATS.add("chaos: messages sent", STEPS)
    STATS.add("chaos: requests answered with a result", results)
    STATS.add("chaos: requests answered with an error", errors)
    STATS.add("chaos: flood edits", FLOOD)
    STATS.add("chaos: host confirmations asked (all cancelled: nothing sent)", len(client.questions))  # type: ignore[attr-defined]
    STATS.notes["chaos: message kinds"] = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    STATS.notes["chaos: flood"] = (
        f"{FLOOD} didChange sent in {sent_in:.2f} s, hover answered {hover_after:.2f} s later, "
        f"{flood_publishes} publishDiagnostics for them"
    )
    STATS.notes["chaos: server VmRSS"] = f"{rss_before} KiB before, {rss_after} KiB after"
    assert rss_after - rss_before < 64 * 1024, (rss_before, rss_after)


async def test_chaos_cancel_a_fetch_mid_flight(client: LanguageClient, emulator: Emulator, tmp_path: Path) -> None:
    """``$/cancelRequest`` while a fetch waits on a slow instance: the request is answered
    at once (cancelled), the server stays responsive, and the document stays consistent."""
    editor = Editor(client)
    uri = (tmp_path / "cancel.snowauth.toml").as_uri()
    text = f"""[connections.dev]
instance = "{emulator.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_T_CLIENT_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_T_PASSWORD}}"
"""
    editor.open(uri, text)
    emulator.set_mode(slow=1.5)
    future = raw_request(
        client, "fetch-1", "workspace/executeCommand", {"command": "snowauth.fetchToken", "arguments": [{"uri": uri}]}
    )
    await asyncio.sleep(0.3)
    cancelled_at = time.monotonic()
    raw_notify(client, "$/cancelRequest", {"id": "fetch-1"})
    outcome: object
    try:
        outcome = await asyncio.wait_for(asyncio.wrap_future(future), 10)
    except JsonRpcException as exc:
        outcome = exc.code
    answered_in = time.monotonic() - cancelled_at
    assert outcome == -32800 or isinstance(outcome, dict), outcome
    hover = await asyncio.wait_for(
        client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(1, 2))), 5
    )
    assert hover is not None
    await asyncio.sleep(2.0)  # let the exchange finish, whatever it does after the cancel
    final = editor.texts[uri]
    after_cancel = "the token was still written" if "[connections.dev.token]" in final else "nothing was written"
    STATS.notes["chaos: fetch cancelled mid-flight"] = (
        f"answered {outcome!r} {answered_in:.2f} s after $/cancelRequest; {after_cancel}"
    )
    assert final == text or final.startswith(text.rstrip("\n"))
    version = editor.versions[uri]
    edited = await wait_published(client, uri, version)
    fresh_uri = (tmp_path / "cancel-fresh.snowauth.toml").as_uri()
    open_doc(client, fresh_uri, final)
    fresh = await wait_published(client, fresh_uri, 1)
    assert [diag_key(d) for d in edited] == [diag_key(d) for d in fresh]


async def test_chaos_a_cancelled_fetch_writes_nothing(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    """Found by the chaos tests (fixed in 88acc55): the client cancels
    `snowauth.fetchToken` while the instance is slow; the server answered -32800 at once
    but the exchange went on (the shared future was shielded) and ~1.5 s later a
    `workspace/applyEdit` wrote `[connections.dev.token]` into the document the client
    was told nothing would happen to (SECURITY.md: a failed command leaves the
    document untouched). Now the cancel stops the exchange: nothing is written."""
    editor = Editor(client)
    uri = (tmp_path / "cancelled.snowauth.toml").as_uri()
    text = f"""[connections.dev]
instance = "{emulator.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_T_CLIENT_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_T_PASSWORD}}"
"""
    editor.open(uri, text)
    emulator.set_mode(slow=1.5)
    params = {"command": "snowauth.fetchToken", "arguments": [{"uri": uri}]}
    future = raw_request(client, "fetch-2", "workspace/executeCommand", params)
    await asyncio.sleep(0.3)
    raw_notify(client, "$/cancelRequest", {"id": "fetch-2"})
    with pytest.raises(JsonRpcException) as cancelled:
        await asyncio.wait_for(asyncio.wrap_future(future), 5)
    assert cancelled.value.code == -32800
    deadline = time.monotonic() + 6  # the slow instance answers after 1.5 s
    while not editor.applied and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert editor.applied == [] and editor.texts[uri] == text


INVALID_PARAMS = [
    ("textDocument/hover", {"foo": 1}),
    ("textDocument/hover", None),
    ("textDocument/hover", [1, 2]),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x"}, "position": {"line": -1, "character": 0}}),
    ("textDocument/completion", {"textDocument": {"uri": "file:///x"}, "position": {"line": "0", "character": 0}}),
    ("textDocument/completion", {"textDocument": {"uri": "file:///x"}, "position": {"line": 2**40, "character": 0}}),
    ("workspace/executeCommand", {"arguments": []}),
]


async def test_chaos_requests_with_invalid_params_are_answered(client: LanguageClient) -> None:
    """Every request whose params do not fit its method gets -32602 Invalid params (the
    chaos suite found pygls dropping them, leaving the client waiting forever; fixed in
    lsp/protocol.py), without the params echoed back."""
    futures = [raw_request(client, f"bad-{i}", method, params) for i, (method, params) in enumerate(INVALID_PARAMS)]
    codes = []
    for future in futures:
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), 5)
            codes.append(0)
        except JsonRpcException as exc:
            codes.append(exc.code)
            assert exc.data is None and "foo" not in exc.message
    # cattrs reads the string "0" as a line number: a result is an answer too
    assert set(codes) <= {0, -32602} and codes.count(-32602) >= len(INVALID_PARAMS) - 1, codes
    hover = client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier("file:///x.snowauth.toml"), t.Position(0, 0))
    )
    assert await asyncio.wait_for(hover, 5) is None
    STATS.add("chaos: requests with invalid params", len(INVALID_PARAMS))


# -- malformed JSON-RPC bytes on a server's stdin -------------------------------------------------


class RawServer:
    """``snowauth lsp`` on pipes, fed raw bytes; answers are collected by id."""

    def __init__(self, slow_reader: float = 0.0) -> None:
        self.slow_reader = slow_reader  # seconds a slow client takes before each message
        self.process = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=PROCESS_ENV
        )
        self.answers: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.stderr = b""
        self.stream_error: str | None = None
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _read(self) -> None:
        try:
            self._read_messages()
        except Exception as exc:  # a corrupt stream from the server: the test says so
            self.stream_error = f"{type(exc).__name__}: {exc}"

    def _read_messages(self) -> None:
        out = self.process.stdout
        assert out is not None
        while (message := read_message(out, self.slow_reader)) is not None:
            with self._cond:
                if "id" in message and "method" not in message:
                    self.answers[message["id"]] = message
                else:
                    self.notifications.append(message)
                self._cond.notify_all()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: object) -> None:
        self.write(framed(json.dumps(message).encode()))

    def published(self, uri: str, timeout: float = 10) -> list[Any]:
        """The diagnostics of the next publishDiagnostics for ``uri``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, message in enumerate(self.notifications):
                    if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                        del self.notifications[: i + 1]
                        return list(message["params"]["diagnostics"])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no diagnostics for {uri} (stream: {self.stream_error})")
                self._cond.wait(left)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def answer(self, msg_id: object, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to {msg_id!r} (stream: {self.stream_error})")
                self._cond.wait(left)
            return self.answers[msg_id]


def hover(msg_id: object) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "textDocument/hover",
        "params": {"textDocument": {"uri": "file:///raw.snowauth.toml"}, "position": {"line": 1, "character": 2}},
    }


MALFORMED: list[tuple[str, bytes]] = [
    ("no headers at all", b'{"jsonrpc": "2.0", "id": 900, "method": "shutdown"}\r\n'),
    ("a header line of junk", b"hello there\r\n\r\n"),
    ("a non-numeric Content-Length", b"Content-Length: abc\r\n\r\n{}\r\n"),
    ("a negative Content-Length", b"Content-Length: -5\r\n\r\n{}\r\n"),
    ("bad JSON", framed(b"{not json")),
    ("truncated JSON", framed(b'{"jsonrpc": "2.0", "id": 904, "method": "shutdown"')),
    ("JSON that is not an object", framed(b"[1,2,3]")),
    ("a bare number", framed(b"42")),
    ("null", framed(b"null")),
    ("bytes that are not UTF-8", framed(b"\xff\xfe\x00\x01")),
    ("NUL bytes", framed(b"\x00\x00\x00")),
    ("an object without jsonrpc", framed(b'{"id": 901, "method": "shutdown"}')),
    ("jsonrpc 1.0", framed(b'{"jsonrpc": "1.0", "id": 902, "method": "shutdown"}')),
    ("a response to nothing", framed(b'{"jsonrpc": "2.0", "id": 903, "result": null}')),
    ("an error to nothing", framed(b'{"jsonrpc": "2.0", "id": 905, "error": {"code": 1, "message": "x"}}')),
    ("an unknown header", b"X-Whatever: 1\r\n\r\n"),
    ("a Content-Length shorter than the body", framed(b'{"jsonrpc": "2.0"}\r\n\r\n', 5)),
    ("a deeply nested body", framed(b"[" * 100_000 + b"]" * 100_000)),
]


def test_chaos_malformed_jsonrpc_bytes() -> None:
    """Junk on stdin (no headers, bad JSON, wrong framing…) never stops the server: after
    each, a valid request is answered; at the end it shuts down cleanly."""
    server = RawServer()
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        assert "result" in server.answer(1)
        server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        text = TABLES
        server.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": "file:///raw.snowauth.toml",
                        "languageId": "snowauth-toml",
                        "version": 1,
                        "text": text,
                    }
                },
            }
        )
        answered_after = []
        for n, (name, junk) in enumerate(MALFORMED):
            server.write(junk)
            # after bad framing the next message may be swallowed: the one after is not
            for attempt in range(3):
                msg_id = f"after-{n}-{attempt}"
                server.send(hover(msg_id))
                try:
                    reply = server.answer(msg_id, timeout=3)
                except TimeoutError:
                    continue
                assert "result" in reply, (name, reply)
                answered_after.append(name)
                break
            else:
                raise AssertionError(f"the server stopped answering after {name}")
            assert server.process.poll() is None, name
        assert answered_after == [name for name, _ in MALFORMED]
        for msg_id in (900, 901, 902, 904):  # none of the malformed requests was run
            assert msg_id not in server.answers or "error" in server.answers[msg_id]
        server.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        assert server.answer(2).get("result", "missing") is None
        server.send({"jsonrpc": "2.0", "method": "exit"})
        assert server.process.wait(timeout=10) == 0
    finally:
        server.close()
    STATS.add("chaos: malformed JSON-RPC inputs", len(MALFORMED))


def test_chaos_large_diagnostics_arrive_whole_while_git_runs(tmp_path: Path) -> None:
    """Found by the chaos test (fixed in d06af3d): open a file with ~120 KB of
    diagnostics while another file's open runs `git`, again and again, with a client that
    reads slowly: every publishDiagnostics arrives whole. Before the fix, git ran in a
    worker thread (subprocess.run, vfork on Linux) and a blocked write of a large message
    to stdout came back short (BufferedWriter.write returned e.g. 66273 of 140001 bytes)
    and pygls' StdoutWriter ignored the rest: the message was cut after 64 KiB, the client
    waited for the rest of its Content-Length forever, the session was dead. A 10-line
    program shows the same (a thread running subprocess.run(["git", "rev-parse"]) while
    the main thread writes 140 KB chunks to a pipe); subprocess._USE_VFORK = False, or a
    write loop that finishes short writes, makes it go away."""
    # in a repository, so that each open does start git (outside one, none starts)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, capture_output=True)
    server = RawServer(slow_reader=0.01)
    big = "\n".join([TABLES] * 20)
    expected: dict[str, int] = {}
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        server.answer(1)
        server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        rng = random.Random(5)
        for n in range(100):
            # a small file's open starts git; a large file's diagnostics are being
            # written around then
            small = (tmp_path / f"small{n}.snowauth.toml").as_uri()
            uri = (tmp_path / f"big{n}.snowauth.toml").as_uri()
            for u, text in ((small, TABLES), (uri, big)):
                item = {"uri": u, "languageId": "snowauth-toml", "version": 1, "text": text}
                server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}})
                time.sleep(rng.uniform(0, 0.02))
            server.published(small, timeout=3)
            count = len(server.published(uri, timeout=3))
            assert count > 400 and count == expected.setdefault("count", count)
            for u in (small, uri):
                server.send(
                    {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": u}}}
                )
    finally:
        server.close()


def test_chaos_server_resynchronises_after_stray_bytes() -> None:
    """Found by the chaos tests (fixed in f838686): after a bad header
    (`Content-Length: abc`) and a stray `{}` with no line break, pygls' reader glued the
    stray bytes to the next `Content-Length:` line, which then did not match; as no body
    ends with a line break, every following message was glued to the next header the same
    way and the running server never answered again. It answers now."""
    server = RawServer()
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        server.answer(1)
        server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        server.write(b"Content-Length: abc\r\n\r\n{}")
        for attempt in range(5):
            server.send(hover(f"after-{attempt}"))
        assert server.process.poll() is None
        server.answer("after-4", timeout=5)
    finally:
        server.close()
