"""The HTTP layer over real sockets: unreachable hosts, timeouts, TLS, redirects, size
limits, broken answers, connection reuse, and what goes on the wire."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus

import pytest
import trustme

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.emulator import DEMO_ID, DEMO_SECRET
from tests.kit.http import RawServer, free_port, http_response, replying, reset
from tests.kit.oauth import RecordingSleep, client_credentials_conn, password_conn

TOKEN = b'{"access_token":"at-123","refresh_token":"rt-456","token_type":"Bearer","expires_in":1799}'


def _head_and_body(request: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


# --- unreachable, timeouts --------------------------------------------------------------


async def test_connection_refused(sleep: RecordingSleep, client: OAuthClient) -> None:
    port = free_port()
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(f"http://127.0.0.1:{port}"))
    err = caught.value
    assert err.code == "unreachable"
    assert err.key == "instance"
    assert f"http://127.0.0.1:{port}" in err.message and "refused" in err.message
    assert sleep.delays == []


async def test_dns_failure(client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn("https://snowauth-no-such-instance.invalid"))
    err = caught.value
    assert err.code == "unreachable"
    assert "snowauth-no-such-instance.invalid" in err.message
    assert "could not be resolved" in err.message


async def test_timeout_with_a_slow_instance(emu: Emulator, client: OAuthClient) -> None:
    emu.set_mode(slow=3)
    started = time.monotonic()
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url, timeout=0.3))
    assert time.monotonic() - started < 2
    err = caught.value
    assert err.code == "timeout"
    assert err.key == "timeout" and err.retryable
    assert emu.url in err.message and "0.3 s" in err.message
    emu.set_mode(slow=0)


async def test_timeout_when_headers_never_come(client: OAuthClient) -> None:
    release = threading.Event()
    with RawServer(lambda sock, request: release.wait(5)) as raw:
        started = time.monotonic()
        with pytest.raises(OAuthError) as caught:
            await client.fetch(password_conn(raw.url, timeout=0.3))
        release.set()
    assert time.monotonic() - started < 2
    assert caught.value.code == "timeout"


async def test_timeout_bounds_a_dripping_body(client: OAuthClient) -> None:
    """A server that sends a byte now and then never outlives the request's timeout."""

    def drip(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Content-Length: 100000\r\n\r\n")
        for _ in range(50):
            time.sleep(0.1)
            sock.sendall(b" ")

    with RawServer(drip) as raw:
        started = time.monotonic()
        with pytest.raises(OAuthError) as caught:
            await client.fetch(password_conn(raw.url, timeout=0.6))
    assert time.monotonic() - started < 2
    assert caught.value.code == "timeout"


# --- TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_files(ca: trustme.CA, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile = tmp_path / "cert.pem"
    keyfile = tmp_path / "key.pem"
    bundle = tmp_path / "ca.pem"
    cert.private_key_pem.write_to_path(str(keyfile))
    for blob in cert.cert_chain_pems:
        blob.write_to_path(str(certfile), append=True)
    ca.cert_pem.write_to_path(str(bundle))
    yield str(certfile), str(keyfile), str(bundle)


async def test_tls_with_ca_bundle(
    make_emu: Callable[..., Emulator], tls_files: tuple[str, str, str], client: OAuthClient
) -> None:
    certfile, keyfile, bundle = tls_files
    emu = make_emu(certfile=certfile, keyfile=keyfile)
    assert emu.url.startswith("https://")
    conn = password_conn(emu.url, ca_bundle=bundle)
    tokens = await client.fetch(conn)
    assert (await client.whoami(conn, tokens.access_token))["user_name"] == "integration.user"


async def test_tls_untrusted_without_ca_bundle(
    make_emu: Callable[..., Emulator], tls_files: tuple[str, str, str], client: OAuthClient
) -> None:
    certfile, keyfile, _ = tls_files
    emu = make_emu(certfile=certfile, keyfile=keyfile)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url))
    err = caught.value
    assert err.code == "tls"
    assert err.key == "ca_bundle"
    assert "127.0.0.1" in err.message and "ca_bundle" in err.message
    assert emu.token_requests == 0


async def test_tls_hostname_mismatch(
    make_emu: Callable[..., Emulator], ca: trustme.CA, tmp_path: Path, client: OAuthClient
) -> None:
    cert = ca.issue_cert("other.example.com")
    certfile, bundle = tmp_path / "c.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    ca.cert_pem.write_to_path(str(bundle))
    emu = make_emu(certfile=str(certfile))
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url, ca_bundle=str(bundle)))
    assert caught.value.code == "tls"
    assert "127.0.0.1" in caught.value.message


async def test_https_to_a_plain_http_server(emu: Emulator, client: OAuthClient) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(emu.url.replace("http://", "https://")))
    assert caught.value.code == "tls"


@pytest.mark.parametrize("content", [None, b"not a certificate"])
async def test_unreadable_ca_bundle(client: OAuthClient, tmp_path: Path, content: bytes | None) -> None:
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_bytes(content)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn("https://127.0.0.1:9", ca_bundle=str(bundle)))
    assert caught.value.code == "tls"
    assert caught.value.key == "ca_bundle"
    assert str(bundle) in caught.value.message


