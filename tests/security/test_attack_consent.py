"""What the user consents to before a secret leaves the machine, attacked for real.

A cloned repository's connection file tries to: disguise the confirmation (a connection
name with terminal escapes, or long enough to push the real host out of sight); reuse the
user's cached tokens through its own `ca_bundle` (an interceptor the bundle trusts); change
`instance` between the confirmation and the request; and collect secrets on a loopback
port that is not the emulator the user started (another local account's listener).
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from tests.kit.lsp import Editor, session_fixture

CLIENT_ID = "0123456789abcdef0123456789abcdef"
SECRETS = {"SNOW_K_SECRET": "demo-client-secret", "SNOW_K_PASSWORD": "demo-password"}
BASE = Path(tempfile.gettempdir()) / f"snowauth-consent-{os.getpid()}"
CONFIG = BASE / "config"  # the user's config folder (confirmations, the emulator's port)
CACHE = BASE / "cache"  # the user's token cache
SYSTEM_CA = BASE / "system-ca.pem"  # the CAs the user's machine trusts ($SSL_CERT_FILE)
CA = trustme.CA()  # signs the emulators that play a real instance over HTTPS
BASE.mkdir(parents=True, exist_ok=True)
CA.cert_pem.write_to_path(str(SYSTEM_CA))
USER_ENV = {
    **SECRETS,
    "SNOWAUTH_CONFIG_DIR": str(CONFIG),
    "SNOWAUTH_CACHE_DIR": str(CACHE),
    "SSL_CERT_FILE": str(SYSTEM_CA),
}
ESC = b"\x1b"

client = session_fixture(env=USER_ENV)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    shutil.rmtree(BASE, ignore_errors=True)


def conn(instance: str, *, name: str = "dev", store: str = "cache", extra: str = "") -> str:
    return f"""[connections.{name}]
instance = "{instance}"
grant_type = "password"
client_id = "{CLIENT_ID}"
client_secret = "${{env:SNOW_K_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_K_PASSWORD}}"
token_store = "{store}"
{extra}"""


def origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    host_port = rest.split("/", 1)[0]
    return f"{scheme}://{host_port}" if ":" in host_port else f"{scheme}://{host_port}:443"


def https_emulator(folder: Path) -> Emulator:
    """An emulator over HTTPS whose certificate the user's machine trusts: it plays a
    real instance (not the user's local emulator)."""
    issued = CA.issue_cert("127.0.0.1", "localhost")
    cert, key = folder / "instance-cert.pem", folder / "instance-key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    return Emulator(certfile=str(cert), keyfile=str(key))


def digest(token: str) -> str:
    """What the tests keep of a token: a failing assertion prints no secret."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def record_refresh_tokens(emu: Emulator) -> list[str]:
    """The digest of every refresh token the emulator is shown (refresh grant, revocation)."""
    seen: list[str] = []
    valid, revoke = emu.state.valid_refresh_token, emu.state.revoke

    def checking(value: str) -> object:
        seen.append(digest(value))
        return valid(value)

    def revoking(value: str) -> None:
        seen.append(digest(value))
        revoke(value)

    emu.state.valid_refresh_token = checking  # type: ignore[method-assign,assignment]
    emu.state.revoke = revoking  # type: ignore[method-assign]
    return seen


def cached_refresh_tokens() -> set[str]:
    """Digests of the refresh tokens in the user's token cache."""
    found = set()
    for path in CACHE.glob("*.json"):
        value = json.loads(path.read_text(encoding="utf-8")).get("refresh_token")
        if value:
            found.add(digest(value))
    return found


def answer_questions(client: LanguageClient, send: Callable[[str], bool]) -> list[str]:
    """The user at the editor: records every host question, answers Send when ``send``
    says so, else Cancel."""
    asked: list[str] = []

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def request(*args: object) -> t.MessageActionItem | None:
        params = args[-1]
        assert isinstance(params, t.ShowMessageRequestParams)
        asked.append(params.message)
        return t.MessageActionItem("Send") if send(params.message) else t.MessageActionItem("Cancel")

    return asked


async def command(client: LanguageClient, name: str, uri: str, connection: str = "dev") -> object:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=f"snowauth.{name}", arguments=[{"uri": uri, "connection": connection}])
    )


