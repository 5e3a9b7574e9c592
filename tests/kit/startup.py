"""The language server started as `snowauth lsp` starts it, with one more request that
lists the modules it has loaded (``sys.modules``): what its start, its first diagnostics
and each feature's first request import (tests/perf/test_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.kit.lsp import framed, read_message

MODULES = "snowauthTest/modules"

# `snowauth lsp` (the command line's own path to the server), with the request added to
# the server it makes
_START = f"""
import sys
from snowauth.lsp import main

made = main.create_server

def create_server():
    ls = made()
    ls.feature({MODULES!r})(lambda _params: sorted(sys.modules))
    return ls

main.create_server = create_server
from snowauth.cli import main as cli
raise SystemExit(cli(["lsp"]))
"""


class Started:
    """A server on pipes: send requests and notifications, read up to an answer or a
    notification, ask for its modules."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _START],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=folder,
            env=env,
        )
        self._id = 0
        self.request("initialize", {"capabilities": {}, "rootUri": folder.as_uri(), "processId": None})
        self.notify("initialized", {})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(framed(json.dumps({"jsonrpc": "2.0", **message}).encode()))
        self.proc.stdin.flush()

    def _until(self, done: Any) -> Any:
        assert self.proc.stdout is not None
        while True:
            message = read_message(self.proc.stdout)
            assert message is not None, "the server closed its output"
            if "method" in message and "id" in message:  # the server asks: an empty answer
                self._send({"id": message["id"], "result": None})
            elif done(message):
                return message

    def request(self, method: str, params: Any) -> Any:
        self._id += 1
        msg_id = self._id
        self._send({"id": msg_id, "method": method, **({} if params is None else {"params": params})})
        answer = self._until(lambda m: m.get("id") == msg_id and "method" not in m)
        assert "error" not in answer, answer
        return answer["result"]

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, **({} if params is None else {"params": params})})

    def open(self, path: Path) -> list[dict[str, Any]]:
        """Open ``path`` and wait for its first diagnostics (pushed: no pull capability)."""
        uri = path.as_uri()
        item = {"uri": uri, "languageId": "snowauth-toml", "version": 1, "text": path.read_text(encoding="utf-8")}
        self.notify("textDocument/didOpen", {"textDocument": item})
        published = self._until(
            lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
        )
        return list(published["params"]["diagnostics"])

    def modules(self) -> set[str]:
        return set(self.request(MODULES, {}))

    def close(self) -> None:
        self.request("shutdown", None)
        self.notify("exit", None)
        self.proc.wait(timeout=30)
