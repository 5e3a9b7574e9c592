"""The command line: ``python -m snowauth.emulator`` and ``snowauth.emulator.main``."""

from __future__ import annotations

import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from tests.kit.emulator import DEMO_ID, DEMO_SECRET, USER, USER_PASSWORD

LINE = re.compile(r"^snowauth emulator listening on (https?://127\.0\.0\.1:\d+)$")
VIA_MODULE = [sys.executable, "-m", "snowauth.emulator"]
VIA_MAIN = [
    sys.executable,
    "-c",
    "import sys; from snowauth.emulator import main; raise SystemExit(main(sys.argv[1:]))",
]


class Running:
    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().rstrip("\n")
        match = LINE.match(line)
        if match is None:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise AssertionError(f"unexpected first line {line!r}; stderr: {err}")
        self.url = match.group(1)

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=15)
        return self.process.returncode, out, err


@pytest.fixture
def started() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for item in running:
        if item.process.poll() is None:
            item.process.kill()
            item.process.communicate(timeout=10)


def _password_grant(url: str, verify: ssl.SSLContext | bool = True) -> httpx.Response:
    return httpx.post(
        url + "/oauth_token.do",
        data={
            "grant_type": "password",
            "client_id": DEMO_ID,
            "client_secret": DEMO_SECRET,
            "username": USER,
            "password": USER_PASSWORD,
        },
        timeout=10,
        verify=verify,
    )


def test_module_prints_url_serves_and_stops_on_sigterm(started: list[Running]) -> None:
    emu = Running([*VIA_MODULE, "--port", "0"])
    started.append(emu)
    response = _password_grant(emu.url)
    assert response.status_code == 200
    # The CLI shows the login form unless --auto-approve is given.
    form = httpx.get(
        emu.url + "/oauth_auth.do",
        params={
            "response_type": "code",
            "client_id": DEMO_ID,
            "redirect_uri": "http://127.0.0.1:53682/callback",
            "state": "s",
        },
        timeout=10,
    )
    assert form.status_code == 200
    assert 'name="user_password"' in form.text
    code, out, err = emu.stop(signal.SIGTERM)
    assert code == 0
    assert out == ""
    assert DEMO_SECRET not in err and USER_PASSWORD not in err
    assert response.json()["access_token"] not in err
    with pytest.raises(httpx.ConnectError):
        httpx.get(emu.url + "/", timeout=5)


def test_main_with_modes_and_sigint(started: list[Running]) -> None:
    emu = Running([*VIA_MAIN, "--mode", "rate-limited", "--retry-after", "5", "--auto-approve", "admin"])
    started.append(emu)
    limited = _password_grant(emu.url)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "5"
    httpx.post(emu.url + "/__emulator/mode", json={"rate_limited": False}, timeout=10)
    assert _password_grant(emu.url).status_code == 200
    approved = httpx.get(
        emu.url + "/oauth_auth.do",
        params={
            "response_type": "code",
            "client_id": DEMO_ID,
            "redirect_uri": "http://127.0.0.1:53682/callback",
            "state": "s",
        },
        timeout=10,
    )
    assert approved.status_code == 302
    stats = httpx.get(emu.url + "/__emulator/stats", timeout=10).json()
    assert stats["token_requests"] == 2
    code, _, _ = emu.stop(signal.SIGINT)
    assert code == 0


def test_hibernating_and_flaky_modes(started: list[Running]) -> None:
    emu = Running([*VIA_MODULE, "--mode", "hibernating"])
    started.append(emu)
    page = _password_grant(emu.url)
    assert page.status_code == 200
    assert "Instance Hibernating page" in page.text
    assert emu.stop()[0] == 0

    flaky = Running([*VIA_MODULE, "--mode", "flaky", "--flaky-failures", "1"])
    started.append(flaky)
    assert _password_grant(flaky.url).status_code == 503
    assert _password_grant(flaky.url).status_code == 200
    assert flaky.stop()[0] == 0


def test_slow_mode(started: list[Running]) -> None:
    emu = Running([*VIA_MODULE, "--mode", "slow", "--slow", "2"])
    started.append(emu)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(emu.url + "/", timeout=0.3)
    assert emu.stop()[0] == 0


def test_https_from_the_command_line(tmp_path: Path, started: list[Running]) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    emu = Running([*VIA_MODULE, "--cert", str(cert), "--key", str(key)])
    started.append(emu)
    assert emu.url.startswith("https://")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    assert _password_grant(emu.url, verify=context).status_code == 200
    assert emu.stop()[0] == 0


def test_custom_config_and_verbose_logging(tmp_path: Path, started: list[Running]) -> None:
    config = tmp_path / "emu.toml"
    config.write_text(
        "[properties]\nclient_credentials_enabled = true\n"
        '[clients.c]\nclient_id = "c1"\nclient_secret = "cli-secret-value"\napplication_user = "app"\n'
        "[users.app]\n",
        encoding="utf-8",
    )
    emu = Running([*VIA_MODULE, "--config", str(config), "-v"])
    started.append(emu)
    response = httpx.post(
        emu.url + "/oauth_token.do",
        data={"grant_type": "client_credentials", "client_id": "c1", "client_secret": "cli-secret-value"},
        timeout=10,
    )
    assert response.status_code == 200
    code, _, err = emu.stop()
    assert code == 0
    assert "POST /oauth_token.do 200" in err
    assert "cli-secret-value" not in err
    assert response.json()["access_token"] not in err


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[clients.x]\nclient_id = 'a'\nclient_secret = 'b'\nsecrett = 'c'\n", encoding="utf-8")
    result = _run([*VIA_MODULE, "--config", str(config)])
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(config) in result.stderr
    assert "clients.x.secrett" in result.stderr


def test_cert_without_key_exits_2(tmp_path: Path) -> None:
    result = _run([*VIA_MODULE, "--cert", str(tmp_path / "cert.pem")])
    assert result.returncode == 2
    assert "--cert and --key" in result.stderr


def test_port_in_use_exits_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run([*VIA_MODULE, "--port", str(port)])
    assert result.returncode == 1
    assert result.stdout == ""
    assert "snowauth emulator:" in result.stderr


def test_unknown_mode_is_a_usage_error() -> None:
    result = _run([*VIA_MODULE, "--mode", "asleep"])
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