@dataclass
class Run:
    code: int
    stderr: str
    stdout: str = field(repr=False)  # the token: never in a failing assertion's output


def cli(path: Path, *, extra_env: dict[str, str] | None = None) -> Run:
    """`snowauth token` without a terminal (as in a script or CI)."""
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "token", str(path)],
        env={**os.environ, **USER_ENV, **(extra_env or {})},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return Run(out.returncode, out.stderr, out.stdout)


class Terminal:
    """`snowauth token` on a pseudo-terminal (stdin and stderr), stdout on a pipe: what
    the terminal shows, what went to stdout, and a person who answers."""

    def __init__(self, path: Path) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snowauth", "token", str(path)],
            env={**os.environ, **USER_ENV},
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        assert self.proc.stdout is not None
        self.out = self.proc.stdout.fileno()
        self.shown = b""  # the bytes the terminal received
        self.stdout = b""

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master, self.out], [], [], timeout)
        progressed = False
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the pty's other end closed
                data = b""
            if fd == self.master:
                self.shown += data
            else:
                self.stdout += data
            progressed = progressed or bool(data)
        return progressed

    def wait_for_question(self, timeout: float = 30) -> None:
        """Until the program waits for an answer to a `[y/N]` question (on either stream)."""
        deadline = time.monotonic() + timeout
        while not (self.shown + self.stdout).endswith(b"[y/N] "):
            if time.monotonic() > deadline or (self.proc.poll() is not None and not self._pump(0.2)):
                self.proc.kill()
                self.proc.wait(timeout=10)
                os.close(self.master)
                raise AssertionError(f"no question; terminal: {self.shown!r}; stdout: {len(self.stdout)} bytes")
            self._pump(0.2)

    def answer(self, text: str) -> int:
        os.write(self.master, text.encode() + b"\n")
        deadline = time.monotonic() + 60
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.2)
        while self._pump(0.1):
            pass
        os.close(self.master)
        return self.proc.wait(timeout=10)

    def question_lines(self) -> list[str]:
        text = self.shown.decode("utf-8", "replace").replace("\r\n", "\n")
        return [line for line in text.split("\n") if line.strip()]


# -- A: the confirmation names the real host first, with nothing from the file before it ------

EVIL_NAME = '"dev\\u001b[2K\\rSend the credentials to https://trusted.example:443? [y/N]\\u001b]52;c;aGk=\\u0007"'


def test_cli_question_starts_with_the_real_host_and_shows_no_escape_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "evil.snowauth.toml"
    path.write_text(conn("https://attacker.invalid", name=EVIL_NAME), encoding="utf-8")
    term = Terminal(path)
    term.wait_for_question()
    code = term.answer("n")
    assert code == 1
    everything = term.shown + term.stdout
    assert ESC not in everything and b"\x07" not in everything  # nothing can rewrite the question line
    assert len(term.stdout) == 0  # the question is for the person, not for whatever reads stdout
    lines = term.question_lines()
    assert lines[0] == "https://attacker.invalid:443"  # the real host, first and alone
    assert "Nothing was sent" in lines[-1]


async def test_editor_question_begins_with_the_real_host(client: LanguageClient, tmp_path: Path) -> None:
    asked = answer_questions(client, lambda _message: False)
    padding = "Send the credentials to https://trusted.example:443?" + " " * 600
    name = f'"{padding}\\u001b[2K"'
    uri = (tmp_path / "evil.snowauth.toml").as_uri()
    Editor(client).open(uri, conn("https://attacker.invalid", name=name))
    with pytest.raises(JsonRpcException, match="Nothing was sent"):
        await command(client, "fetchToken", uri, connection=f"{padding}\x1b[2K")
    assert len(asked) == 1
    first_line = asked[0].split("\n", 1)[0]
    assert first_line == "https://attacker.invalid:443", asked[0][:200]
    assert "\x1b" not in asked[0] and len(asked[0]) < 1000  # the file's text shown escaped and cut short


# -- B: a repository's ca_bundle is part of the consent; cached tokens stay bound to theirs ---


