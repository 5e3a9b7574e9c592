"""The core loads no network or editor protocol stack (ARCHITECTURE.md): every module of
``snowauth`` outside ``lsp/``, ``oauth/``, ``emulator/`` and the command-line entry points
imports without httpx, httpcore, pygls or lsprotocol. The modules are found by walking the
package, so a new module is covered without editing this test."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import snowauth

OUTSIDE_THE_CORE = ("snowauth.lsp", "snowauth.oauth", "snowauth.emulator")
# the command line: it parses arguments, talks to a terminal and may run the exchange
ENTRY_POINTS = ("snowauth.cli", "snowauth.__main__", "snowauth.token_cli", "snowauth.exec_cli")
PROTOCOL_STACK = ("httpx", "httpcore", "pygls", "lsprotocol")


def core_modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages(snowauth.__path__, "snowauth.")]
    return sorted(
        name
        for name in found
        if name not in ENTRY_POINTS and not any(name == p or name.startswith(p + ".") for p in OUTSIDE_THE_CORE)
    )


def test_the_walk_finds_the_core_modules() -> None:
    modules = core_modules()
    for expected in ("snowauth.analysis", "snowauth.token_edits", "snowauth.tokens", "snowauth.workflow"):
        assert expected in modules
    assert not [m for m in modules if m.startswith(OUTSIDE_THE_CORE)]


def test_importing_every_core_module_loads_no_protocol_stack() -> None:
    modules = core_modules()
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {PROTOCOL_STACK!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
