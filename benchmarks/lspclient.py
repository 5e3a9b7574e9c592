"""A small, synchronous LSP client over stdio, for timing servers from the outside.

It speaks JSON-RPC with Content-Length framing on the server's real stdin/stdout, parses
every message it receives (as an editor does), answers the server's own requests
(`workspace/applyEdit` is applied=true, everything else null) and does nothing else, so
that what it measures is the server plus the pipe, not the client.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

Message = dict[str, Any]

CAPABILITIES: Message = {
    "general": {"positionEncodings": ["utf-16"]},
    "textDocument": {
        "synchronization": {"didSave": True, "dynamicRegistration": False},
        "publishDiagnostics": {"relatedInformation": True, "tagSupport": {"valueSet": [1, 2]}, "versionSupport": True},
        "completion": {
            "completionItem": {"snippetSupport": True, "documentationFormat": ["markdown", "plaintext"]},
        },
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
    },
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create"]},
        "executeCommand": {},
    },
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
}


class Client:
    def __init__(
        self, cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None, pull: bool = False
    ) -> None:
        self.pull = pull
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self._buf = bytearray()
        self._next_id = 0
        self.server_requests: list[str] = []
        self.extra_capabilities: Message = {}  # merged into CAPABILITIES at initialize
        self.init_result: Any = None
        self.received_at = self.parsed_at = 0.0  # when the last message was read whole, and parsed
        self.received_bytes = 0

    # -- wire -------------------------------------------------------------------------------

    def send(self, msg: Message) -> None:
        body = json.dumps(msg, separators=(",", ":")).encode()
        data = b"Content-Length: %d\r\n\r\n" % len(body) + body
        view = memoryview(data)
        while view:
            n = os.write(self._in, view)
            view = view[n:]

    def _read(self, deadline: float) -> Message:
        while True:
            head_end = self._buf.find(b"\r\n\r\n")
            if head_end >= 0:
                length = 0
                for line in bytes(self._buf[:head_end]).split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                end = head_end + 4 + length
                if len(self._buf) >= end:
                    self.received_at = time.perf_counter()  # the whole message is in
                    body = bytes(self._buf[head_end + 4 : end])
                    del self._buf[:end]
                    msg: Message = json.loads(body)
                    self.parsed_at = time.perf_counter()
                    self.received_bytes = length
                    return msg
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no message from the server in time")
            ready, _, _ = select.select([self._out], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise EOFError("the server closed its output")
            self._buf += chunk

    def wait(self, match: Callable[[Message], bool], timeout: float = 60.0) -> Message:
        """Read (and answer server requests) until a message satisfies ``match``."""
        deadline = time.perf_counter() + timeout
        while True:
            msg = self._read(deadline)
            if "method" in msg and "id" in msg:  # a request from the server
                self.server_requests.append(msg["method"])
                result: Any = {"applied": True} if msg["method"] == "workspace/applyEdit" else None
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            if match(msg):
                return msg

    # -- LSP ----------------------------------------------------------------------------------

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_async(self, method: str, params: Any) -> int:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def response(self, rid: int, timeout: float = 60.0) -> Any:
        msg = self.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)
        if "error" in msg:
            raise RuntimeError(f"{msg['error'].get('message')}")
        return msg.get("result")

    def request(self, method: str, params: Any, timeout: float = 60.0) -> Any:
        return self.response(self.request_async(method, params), timeout)

    def timed_request(self, method: str, params: Any, timeout: float = 60.0) -> tuple[Any, float, float]:
        """(result, ms from sending to the answer's last byte read, ms more to parse it)."""
        t = time.perf_counter()
        result = self.request(method, params, timeout)
        return result, (self.received_at - t) * 1000, (self.parsed_at - self.received_at) * 1000

    def initialize(self, root: Path, options: Any = None) -> Any:
        capabilities = json.loads(json.dumps(CAPABILITIES))
        for part, extra in self.extra_capabilities.items():
            capabilities.setdefault(part, {}).update(extra)
        if self.pull:
            capabilities["textDocument"]["diagnostic"] = {"dynamicRegistration": False, "relatedDocumentSupport": False}
            capabilities["workspace"]["diagnostics"] = {"refreshSupport": False}
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": capabilities,
                "initializationOptions": options,
                "clientInfo": {"name": "snowauth-bench"},
            },
        )
        self.notify("initialized", {})
        self.init_result = result
        return result

    def open(self, uri: str, text: str, version: int = 1, language: str = "toml") -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}},
        )

    def change(self, uri: str, version: int, changes: list[Message]) -> None:
        self.notify(
            "textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}
        )

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60.0) -> list[Message]:
        """The next publishDiagnostics for ``uri`` (at ``version``, when given)."""

        def match(m: Message) -> bool:
            if m.get("method") != "textDocument/publishDiagnostics":
                return False
            p = m["params"]
            return bool(p["uri"] == uri and (version is None or p.get("version") in (version, None)))

        found: list[Message] = self.wait(match, timeout)["params"]["diagnostics"]
        return found

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()

    def peak_rss_mb(self) -> float:
        """The server's peak resident set so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")