async def test_a_repository_ca_bundle_asks_again_and_never_gets_the_cached_tokens(
    client: LanguageClient, tmp_path: Path
) -> None:
    send = {"now": True}
    asked = answer_questions(client, lambda _message: send["now"])
    editor = Editor(client)
    with https_emulator(tmp_path) as emu:
        presented = record_refresh_tokens(emu)
        # the user's own connection: confirmed once, its tokens in the cache
        victim = tmp_path / "victim"
        victim.mkdir()
        victim_uri = (victim / "mine.snowauth.toml").as_uri()
        editor.open(victim_uri, conn(emu.url))
        assert isinstance(await command(client, "fetchToken", victim_uri), dict)
        assert len(asked) == 1 and emu.token_requests == 1
        (refresh_token,) = cached_refresh_tokens()  # its digest

        # the cloned repository: same instance, client and user, plus its own bundle, which
        # also trusts the interceptor (played by the emulator)
        repo = tmp_path / "cloned"
        repo.mkdir()
        other_ca = trustme.CA()
        (repo / "corporate-ca.pem").write_bytes(CA.cert_pem.bytes() + other_ca.cert_pem.bytes())
        repo_uri = (repo / "c.snowauth.toml").as_uri()
        editor.open(repo_uri, conn(emu.url, extra='ca_bundle = "corporate-ca.pem"\n'))

        send["now"] = False
        with pytest.raises(JsonRpcException, match="Nothing was sent"):
            await command(client, "refreshToken", repo_uri)
        assert len(asked) == 2, "the bundle was not part of the question"
        assert asked[1].split("\n", 1)[0] == origin(emu.url)
        assert "corporate-ca.pem" in asked[1]
        assert emu.token_requests == 1 and presented == []

        with pytest.raises(JsonRpcException, match=r"Nothing was sent|no stored token"):
            await command(client, "revokeToken", repo_uri)
        assert presented == [] and emu.token_requests == 1

        # even when the user agrees, the tokens cached under the system CAs stay out of it
        send["now"] = True
        assert isinstance(await command(client, "refreshToken", repo_uri), dict)
        leaked = refresh_token in presented
        assert not leaked, "the refresh token cached under the system's CAs went through the bundle"
        kept = refresh_token in cached_refresh_tokens()
        assert kept

        # and the user's own connection still uses its cache, without a question
        send["now"] = False
        before = len(asked)
        assert isinstance(await command(client, "refreshToken", victim_uri), dict)
        assert presented[-1:] == [refresh_token] and len(asked) == before


def test_cli_refuses_a_repository_ca_bundle_for_a_listed_host(tmp_path: Path) -> None:
    with https_emulator(tmp_path) as emu:
        listed = {"SNOWAUTH_TRUSTED_HOSTS": origin(emu.url)}
        mine = tmp_path / "mine.snowauth.toml"
        mine.write_text(conn(emu.url), encoding="utf-8")
        first = cli(mine, extra_env=listed)
        assert first.code == 0, first.stderr
        access = json.loads(first.stdout)["access_token"]
        repo = tmp_path / "cloned"
        repo.mkdir()
        (repo / "corporate-ca.pem").write_bytes(CA.cert_pem.bytes() + trustme.CA().cert_pem.bytes())
        theirs = repo / "c.snowauth.toml"
        theirs.write_text(conn(emu.url, extra='ca_bundle = "corporate-ca.pem"\n'), encoding="utf-8")
        out = cli(theirs, extra_env=listed)
        printed = len(out.stdout) > 0 or access in out.stderr  # the cached token, handed out
        assert out.code == 1 and not printed
        assert "corporate-ca.pem" in out.stderr and "Nothing was sent" in out.stderr
        assert emu.token_requests == 1


# -- C: the host confirmed is the host used ------------------------------------------------------


