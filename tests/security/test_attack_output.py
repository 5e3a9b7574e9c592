"""What snowauth prints and writes from untrusted text: a connection file (or the
instance it names) must not be able to drive the user's terminal, plant links in the
editor's hovers, inject shell code through `snowauth token --format env`, corrupt the
file it writes, crash the CLI, or break a sign-in with one stray request."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.oauth import errors
from snowauth.positions import LineIndex
from snowauth.token_edits import apply, write_edits
from snowauth.tokens import TokenSet
from tests.kit.emulator import authcode_connection, emulator_config, password_connection
from tests.kit.http import RawServer, free_port, http_response
from tests.kit.lsp import Editor, session_fixture

CONFIG = Path(os.environ.get("TMPDIR", "/tmp")) / f"snowauth-attack-output-config-{os.getpid()}"
# the test instances listen on loopback ports: trusted for the test, as automation would
SECRET_ENV = {
    "SNOW_O_SECRET": "demo-client-secret",
    "SNOW_O_PASSWORD": "demo-password",
    "SNOWAUTH_TRUSTED_HOSTS": "127.0.0.1",
}
client = session_fixture(env={**SECRET_ENV, "SNOWAUTH_CONFIG_DIR": str(CONFIG)})

# OSC 52 writes the terminal's clipboard; BEL ends it
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
OSC52_TOML = "\\u001b]52;c;ZXZpbA==\\u0007"  # the same, as TOML escapes inside a quoted string
# what must never reach a terminal: C0 (but line feed and tab), DEL, C1, the reordering
# and invisible format characters, and lone surrogates (raw undecodable bytes)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def unsafe_in(data: bytes) -> list[str]:
    text = data.decode("utf-8", "surrogateescape")
    return sorted({f"U+{ord(ch):04X}" for ch in UNSAFE.findall(text)})


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "snowauth", *args],
        env={**os.environ, **SECRET_ENV, "SNOWAUTH_CONFIG_DIR": str(CONFIG), **(env or {})},
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


# --- terminal escapes in `snowauth check` ---------------------------------------------


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    """A cloned repository whose connection files (and their names) carry escapes."""
    folder = tmp_path / "repo"
    folder.mkdir()
    text = (
        f'[connections."evil{OSC52_TOML}"]\n'
        f'instance = "https://a{OSC52_TOML}.example"\n'
        f'grant_type = "pass{OSC52_TOML}\\u009b2J\\u202egnp"\n'
        'client_id = "0123456789abcdef0123456789abcdef"\n'
        f'"key{OSC52_TOML}" = 1\n'
        f"token_store = 'x{OSC52}'\n"  # raw control characters inside a literal string
        f"raw{OSC52}\x9b = 2\n"  # raw control characters where a key should be
        f"# a comment {OSC52}\u202e\n"
        f'[connections.two]\ndefault = "\u2066{OSC52}\u2069"\n'
    )
    (folder / "a.snowauth.toml").write_bytes(text.encode("utf-8"))
    # raw bytes that are not UTF-8 at all, with an escape sequence after them
    (folder / "b.snowauth.toml").write_bytes(b'[connections.x]\ninstance = "\x9b\xff' + OSC52.encode() + b'"\n')
    # the file name itself carries an escape sequence and a raw C1 byte
    name = os.fsencode(folder) + b"/name" + OSC52.encode() + b"\x9b.snowauth.toml"
    with open(name, "wb") as handle:
        handle.write(b"[connections.ok]\n")
    return folder


def test_check_text_output_carries_no_terminal_control(hostile_folder: Path) -> None:
    missing = str(hostile_folder / f"missing{OSC52}.snowauth.toml")
    out = run_cli("check", str(hostile_folder), missing)
    assert out.returncode == 1
    assert unsafe_in(out.stdout) == [] and unsafe_in(out.stderr) == []
    assert b"\x1b" not in out.stdout + out.stderr and b"\x07" not in out.stdout + out.stderr
    text = out.stdout.decode("utf-8")
    # the findings are still there, with the escapes shown visibly
    assert "\\x1b]52;c;ZXZpbA==\\x07" in text
    assert "[unknown-key]" in text or "unknown" in text
    assert "\\x9b" in text and "\\u202e" in text
    assert "not-found" in text and "missing\\x1b]52" in text
    assert len([line for line in text.splitlines() if "name\\x1b]52" in line]) >= 1  # the file name


def test_check_json_output_is_lossless_and_carries_no_terminal_control(hostile_folder: Path) -> None:
    out = run_cli("check", "--format", "json", str(hostile_folder))
    assert out.returncode == 1
    assert unsafe_in(out.stdout) == [] and unsafe_in(out.stderr) == []
    rows = json.loads(out.stdout)
    messages = " ".join(r["message"] for r in rows)
    assert OSC52 in messages  # JSON escapes keep the exact text for machines
    assert any("\u202e" in r["message"] for r in rows)
    assert any(OSC52 in r["path"] for r in rows)


# --- markdown in hovers ---------------------------------------------------------------


def _code_spans_removed(md: str) -> str:
    """``md`` with backslash escapes and CommonMark code spans blanked out: what is left
    is what a markdown renderer would parse for links, images, autolinks and HTML."""
    out: list[str] = []
    i, n = 0, len(md)
    while i < n:
        ch = md[i]
        if ch == "\\" and i + 1 < n:
            out.append("  ")
            i += 2
            continue
        if ch == "`":
            j = i
            while j < n and md[j] == "`":
                j += 1
            run = j - i
            k = j
            close = -1
            while k < n:
                if md[k] == "`":
                    m = k
                    while m < n and md[m] == "`":
                        m += 1
                    if m - k == run:
                        close = k
                        break
                    k = m
                else:
                    k += 1
            if close < 0:
                out.append(md[i:j])
                i = j
                continue
            out.append(" " * (close + run - i))
            i = close + run
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def active_markdown(md: str) -> list[str]:
    """Links, images, autolinks and raw HTML a renderer would make of ``md``."""
    bare = _code_spans_removed(md)
    return [m.group() for m in re.finditer(r"!\[|\]\(|<[A-Za-z/!?]|evil\.example|https?:|www\.", bare)]


NAME_LINK = "x](http://evil.example)![i](http://evil.example/p.png)"
INSTANCE_HTML = "https://a.example/<img src=x onerror=alert(1)>"
NAME_TICKS = "b`` ` <http://evil.example/auto> ` [l](http://evil.example)"
INSTANCE_TICKS = "https://b.example/`x`![j](http://evil.example/q.png)`"
NAME_LINES = "c\\n\\n![k](http://evil.example/r.png)\\n# heading"


def test_markdown_helper_sees_links() -> None:
    # the checker itself: it must find what a renderer would make active
    assert active_markdown("see [a](http://evil.example)") != []
    assert active_markdown("`code` <img src=x>") != []
    assert active_markdown("`` a ` b `` ok") == []
    assert active_markdown("\\[a\\]\\(b\\)") == []


async def test_hover_markdown_has_no_active_links_images_or_html(client: LanguageClient) -> None:
    uri = "file:///tmp/snowauth-attack-output/hover.snowauth.toml"
    text = (
        f'[connections."{NAME_LINK}"]\n'
        f'instance = "{INSTANCE_HTML}"\n'
        'grant_type = "password"\n'
        f'[connections."{NAME_TICKS}"]\n'
        f'instance = "{INSTANCE_TICKS}"\n'
        'grant_type = "client_credentials"\n'
        f'[connections."{NAME_LINES}"]\n'
        'instance = "dev1"\n'
    )
    Editor(client).open(uri, text)
    index = LineIndex(text)
    hovers: list[str] = []
    for line_no in (0, 3, 6):
        offset = index.offset(line_no, 0) + len("[connections.") + 2
        line, col = index.position(offset)
        h = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(line, col)))
        assert h is not None and isinstance(h.contents, t.MarkupContent)
        hovers.append(h.contents.value)
    assert "Connection" in hovers[0] and "a.example" in hovers[0]  # the hover still says what it is
    for md in hovers:
        assert active_markdown(md) == [], md
        assert "<img" not in _code_spans_removed(md)
        # no untrusted line break may end a paragraph (a following line would be parsed anew)
        assert "\n\n!" not in md and "\n#" not in md


# --- shell injection through `snowauth token` -----------------------------------------


def _token_file(folder: Path, access_token_toml: str, instance: str = "http://127.0.0.1:9") -> Path:
    path = folder / "t.snowauth.toml"
    token = f"\n[connections.dev.token]\naccess_token = {access_token_toml}\n"
    token += 'token_type = "Bearer"\nexpires_at = 2099-01-01T00:00:00Z\n'
    path.write_text(_plain_conn(instance) + token, encoding="utf-8")
    return path


def _eval_env(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shlex.join([sys.executable, "-m", "snowauth", "token", str(path), "--format", "env"])
    script = f'eval "$({command})"; printf "%s" "${{SNOW_ACCESS_TOKEN-unset}}"'
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env={**os.environ, **SECRET_ENV, "SNOWAUTH_CONFIG_DIR": str(CONFIG)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_stored_token_with_a_line_break_is_refused(tmp_path: Path) -> None:
    path = _token_file(tmp_path, '"abc\\n$(touch MARKER)"')
    shell = _eval_env(path, tmp_path)
    assert not (tmp_path / "MARKER").exists()
    assert shell.stdout == "unset"
    assert "access_token" in shell.stderr and "characters" in shell.stderr
    header = run_cli("token", str(path), "--format", "header", cwd=tmp_path)
    assert header.returncode == 1 and header.stdout == b""
    found = run_cli("check", str(path))
    assert b"invalid-token" in found.stdout and found.returncode == 1
    assert not (tmp_path / "MARKER").exists()


def test_a_stored_token_with_shell_syntax_is_quoted(tmp_path: Path) -> None:
    value = "abc$(touch MARKER)`touch MARKER2`'\"; touch MARKER3"
    path = _token_file(tmp_path, json.dumps(value))
    shell = _eval_env(path, tmp_path)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout == value  # the variable holds the token, nothing ran
    for marker in ("MARKER", "MARKER2", "MARKER3"):
        assert not (tmp_path / marker).exists()
    header = run_cli("token", str(path), "--format", "header", cwd=tmp_path)
    assert header.returncode == 1 and header.stdout == b""
    assert b"--format json" in header.stderr
    good = _token_file(tmp_path, '"A1b2-._~+/C3=="')
    header = run_cli("token", str(good), "--format", "header", cwd=tmp_path)
    assert header.returncode == 0 and header.stdout == b"Authorization: Bearer A1b2-._~+/C3==\n"


# --- what the instance answers --------------------------------------------------------


@pytest.fixture
def raw_instance() -> Iterator[tuple[RawServer, list[bytes]]]:
    """A loopback instance whose token endpoint answers what the test puts in the list."""
    answers: list[bytes] = []
    with RawServer(lambda sock, request: sock.sendall(answers[0])) as server:
        yield server, answers


@pytest.mark.parametrize(
    "expires_in",
    ["1e300", "1e999", "Infinity", "NaN", "-Infinity", "-5", "1" + "0" * 400, '"1e300"', '"-1"', "true", "2e9"],
)
def test_absurd_expires_in_does_not_crash_the_cli(
    tmp_path: Path, raw_instance: tuple[RawServer, list[bytes]], expires_in: str
) -> None:
    server, answers = raw_instance
    body = f'{{"access_token":"good-token-123","token_type":"Bearer","expires_in":{expires_in}}}'
    answers.append(http_response(200, body.encode()))
    path = tmp_path / "e.snowauth.toml"
    path.write_text(_plain_conn(server.url), encoding="utf-8")
    out = run_cli("token", str(path), "--write")
    assert b"Traceback" not in out.stderr, out.stderr.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(out.stdout)["access_token"] == "good-token-123"
    stored = tomllib.loads(path.read_text(encoding="utf-8"))["connections"]["dev"]["token"]
    assert stored["access_token"] == "good-token-123"
    expires = stored.get("expires_at")
    assert expires is None or (isinstance(expires, datetime) and expires.year <= 9999)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "token",
    ["abc\n$(touch MARKER)", "abc\x7f", "tab\there", "caf\u00e9", "\u202egnp", "x\x9b", "\ud800"],
)
def test_a_token_with_forbidden_characters_is_refused_on_receipt(
    tmp_path: Path, raw_instance: tuple[RawServer, list[bytes]], token: str
) -> None:
    server, answers = raw_instance
    body = json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 1800})
    answers.append(http_response(200, body.encode()))
    path = tmp_path / "r.snowauth.toml"
    path.write_text(_plain_conn(server.url), encoding="utf-8")
    before = path.read_bytes()
    out = run_cli("token", str(path), "--write", "--format", "env", cwd=tmp_path)
    assert out.returncode == 1 and out.stdout == b""
    assert b"Traceback" not in out.stderr
    assert b"access_token" in out.stderr and b"visible ASCII" in out.stderr
    assert path.read_bytes() == before
    assert unsafe_in(out.stderr) == []
    assert not (tmp_path / "MARKER").exists()


def test_a_refresh_token_with_a_line_break_is_refused_on_receipt(
    tmp_path: Path, raw_instance: tuple[RawServer, list[bytes]]
) -> None:
    server, answers = raw_instance
    body = json.dumps({"access_token": "good", "refresh_token": "r\nx = 1", "expires_in": 1800})
    answers.append(http_response(200, body.encode()))
    path = tmp_path / "r.snowauth.toml"
    path.write_text(_plain_conn(server.url), encoding="utf-8")
    out = run_cli("token", str(path), "--write")
    assert out.returncode == 1 and b"refresh_token" in out.stderr and b"Traceback" not in out.stderr


async def test_server_text_in_errors_carries_no_control_or_reordering(
    client: LanguageClient, raw_instance: tuple[RawServer, list[bytes]]
) -> None:
    server, answers = raw_instance
    description = f"bad\x9b[31m red \u202egnp.exe{OSC52}\x85next"
    answers.append(
        http_response(401, json.dumps({"error": "invalid_grant", "error_description": description}).encode())
    )
    uri = "file:///tmp/snowauth-attack-output/scrub.snowauth.toml"
    Editor(client).open(uri, _plain_conn(server.url))
    with pytest.raises(JsonRpcException) as caught:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
        )
    message = str(caught.value)
    assert "rejected" in message and "gnp.exe" in message  # the instance's words are kept, made inert
    shown = " ".join(m.message for m in client.messages)
    for text in (message, shown):
        assert UNSAFE.findall(text) == [], text


def _plain_conn(instance: str) -> str:
    return password_connection(instance, secret="${env:SNOW_O_SECRET}", password="${env:SNOW_O_PASSWORD}")


def test_scrub_removes_c1_and_reordering_characters() -> None:
    cleaned = errors.scrub(f"a\x9b31m b\u202ec\u2066d{OSC52}\x85e\u200bf")
    assert UNSAFE.findall(cleaned) == []
    assert cleaned.startswith("a") and "b" in cleaned and cleaned.endswith("f")


# --- the token edits ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["access_token", "refresh_token", "scope", "token_type"])
def test_every_character_toml_forbids_is_escaped_when_writing(tmp_path: Path, key: str) -> None:
    nasty = "".join(chr(c) for c in [*range(0x20), 0x7F, 0x85, 0x9B, 0x202E, 0x2028]) + "\"\\'x"
    values: dict[str, str] = {"access_token": "ok", key: nasty}
    tokens = TokenSet(
        access_token=values["access_token"],
        refresh_token=values.get("refresh_token"),
        scope=values.get("scope"),
        token_type=values.get("token_type", "Bearer"),
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    text = '[connections.dev]\ninstance = "dev1"\n'
    a = analyze(text)
    written = apply(text, write_edits(a, a.connections["dev"], tokens))
    path = tmp_path / "w.snowauth.toml"
    path.write_text(written, encoding="utf-8")
    parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    assert parsed["connections"]["dev"]["token"][key] == nasty
    assert UNSAFE.findall(written) == []  # nothing invisible or reordering lands in the file either
    assert analyze(written).connections["dev"].token[key].value.data == nasty


# --- the loopback redirect listener -----------------------------------------------------


@pytest.fixture
def authcode_emulator() -> Iterator[tuple[Emulator, int]]:
    port = free_port()
    with Emulator(emulator_config(redirect_port=port), auto_approve_user="integration.user") as emu:
        yield emu, port


async def test_a_stray_request_to_the_redirect_listener_does_not_abort_the_sign_in(
    client: LanguageClient, authcode_emulator: tuple[Emulator, int]
) -> None:
    emulator, port = authcode_emulator
    uri = "file:///tmp/snowauth-attack-output/code.snowauth.toml"
    redirect = f"http://127.0.0.1:{port}/callback"
    editor = Editor(client)
    editor.open(uri, authcode_connection(emulator.url, redirect))
    fetch = asyncio.ensure_future(
        client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri}])
        )
    )
    for _ in range(200):
        if client.shown_documents:
            break
        await asyncio.sleep(0.05)
    shown = client.shown_documents[-1]
    async with httpx.AsyncClient(timeout=10) as stray:
        # another page (or process) hits the listener first: a forged state, no state, an error
        forged = await stray.get(redirect, params={"code": "forged-code", "state": "not-the-state"})
        empty = await stray.get(redirect)
        denied = await stray.get(redirect, params={"error": "access_denied"})
    assert forged.status_code == 400 and empty.status_code == 400 and denied.status_code == 400
    assert not fetch.done()
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(shown.uri)
    assert page.status_code == 200
    result = await asyncio.wait_for(fetch, 20)
    assert isinstance(result, dict) and result["connection"] == "browser"
    token = analyze(editor.texts[uri]).connections["browser"].token
    assert token["access_token"].value.kind == "string"


# --- the emulator's command line ----------------------------------------------------------


def test_emulator_config_errors_carry_no_terminal_control(tmp_path: Path) -> None:
    config = tmp_path / "emu.toml"
    config.write_text(f'[clients."x{OSC52_TOML}"]\n"bogus{OSC52_TOML}" = 1\n', encoding="utf-8")
    out = run_cli("emulator", "--config", str(config))
    assert out.returncode == 2 and b"unknown key" in out.stderr
    assert unsafe_in(out.stdout + out.stderr) == []
    assert b"\\x1b]52" in out.stderr


def test_emulator_request_log_carries_no_terminal_control(tmp_path: Path) -> None:
    import socket

    emulator = subprocess.Popen(
        [sys.executable, "-m", "snowauth", "emulator", "-v"],
        env={**os.environ, "SNOWAUTH_CONFIG_DIR": str(tmp_path / "config")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert emulator.stdout is not None
        line = emulator.stdout.readline().decode()
        url = line.strip().rsplit(" ", 1)[-1]
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            # a request line whose path carries an escape sequence, as any local program can send
            sock.sendall(f"GET /x{OSC52}\x9b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
            while sock.recv(65536):
                pass
    finally:
        emulator.terminate()
        _, err = emulator.communicate(timeout=20)
    assert b"GET /x" in err  # the request was logged
    assert unsafe_in(err) == [], err
