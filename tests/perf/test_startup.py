"""What the language server loads at start, and what it leaves for the first command."""

from __future__ import annotations

import json
import subprocess
import sys

from snowauth.lsp.main import COMMANDS, create_server
from snowauth.lsp.server import SnowauthServer

HEAVY = ("httpx", "cryptography", "snowauth.oauth", "snowauth.lsp.commands", "snowauth.store")


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