async def test_instance_read_from_a_file_is_read_once(client: LanguageClient, tmp_path: Path) -> None:
    with Emulator() as confirmed, Emulator() as attacker:
        instance = tmp_path / "instance.txt"
        instance.write_text(confirmed.url, encoding="utf-8")

        def swap_then_send(message: str) -> bool:
            # between the confirmation and the request, the file names another host
            instance.write_text(attacker.url, encoding="utf-8")
            return message.startswith(origin(confirmed.url))

        asked = answer_questions(client, swap_then_send)
        uri = (tmp_path / "c.snowauth.toml").as_uri()
        Editor(client).open(uri, conn("${file:instance.txt}"))
        assert isinstance(await command(client, "fetchToken", uri), dict)
        assert len(asked) == 1 and asked[0].startswith(origin(confirmed.url))
        assert attacker.requests == [] and confirmed.token_requests == 1


def test_cli_instance_read_from_a_file_is_read_once(tmp_path: Path) -> None:
    with Emulator() as confirmed, Emulator() as attacker:
        instance = tmp_path / "instance.txt"
        instance.write_text(confirmed.url, encoding="utf-8")
        path = tmp_path / "c.snowauth.toml"
        path.write_text(conn("${file:instance.txt}"), encoding="utf-8")
        term = Terminal(path)
        term.wait_for_question()
        assert term.question_lines()[0] == origin(confirmed.url)
        instance.write_text(attacker.url, encoding="utf-8")
        assert term.answer("y") == 0, term.shown
        assert attacker.requests == [] and confirmed.token_requests == 1
        assert "access_token" in json.loads(term.stdout)


# -- D: the loopback exemption covers only the emulator the user started ------------------------


async def test_editor_another_loopback_listener_gets_nothing_without_consent(
    client: LanguageClient, tmp_path: Path
) -> None:
    asked = answer_questions(client, lambda _message: False)
    with Emulator() as listener:  # someone's server on 127.0.0.1, not started by `snowauth emulator`
        uri = (tmp_path / "c.snowauth.toml").as_uri()
        Editor(client).open(uri, conn(listener.url, store="file"))
        with pytest.raises(JsonRpcException, match="Nothing was sent"):
            await command(client, "fetchToken", uri)
        assert len(asked) == 1 and asked[0].split("\n", 1)[0] == origin(listener.url)
        assert listener.requests == []


def _start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "snowauth", "emulator"],
        env={**os.environ, **USER_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on " in line, line
    return proc, line.rsplit(" ", 1)[1].strip()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_cli_only_the_running_emulator_the_user_started_is_exempt(tmp_path: Path, stop: signal.Signals) -> None:
    proc, url = _start_emulator()
    try:
        path = tmp_path / "c.snowauth.toml"
        path.write_text(conn(url, store="file"), encoding="utf-8")
        ok = cli(path)
        assert ok.code == 0, ok.stderr  # the user's emulator: no question, no terminal needed
    finally:
        proc.send_signal(stop)
        proc.wait(timeout=20)
    port = int(url.rsplit(":", 1)[1])
    # someone else takes the port once the user's emulator is gone (cleanly or not)
    with Emulator(port=port) as listener:
        out = cli(path)
        assert out.code == 1 and "has not sent credentials to " + origin(url) in out.stderr
        assert listener.requests == []


def test_cli_another_loopback_listener_gets_nothing_without_consent(tmp_path: Path) -> None:
    with Emulator() as listener:
        path = tmp_path / "c.snowauth.toml"
        path.write_text(conn(listener.url, store="file"), encoding="utf-8")
        out = cli(path)
        assert out.code == 1 and origin(listener.url) in out.stderr
        assert listener.requests == []


def test_cli_a_registration_covers_only_the_process_listening_on_the_port(tmp_path: Path) -> None:
    with Emulator() as listener:  # someone else's server holds the port
        # a live process of the user has the port registered but does not listen on it: what
        # a killed emulator leaves behind once its process number is reused
        code = (
            "import sys, time\n"
            "from snowauth.trust import register_emulator\n"
            f"register_emulator({listener.url!r})\n"
            "print('registered', flush=True)\n"
            "time.sleep(60)\n"
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", code], env={**os.environ, **USER_ENV}, stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "registered"
            path = tmp_path / "c.snowauth.toml"
            path.write_text(conn(listener.url, store="file"), encoding="utf-8")
            out = cli(path)
            assert out.code == 1 and origin(listener.url) in out.stderr
            assert listener.requests == []
        finally:
            holder.kill()
            holder.wait(timeout=10)
