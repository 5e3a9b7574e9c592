"""The command line as a person meets it on a terminal: Ctrl-C and Ctrl-D at the hidden
`${prompt}` question (a real pseudo-terminal that is the program's controlling terminal),
a reader that closes the pipe early (`snowauth schema | head -c 300`), and `--help`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from snowauth.emulator import Emulator
from tests.kit.cli import Pty
from tests.kit.emulator import password_connection

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SNOW_T_SECRET": "demo-client-secret"}


def prompt_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "prompt.snowauth.toml"
    text = password_connection(
        url, secret="${env:SNOW_T_SECRET}", password="${prompt}", extra='token_store = "cache"\n'
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_ctrl_c_at_the_password_prompt_stops_at_once_with_130(tmp_path: Path, emulator: Emulator) -> None:
    term = Pty(["token", str(prompt_file(tmp_path, emulator.url))], tmp_path / "cache", ENV)
    term.wait_for(b"password for connection dev: ")
    term.type(b"hun")  # half a password, then Ctrl-C
    term.type(b"\x03")
    code = term.exit_code()
    assert code == 130, term.text()
    shown = term.text()
    assert "Traceback" not in shown and "KeyboardInterrupt" not in shown
    assert "cancelled" in shown  # one calm line
    assert "hun" not in shown  # the hidden input stays hidden
    assert emulator.token_requests == 0


def test_ctrl_d_at_the_password_prompt_is_no_value_exit_2(tmp_path: Path, emulator: Emulator) -> None:
    term = Pty(["token", str(prompt_file(tmp_path, emulator.url))], tmp_path / "cache", ENV)
    term.wait_for(b"password for connection dev: ")
    term.type(b"\x04")
    code = term.exit_code()
    shown = term.text()
    assert code == 2, shown
    assert "Traceback" not in shown and "EOFError" not in shown
    assert "no password was entered" in shown and "nothing was sent" in shown
    assert emulator.token_requests == 0


def test_ctrl_c_at_the_host_question_stops_at_once_with_130(tmp_path: Path) -> None:
    """A loopback port that is not the user's running emulator is asked about: Ctrl-C at
    that question ends the program at once (no second Enter), and nothing is sent."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        term = Pty(["token", str(prompt_file(tmp_path, url))], tmp_path / "cache", ENV)
        term.wait_for(b"[y/N] ")
        term.type(b"\x03")
        code = term.exit_code()
        shown = term.text()
        assert code == 130, shown
        assert "Traceback" not in shown and "KeyboardInterrupt" not in shown
        assert "cancelled" in shown
        with pytest.raises(BlockingIOError):  # nobody connected: nothing was sent
            listener.accept()


def test_the_prompt_still_works_when_answered(tmp_path: Path, emulator: Emulator) -> None:
    term = Pty(["token", str(prompt_file(tmp_path, emulator.url)), "--format", "header"], tmp_path / "cache", ENV)
    term.wait_for(b"password for connection dev: ")
    term.type(b"demo-password\r")
    code = term.exit_code(60)
    shown = term.text()
    assert code == 0, shown
    assert "Authorization: Bearer " in shown and "demo-password" not in shown
    assert emulator.token_requests == 1


def closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """The command with stdout on a pipe whose reader has already gone (`| head -c 300`
    once head has exited): every write fails with EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "snowauth", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("schema",), ("reference",), ("check", str(ROOT / "examples"))])
def test_a_closed_pipe_ends_quietly_with_141(args: tuple[str, ...]) -> None:
    out = closed_pipe(*args)
    assert out.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at exit
    assert out.returncode == 141  # 128 + SIGPIPE, as a shell reports a command a closed pipe ended


def test_schema_into_head_ends_cleanly() -> None:
    """The literal pipeline, through a real shell."""
    out = subprocess.run(
        ["bash", "-c", f'set -o pipefail; "{sys.executable}" -m snowauth schema | head -c 300 >/dev/null'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr, out.stderr
    assert out.returncode in (0, 141)


def help_entries(*args: str) -> dict[str, str]:
    """`snowauth ARGS --help` run for real: each option or argument and its help text."""
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", *args, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    entries: dict[str, str] = {}
    current = None
    section = None
    for line in out.stdout.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line if line in ("options:", "positional arguments:") else None
            current = None
            continue
        if section is None or not line.strip():
            continue
        m = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
        if m and not line.startswith("    "):
            current = m.group(1)
            entries[current] = m.group(2) or ""
        elif current is not None:
            entries[current] += " " + line.strip()
    assert entries, out.stdout
    return entries


SUBCOMMANDS = [("check",), ("token",), ("lsp",), ("schema",), ("reference",), ("emulator",)]


@pytest.mark.parametrize("args", SUBCOMMANDS)
def test_every_option_and_argument_has_help_naming_its_default(args: tuple[str, ...]) -> None:
    entries = help_entries(*args)
    for name, text in entries.items():
        if name.startswith("-h, --help"):
            continue
        assert text.strip(), f"{args}: {name} has no help text"
        if name.startswith("-") and " " in name.split(", ")[-1]:
            # an option that takes a value says what happens when it is not given
            assert "default" in text.lower() or "repeatable" in text.lower(), f"{args}: {name}: {text}"


def test_top_level_help_lists_every_command_with_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    for command in ("check", "token", "lsp", "schema", "reference", "emulator"):
        assert re.search(rf"^    {command}\s+\w", out.stdout, re.M), (command, out.stdout)


def test_token_and_check_help_show_their_defaults() -> None:
    token = help_entries("token")
    assert "(default: json)" in next(v for k, v in token.items() if k.startswith("--format"))
    assert "default" in next(v for k, v in token.items() if k.startswith("-c NAME, --connection")).lower()
    check = help_entries("check")
    assert "(default: text)" in next(v for k, v in check.items() if k.startswith("--format"))


def test_emulator_help_names_the_demo_credentials() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    # the values the built-in instance really has
    demo = tomllib.loads((ROOT / "server/snowauth/emulator/default.toml").read_text(encoding="utf-8"))
    client = demo["clients"]["demo"]
    for value in (
        client["client_id"],
        client["client_secret"],
        demo["clients"]["public"]["client_id"],
        "integration.user",
        demo["users"]["integration.user"]["password"],
        demo["users"]["admin"]["password"],
        client["redirect_uris"][0],
    ):
        assert value in text, value


def test_token_errors_on_stderr_are_plain_text(tmp_path: Path, emulator: Emulator) -> None:
    """The messages are shared with the editor, which renders their markdown; a terminal
    shows them plain."""
    path = prompt_file(tmp_path, emulator.url)
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "token", str(path)],
        env={**os.environ, **ENV, "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1
    assert "password of dev is ${prompt}, but there is no terminal to ask on" in out.stderr
    assert "`" not in out.stderr