# --- redirects, size, broken answers -----------------------------------------------------


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://sso.example.com/login?SAMLRequest=c2VjcmV0", "https://sso.example.com/login"),
        ("/navpage.do?x=1", "/navpage.do"),
    ],
)
async def test_redirect_is_never_followed(client: OAuthClient, location: str, shown: str) -> None:
    answer = http_response(302, b"", headers={"Location": location})
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    err = caught.value
    assert err.code == "redirect"
    assert err.status == 302
    assert shown in err.message
    assert "?" not in err.message.split("redirect")[1].split(".")[0]
    assert "SAMLRequest" not in err.message and "x=1" not in err.message
    assert len(raw.requests) == 1


async def test_redirect_on_whoami(client: OAuthClient) -> None:
    answer = http_response(307, b"", headers={"Location": "https://elsewhere.example/"})
    with replying(answer) as raw, pytest.raises(OAuthError) as caught:
        await client.whoami(password_conn(raw.url), "a-token")
    assert caught.value.code == "redirect"
    assert len(raw.requests) == 1


async def test_declared_too_large() -> None:
    answer = http_response(200, b"{}", content_length=5 << 20)
    async with OAuthClient() as oauth:
        with replying(answer) as raw, pytest.raises(OAuthError) as caught:
            await oauth.fetch(password_conn(raw.url))
    err = caught.value
    assert err.code == "response-too-large"
    assert "1 MiB" in err.message and f"{raw.url}/oauth_token.do" in err.message


