"""What the language server loads at start, and what it leaves for the first command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from snowauth.lsp.commands import COMMANDS
from snowauth.lsp.main import create_server
from snowauth.lsp.server import SnowauthServer
from tests.kit.cli import run_snowauth
from tests.kit.emulator import DEMO_SECRET, USER_PASSWORD, password_connection
from tests.kit.lsp import Editor, diagnostics, has_mapped, server_pid, session_fixture
from tests.kit.startup import Started

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


# -- pydantic: loaded with the token exchange, never at start (docs/decisions.md) ----------------


def _connection_file(folder: Path, instance: str = "https://dev12345.service-now.com") -> Path:
    path = folder / "dev.snowauth.toml"
    text = password_connection(instance, secret="${env:SNOW_START_SECRET}", password="${env:SNOW_START_PASSWORD}")
    path.write_text("# café ✓ 😀\n" + text, encoding="utf-8")
    return path


def _imported(importtime: str) -> list[str]:
    """The modules a ``-X importtime`` report names."""
    return [line.rsplit("|", 1)[1].strip() for line in importtime.splitlines() if line.startswith("import time:")]


def test_check_and_fmt_never_import_pydantic(tmp_path: Path) -> None:
    path = _connection_file(tmp_path)
    for args in (("check", str(path)), ("fmt", "--check", str(path))):
        out = run_snowauth(*args, python=("-X", "importtime"))
        assert out.returncode == 0, out.stderr
        imported = _imported(out.stderr)
        assert f"snowauth.{args[0]}" in imported or "snowauth.fmt_cli" in imported  # the report is there
        assert [m for m in imported if "pydantic" in m] == []


# what `snowauth check` leaves out (docs/performance.md): argparse and the help pages (its
# usual arguments are read without them), shutil (gitstate looks git up itself), json and
# the reports for CI (imported for `--format json`, `sarif`, `github`), the list of codes
# (for `--fail-on`), the exports (for a connection that declares one)
NOT_ON_CHECK = (
    "argparse",
    "gettext",
    "json",
    "shutil",
    "snowauth.cli_help",
    "snowauth.report_formats",
    "snowauth.codes",
)
NOT_ON_CHECK_WITHOUT_EXPORTS = ("snowauth.exports",)
# dataclasses imports `inspect` (and `ast`, `dis`, `tokenize`) only to write a signature into a
# class without a docstring: `check` defers it (cli._defer_inspect). Failing here? Give the
# new dataclass on check's path a docstring.
INSPECT = ("inspect", "ast", "dis", "tokenize")


def test_check_imports_only_what_it_uses(tmp_path: Path) -> None:
    path = _connection_file(tmp_path)
    with path.open("a", encoding="utf-8") as f:  # a stored token: git is asked (gitstate)
        f.write('token = { access_token = "AT", expires_at = 2030-01-01T00:00:00Z }\n')
    out = run_snowauth("check", str(path), python=("-X", "importtime"))
    assert out.returncode == 0, out.stderr + out.stdout
    imported = _imported(out.stderr)
    assert {"snowauth.check", "snowauth.plain_layout", "snowauth.gitstate"} <= set(imported)
    assert [m for m in imported if m.startswith(NOT_ON_CHECK + NOT_ON_CHECK_WITHOUT_EXPORTS)] == []
    assert [m for m in imported if m in INSPECT] == []
    json_out = run_snowauth(
        "check", "--format", "json", "--fail-on", "tokens-in-git", str(path), python=("-X", "importtime")
    )
    assert {"json", "snowauth.codes"} <= set(_imported(json_out.stderr))  # the probe sees imports


start_client = session_fixture(env={"SNOW_START_SECRET": DEMO_SECRET, "SNOW_START_PASSWORD": USER_PASSWORD})


async def test_the_server_loads_pydantic_at_the_first_fetch_not_before(
    start_client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    path = _connection_file(tmp_path, emulator.url)
    uri = path.as_uri()
    editor = Editor(start_client)
    editor.open(uri, path.read_text(encoding="utf-8"))
    assert [d.code for d in await diagnostics(start_client, uri) if d.severity == t.DiagnosticSeverity.Error] == []
    doc = t.TextDocumentIdentifier(uri)
    symbols = await start_client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc))
    lenses = await start_client.text_document_code_lens_async(t.CodeLensParams(text_document=doc))
    assert symbols and lenses
    pid = server_pid(start_client)
    assert not has_mapped(pid, "pydantic_core")
    await start_client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
    )
    assert "access_token" in editor.texts[uri]  # the exchange ran, and read the answer with pydantic
    assert has_mapped(pid, "pydantic_core")


def test_the_scanner_compiles_a_pattern_at_its_first_use() -> None:
    """Most of the scanner's patterns wait for a file that needs them (syntax._lazy): a plain
    file compiles none of them; the first use compiles one and puts it in its place."""
    code = (
        "import re, snowauth.syntax as s\n"
        "def waiting(): return [k for k, v in vars(s).items() if type(v) is s._Lazy]\n"
        "before = waiting()\n"
        's.parse(\'# caf\\u00e9\\n[connections.dev]\\ninstance = "dev"\\ntoken = { access_token = "AT" }\\n\')\n'
        "plain = waiting()\n"
        's.parse(\'a = """x"""\\nb = 0x1F\\n\')\n'
        "print(len(before), before == plain, '_HEX' in waiting(), type(s._HEX) is re.Pattern)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 20
    assert out[1:] == ["True", "False", "True"]


def test_the_deferred_inspect_is_the_real_one_at_its_first_use() -> None:
    code = (
        "import sys\n"
        "from snowauth import cli\n"
        "cli._defer_inspect()\n"
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Undocumented:\n"
        "    x: int\n"
        "import inspect\n"
        "print(Undocumented.__doc__, inspect.signature(len), type(sys.modules['inspect']).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "Undocumented(x: int) (obj, /) module\n"


def test_a_check_in_process_leaves_the_collector_on(tmp_path: Path) -> None:
    """The command line pauses the collector for check's imports and the check; a caller
    that runs it in its own process gets it back."""
    path = _connection_file(tmp_path)
    code = (
        "import gc, sys\n"
        "from snowauth import cli\n"
        f"code = cli.main(['check', {str(path)!r}])\n"
        "print(code, gc.isenabled(), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == "0 True\n"
    assert "no problems" not in out.stdout  # the file's `${env:}` are unset: warnings
    assert out.stdout.endswith("in 1 file\n")


# -- the server's start: what the first diagnostics need, and nothing else ------------------------

# the cores of the editor features, the token workflow and its stores, the commands'
# reports and edits, the command line's parser: each loads at its first use, after the
# first diagnostics (docs/decisions.md, "Cold start: what the first diagnostics need")
NOT_AT_START = (
    "argparse",
    "snowauth.cli_help",
    "tempfile",
    "hashlib",
    "snowauth.completion",
    "snowauth.hover",
    "snowauth.outline",
    "snowauth.lenses",
    "snowauth.links",
    "snowauth.navigation",
    "snowauth.inlay_hints",
    "snowauth.folding",
    "snowauth.formatting",
    "snowauth.selection",
    "snowauth.connections",
    "snowauth.trust",
    "snowauth.lsp.unattended",
    "snowauth.workflow",
    "snowauth.store",
    "snowauth.keychain",
    "snowauth.token_edits",
    "snowauth.oauth",
    "snowauth.lsp.reporting",
    "snowauth.lsp.token_edit",
    "snowauth.lsp.fixes",
)
# each feature's first request, and the core it loads
FIRST_REQUESTS = (
    ("textDocument/completion", "position", "snowauth.completion"),
    ("textDocument/hover", "position", "snowauth.hover"),
    ("textDocument/documentSymbol", None, "snowauth.outline"),
    ("textDocument/codeLens", None, "snowauth.lenses"),
    ("textDocument/documentLink", None, "snowauth.links"),
    ("textDocument/definition", "position", "snowauth.navigation"),
    ("textDocument/inlayHint", "range", "snowauth.inlay_hints"),
    ("textDocument/foldingRange", None, "snowauth.folding"),
    ("textDocument/formatting", "options", "snowauth.formatting"),
    ("textDocument/selectionRange", "positions", "snowauth.selection"),
)


def test_the_first_diagnostics_load_no_feature_core(tmp_path: Path) -> None:
    path = _connection_file(tmp_path)
    server = Started(tmp_path)
    try:
        assert server.open(path)  # the file's `${env:}` are unset: warnings
        loaded = server.modules()
        assert {"snowauth.analysis", "snowauth.lsp.features", "snowauth.lsp.commands"} <= loaded  # the probe sees
        assert sorted(m for m in loaded if m.startswith(NOT_AT_START + HEAVY)) == []
        doc = {"uri": path.as_uri()}
        where = {
            "position": {"position": {"line": 2, "character": 3}},
            "range": {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}}},
            "options": {"options": {"tabSize": 4, "insertSpaces": True}},
            "positions": {"positions": [{"line": 2, "character": 3}]},
        }
        for method, extra, core in FIRST_REQUESTS:
            server.request(method, {"textDocument": doc, **(where[extra] if extra else {})})
            assert core in server.modules(), method  # loaded by its feature's first request (or one before)
        assert [m for m in server.modules() if m.startswith(HEAVY)] == []  # the exchange waits for a command
    finally:
        server.close()
