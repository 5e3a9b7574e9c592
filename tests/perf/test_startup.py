"""What the language server loads at start, and what it leaves for the first command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from snowauth.lsp.commands import COMMANDS
from snowauth.lsp.main import create_server
from snowauth.lsp.server import SnowauthServer

# the commands load at start (no stand-ins); the exchange they run loads at the first one
# (and the OS keychain loads at the first use of `token_store = "keyring"` or `remember_prompts`)
HEAVY = (
    "httpx",
    "httpcore",
    "cryptography",
    "snowauth.oauth.client",
    "snowauth.oauth.http",
    "snowauth.oauth.jwt",
    "keyring",
)


def test_starting_the_server_loads_no_token_exchange() -> None:
    code = (
        "import sys, json\n"
        "from snowauth.lsp.main import create_server\n"
        "create_server()\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert [m for m in loaded if m.startswith(HEAVY)] == []


def test_the_stand_ins_are_the_commands_that_register_registers() -> None:
    from snowauth.lsp import commands

    real = SnowauthServer()
    commands.register(real)
    assert sorted(real.protocol.fm.commands) == sorted(COMMANDS)
    ls = create_server()
    assert isinstance(ls, SnowauthServer)
    assert sorted(ls.protocol.fm.commands) == sorted(COMMANDS)


def _frame(msg: dict[str, object]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


SESSION = b"".join(
    _frame(m)
    for m in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    )
)


def test_the_server_reads_stdin_from_a_file(tmp_path: Path) -> None:
    """Not a pipe: pygls' own reader (the event loop cannot watch a file)."""
    messages = tmp_path / "in.bin"
    messages.write_bytes(SESSION)
    with messages.open("rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "snowauth", "lsp"], stdin=stdin, capture_output=True, timeout=60, check=False
        )
    assert b'"id": 1' in proc.stdout or b'"id":1' in proc.stdout
    assert b"capabilities" in proc.stdout


def test_the_server_speaks_over_one_socket_for_stdin_and_stdout() -> None:
    """stdin and stdout the same socket: stdin must stay blocking, so pygls' reader."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        proc = subprocess.Popen([sys.executable, "-m", "snowauth", "lsp"], stdin=theirs, stdout=theirs)
        ours.sendall(SESSION)
        ours.settimeout(60)
        got = b""
        while b'"id": 2' not in got and b'"id":2' not in got:
            chunk = ours.recv(1 << 16)
            assert chunk, got
            got += chunk
        assert proc.wait(timeout=60) == 0
    assert b"capabilities" in got