async def test_streamed_answer_is_cut_off_early() -> None:
    sent: list[int] = []

    def endless(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 16384
        try:
            for _ in range(1000):  # 16 MiB unless the client stops reading
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent.append(len(chunk))
        except OSError:
            return

    async with OAuthClient(max_response_bytes=64 * 1024) as oauth:
        with RawServer(endless) as raw, pytest.raises(OAuthError) as caught:
            await oauth.fetch(password_conn(raw.url))
    assert caught.value.code == "response-too-large"
    assert "64 KiB" in caught.value.message
    assert sum(sent) < 8 << 20


async def test_truncated_body(client: OAuthClient) -> None:
    def truncated(sock: socket.socket, request: bytes) -> None:
        sock.sendall(http_response(200, TOKEN[:20], content_length=len(TOKEN)))

    with RawServer(truncated) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    err = caught.value
    assert err.code == "malformed-response"
    assert "closed before the whole answer" in err.message
    assert "at-123" not in err.message


async def test_truncated_json(client: OAuthClient) -> None:
    with replying(http_response(200, TOKEN[:30])) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "malformed-response"
    assert "JSON is incomplete" in caught.value.message


async def test_reset_before_the_answer(sleep: RecordingSleep, client: OAuthClient) -> None:
    with RawServer(lambda sock, request: reset(sock)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "unreachable"
    assert "closed before an answer arrived" in caught.value.message
    # a login the instance may have counted is never repeated
    assert len(raw.requests) == 1 and sleep.delays == []


async def test_reset_before_the_answer_is_retried_once_when_repeatable(
    sleep: RecordingSleep, client: OAuthClient
) -> None:
    with RawServer(lambda sock, request: reset(sock)) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(client_credentials_conn(raw.url))
    assert caught.value.code == "unreachable"
    assert len(raw.requests) == 2 and sleep.delays == []


async def test_a_stale_keep_alive_connection_is_replaced(client: OAuthClient) -> None:
    """The server closes a kept-alive connection without saying so: the next request
    still succeeds (httpcore notices, or the one immediate retry does)."""

    def answer_then_close(sock: socket.socket, request: bytes) -> None:
        sock.sendall(http_response(200, TOKEN, close=False))

    with RawServer(answer_then_close) as raw:
        for _ in range(4):
            await client.fetch(client_credentials_conn(raw.url))
    assert raw.connections >= 4


async def test_reset_in_the_middle_of_the_body(client: OAuthClient) -> None:
    def half(sock: socket.socket, request: bytes) -> None:
        sock.sendall(http_response(200, TOKEN[:10], content_length=len(TOKEN)))
        time.sleep(0.05)
        reset(sock)

    with RawServer(half) as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code == "malformed-response"


async def test_garbage_instead_of_http(client: OAuthClient) -> None:
    with replying(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as raw, pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(raw.url))
    assert caught.value.code in ("unreachable", "malformed-response")
    assert raw.url in caught.value.message


# --- what goes on the wire -----------------------------------------------------------------


async def test_form_body_no_query_and_body_client_auth(client: OAuthClient) -> None:
    with replying(http_response(200, TOKEN)) as raw:
        tokens = await client.fetch(password_conn(raw.url, scope="useraccount other"))
    assert tokens.access_token == "at-123" and tokens.refresh_token == "rt-456"
    line, headers, body = _head_and_body(raw.requests[0])
    assert line == "POST /oauth_token.do HTTP/1.1"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in headers
    assert headers["user-agent"].startswith("snowauth/")
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert form == {
        "grant_type": "password",
        "username": "integration.user",
        "password": "demo-password",
        "scope": "useraccount other",
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
    }


async def test_basic_client_auth_form_encodes_before_base64(client: OAuthClient) -> None:
    secret = "a:b c+d%e&f=g/é"
    with replying(http_response(200, TOKEN)) as raw:
        await client.fetch(client_credentials_conn(raw.url, client_secret=secret, client_auth="basic"))
    _, headers, body = _head_and_body(raw.requests[0])
    scheme, _, value = headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(value).decode().partition(":")
    assert user == DEMO_ID
    assert password == "a%3Ab+c%2Bd%25e%26f%3Dg%2F%C3%A9"
    assert unquote_plus(password) == secret
    assert parse_qs(body.decode()) == {"grant_type": ["client_credentials"]}


async def test_connections_are_reused(client: OAuthClient) -> None:
    def keep_alive(sock: socket.socket, request: bytes) -> None:
        sock.sendall(http_response(200, TOKEN, close=False))

    with RawServer(keep_alive, keep_alive=True) as raw:
        for _ in range(3):
            await client.fetch(password_conn(raw.url))
    assert len(raw.requests) == 3
    assert raw.connections == 1


async def test_revoke_posts_then_falls_back_to_get_on_405(client: OAuthClient) -> None:
    def revoke(sock: socket.socket, request: bytes) -> None:
        if request.startswith(b"POST"):
            sock.sendall(http_response(405, b""))
        else:
            sock.sendall(http_response(200, b""))

    with RawServer(revoke) as raw:
        await client.revoke(password_conn(raw.url), ["refresh-1", "access-1", "", "refresh-1"])
    lines = [_head_and_body(r)[0] for r in raw.requests]
    assert lines == [
        "POST /oauth_revoke_token.do HTTP/1.1",
        "GET /oauth_revoke_token.do?token=refresh-1 HTTP/1.1",
        "POST /oauth_revoke_token.do HTTP/1.1",
        "GET /oauth_revoke_token.do?token=access-1 HTTP/1.1",
    ]
    assert _head_and_body(raw.requests[0])[2] == b"token=refresh-1"


async def test_revoke_failure(client: OAuthClient) -> None:
    with replying(http_response(400, b"{}")) as raw, pytest.raises(OAuthError) as caught:
        await client.revoke(password_conn(raw.url), ["some-token"])
    err = caught.value
    assert err.code == "revoke-failed"
    assert err.status == 400
    assert f"{raw.url}/oauth_revoke_token.do" in err.message
    assert "some-token" not in err.message


async def test_whoami_falls_back_to_the_table_api(client: OAuthClient) -> None:
    row = (
        b'{"result":[{"user_name":"abel.tuter","sys_id":"62826bf03710200044e0bfc8bcbe5df1",'
        b'"name":"Abel Tuter","email":"abel@example.com"}]}'
    )

    def rest(sock: socket.socket, request: bytes) -> None:
        if b"current_user" in request.split(b"\r\n", 1)[0]:
            sock.sendall(http_response(404, b'{"error":{"message":"Not found"}}'))
        else:
            sock.sendall(http_response(200, row))

    with RawServer(rest) as raw:
        who = await client.whoami(password_conn(raw.url), "a-token")
    assert who == {
        "user_name": "abel.tuter",
        "user_sys_id": "62826bf03710200044e0bfc8bcbe5df1",
        "user_display_name": "Abel Tuter",
        "email": "abel@example.com",
    }
    line, headers, _ = _head_and_body(raw.requests[1])
    assert line.startswith("GET /api/now/table/sys_user?")
    assert "sysparm_limit=2" in line
    assert headers["authorization"] == "Bearer a-token"


async def test_whoami_on_a_non_servicenow_host(client: OAuthClient) -> None:
    page = http_response(200, b"<html><title>Hi</title></html>", content_type="text/html")
    with replying(page) as raw, pytest.raises(OAuthError) as caught:
        await client.whoami(password_conn(raw.url), "a-token")
    assert caught.value.code == "not-servicenow"
    assert "REST API" in caught.value.message


async def test_aclose_closes_and_a_new_call_reopens(emu: Emulator) -> None:
    oauth = OAuthClient()
    first = await oauth.fetch(password_conn(emu.url))
    await oauth.aclose()
    second = await oauth.fetch(password_conn(emu.url))  # a fresh pool
    await oauth.aclose()
    assert first.access_token and second.access_token and emu.token_requests == 2

    def keep_alive(sock: socket.socket, request: bytes) -> None:
        sock.sendall(http_response(200, TOKEN, close=False))

    with RawServer(keep_alive, keep_alive=True) as raw:
        oauth = OAuthClient()
        await oauth.fetch(password_conn(raw.url))
        await oauth.fetch(password_conn(raw.url))
        assert raw.connections == 1  # kept alive until aclose
        await oauth.aclose()
        await oauth.fetch(password_conn(raw.url))  # reopens: a new connection
        await oauth.aclose()
    assert len(raw.requests) == 3 and raw.connections == 2
