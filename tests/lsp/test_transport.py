"""The server's stdout pipe: widened so that a long answer (a 10,000-line file's outline,
2.6 MB) crosses in a few writes (lsp/stdio.py, docs/performance.md)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

from tests.kit.lsp import SERVER, framed, read_message

F_GETPIPE_SZ = 1032


def test_the_server_widens_its_output_pipe_and_a_long_answer_arrives_whole(tmp_path: Path) -> None:
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        default = fcntl.fcntl(proc.stdout.fileno(), F_GETPIPE_SZ)
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        uri = (tmp_path / "long.snowauth.toml").as_uri()
        text = "".join(f'[connections.c{i}]\ninstance = "dev{i}"\ngrant_type = "password"\n' for i in range(3000))
        for message in (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": os.getpid(), "capabilities": {}},
            },
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": text}},
            },
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "textDocument/foldingRange",
                "params": {"textDocument": {"uri": uri}},
            },
        ):
            proc.stdin.write(framed(json.dumps(message).encode()))
        proc.stdin.flush()
        answers = {}
        while len(answers) < 2:
            message = read_message(proc.stdout)
            assert message is not None
            if "id" in message and "method" not in message:
                answers[message["id"]] = message
        assert fcntl.fcntl(proc.stdout.fileno(), F_GETPIPE_SZ) == (1 << 20 if limit >= 1 << 20 else default)
        folds = answers[2]["result"]
        assert [(f["startLine"], f["endLine"]) for f in folds] == [(3 * i, 3 * i + 2) for i in range(3000)]
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
