"""HTTPS with a test CA, and what the emulator writes to its log (never a secret)."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from snowauth.emulator import Emulator
from tests.kit.emulator import (
    DEMO_SECRET,
    HTTP,
    USER_PASSWORD,
    authorize,
    code_exchange,
    current_user,
    password_grant,
    pkce_pair,
    redirect_params,
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _write_cert(ca: trustme.CA, folder: Path) -> tuple[Path, Path]:
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert_file = folder / "cert.pem"
    key_file = folder / "key.pem"
    cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key_file))
    return cert_file, key_file


def test_https_with_a_trusted_ca(tmp_path: Path, ca: trustme.CA) -> None:
    cert_file, key_file = _write_cert(ca, tmp_path)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with Emulator(certfile=str(cert_file), keyfile=str(key_file)) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        with httpx.Client(verify=context, timeout=10) as client:
            response = client.post(
                emu.url + "/oauth_token.do",
                data={
                    "grant_type": "password",
                    "client_id": "0123456789abcdef0123456789abcdef",
                    "client_secret": DEMO_SECRET,
                    "username": "integration.user",
                    "password": USER_PASSWORD,
                },
            )
            assert response.status_code == 200
            access = response.json()["access_token"]
            who = client.get(
                emu.url + "/api/now/ui/user/current_user",
                headers={"Authorization": f"Bearer {access}"},
            )
            assert who.json()["result"]["user_name"] == "integration.user"
        # Without the CA the certificate is not trusted; the server keeps serving.
        with pytest.raises(httpx.ConnectError) as info:
            httpx.get(emu.url + "/", timeout=10)
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        # Plain HTTP to the HTTPS port fails the handshake without harming the server.
        with pytest.raises(httpx.TransportError):
            httpx.get(emu.url.replace("https://", "http://") + "/", timeout=10)
        with httpx.Client(verify=context, timeout=10) as client:
            assert client.get(emu.url + "/").status_code == 200


def test_https_with_key_and_chain_in_one_file(tmp_path: Path, ca: trustme.CA) -> None:
    issued = ca.issue_cert("127.0.0.1")
    combined = tmp_path / "combined.pem"
    issued.private_key_and_cert_chain_pem.write_to_path(str(combined))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with Emulator(certfile=str(combined)) as emu:
        assert httpx.get(emu.url + "/", verify=context, timeout=10).status_code == 200


def test_keyfile_without_certfile() -> None:
    with pytest.raises(ValueError):
        Emulator(keyfile="key.pem").start()


def test_log_lines_carry_no_secrets(
    emu: Emulator, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="snowauth.emulator")
    body = password_grant(emu, scope="useraccount").json()
    current_user(emu, body["access_token"])
    verifier, challenge = pkce_pair()
    query = redirect_params(authorize(emu, state="state-value", code_challenge=challenge, code_challenge_method="S256"))
    exchanged = code_exchange(emu, query["code"], verifier=verifier).json()
    password_grant(emu, password="wrong-" + USER_PASSWORD)
    HTTP.get(f"{emu.url}/oauth_revoke_token.do", params={"token": body["refresh_token"]})
    HTTP.post(f"{emu.url}/oauth_revoke_token.do", data={"token": exchanged["access_token"]})
    HTTP.get(f"{emu.url}/api/now/table/sys_user?sysparm_query=password={USER_PASSWORD}")
    # A malformed request line is logged too, without its content.
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"BROKEN /x?token={body['access_token']}\r\n\r\n".encode())
        raw.recv(4096)

    secrets = [
        USER_PASSWORD,
        DEMO_SECRET,
        body["access_token"],
        body["refresh_token"],
        exchanged["access_token"],
        exchanged["refresh_token"],
        query["code"],
        verifier,
        challenge,
        "state-value",
    ]
    records = [r for r in caplog.records if r.name == "snowauth.emulator"]
    lines = [r.getMessage() for r in records]
    assert "POST /oauth_token.do 200" in lines
    assert "POST /oauth_token.do 401" in lines
    assert "GET /oauth_revoke_token.do 200" in lines
    for line in lines:
        for secret in secrets:
            assert secret not in line
    for secret in secrets:
        assert all(secret not in log for log in emu.system_log)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""
