"""Corporate networks, for real over loopback: a CONNECT proxy (the kit's, counting its
tunnels) in front of the emulator over TLS, the operating system's trust store
(``SSL_CERT_FILE`` pointed at a private store for the test, never the real one), and
mutual TLS against an emulator that requires a client certificate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from tests.kit.emulator import write_tls_cert
from tests.kit.oauth import password_conn
from tests.kit.proxy import ConnectProxy, running_proxy

PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def bundle(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_emu(ca: trustme.CA, tmp_path: Path, make_emu: Callable[..., Emulator]) -> Emulator:
    certfile, keyfile = write_tls_cert(ca, tmp_path)
    return make_emu(certfile=str(certfile), keyfile=str(keyfile))


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    with running_proxy() as running:
        yield running


def tunnel_to(emu: Emulator) -> str:
    return f"127.0.0.1:{emu.port}"


# --- proxies ----------------------------------------------------------------------------


async def test_the_process_environment_proxy_carries_the_token_request(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, proxy: ConnectProxy, client: OAuthClient
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    tokens = await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
    assert tokens.access_token
    assert proxy.connects == [tunnel_to(tls_emu)]
    assert tls_emu.token_requests == 1


async def test_lower_case_https_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, proxy: ConnectProxy, client: OAuthClient
) -> None:
    monkeypatch.setenv("https_proxy", proxy.url.removeprefix("http://"))  # curl reads host:port as http
    await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
    assert proxy.connects == [tunnel_to(tls_emu)]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*", "example.com, 127.0.0.1"])
async def test_no_proxy_goes_direct(
    monkeypatch: pytest.MonkeyPatch,
    tls_emu: Emulator,
    bundle: str,
    proxy: ConnectProxy,
    client: OAuthClient,
    no_proxy: str,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    tokens = await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
    assert tokens.access_token
    assert proxy.connects == []
    assert tls_emu.token_requests == 1


async def test_no_proxy_for_another_port_still_goes_through(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, proxy: ConnectProxy, client: OAuthClient
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", f"127.0.0.1:{tls_emu.port + 1}")
    await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
    assert proxy.connects == [tunnel_to(tls_emu)]


async def test_the_connection_proxy_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, proxy: ConnectProxy, client: OAuthClient
) -> None:
    with running_proxy(refuse=True) as other:
        monkeypatch.setenv("HTTPS_PROXY", other.url)
        await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle, proxy=proxy.url))
        assert other.rejected == 0 and other.connects == []
    assert proxy.connects == [tunnel_to(tls_emu)]


async def test_a_proxy_asking_for_credentials_is_a_407_failure(
    monkeypatch: pytest.MonkeyPatch,
    tls_emu: Emulator,
    bundle: str,
    client: OAuthClient,
) -> None:
    with running_proxy(credentials=("alice", "pr0xy-s3cret-pw")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(OAuthError) as caught:
            await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
        assert proxy.rejected == 1 and proxy.connects == []
    err = caught.value
    assert err.code == "proxy" and err.key == "proxy" and err.status == 407
    assert "407" in err.message and f"127.0.0.1:{proxy.port}" in err.message
    assert tls_emu.token_requests == 0


@pytest.mark.parametrize("where", ["environment", "connection"])
async def test_proxy_credentials_are_sent_and_never_logged(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tls_emu: Emulator,
    bundle: str,
    client: OAuthClient,
    where: str,
) -> None:
    secret = "pr0xy-s3cret-pw"
    caplog.set_level(logging.DEBUG)
    with running_proxy(credentials=("alice", secret)) as proxy:
        url = proxy.url_with("alice", secret)
        if where == "environment":
            monkeypatch.setenv("HTTPS_PROXY", url)
            conn = password_conn(tls_emu.url, ca_bundle=bundle)
        else:
            conn = password_conn(tls_emu.url, ca_bundle=bundle, proxy=url)
        tokens = await client.fetch(conn)
        assert tokens.access_token
        assert proxy.connects == [tunnel_to(tls_emu)]
        assert len(proxy.proxy_authorizations) == 1
    assert secret not in caplog.text
    assert secret not in repr(conn)


async def test_a_refusing_proxy_says_so(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, client: OAuthClient
) -> None:
    with running_proxy(refuse=True) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(OAuthError) as caught:
            await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
        assert proxy.rejected == 1
    assert caught.value.code == "proxy"
    assert "HTTP 403" in caught.value.message and "NO_PROXY" in caught.value.message


async def test_a_proxy_that_is_down_is_named(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, client: OAuthClient
) -> None:
    with running_proxy() as proxy:
        down = proxy.url
    monkeypatch.setenv("HTTPS_PROXY", down)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(tls_emu.url, ca_bundle=bundle))
    assert caught.value.code == "proxy"
    assert down in caught.value.message
    assert tls_emu.token_requests == 0


async def test_through_a_proxy_the_instance_certificate_is_still_verified(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, proxy: ConnectProxy, client: OAuthClient
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(tls_emu.url))  # no ca_bundle: the test CA is unknown
    assert caught.value.code == "tls"
    assert proxy.connects == [tunnel_to(tls_emu)]
    assert tls_emu.token_requests == 0


# --- the operating system's trust store ----------------------------------------------------


async def test_a_ca_in_the_system_trust_store_is_trusted(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, bundle: str, client: OAuthClient
) -> None:
    # OpenSSL-backed truststore (Linux) reads the system store through OpenSSL's default
    # paths, which SSL_CERT_FILE overrides: a private store holding only the test CA
    monkeypatch.setenv("SSL_CERT_FILE", bundle)
    monkeypatch.setenv("SSL_CERT_DIR", str(Path(bundle).parent / "no-such-dir"))
    tokens = await client.fetch(password_conn(tls_emu.url))  # no ca_bundle
    assert tokens.access_token


async def test_without_the_ca_in_the_trust_store_tls_fails(
    monkeypatch: pytest.MonkeyPatch, tls_emu: Emulator, tmp_path: Path, client: OAuthClient
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "no-such-dir"))
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(tls_emu.url))
    assert caught.value.code == "tls"


# --- client certificates (mutual TLS) ---------------------------------------------------------


@pytest.fixture
def mtls_emu(ca: trustme.CA, tmp_path: Path, make_emu: Callable[..., Emulator]) -> Emulator:
    certfile, keyfile = write_tls_cert(ca, tmp_path)
    client_ca = trustme.CA()
    client_ca.cert_pem.write_to_path(str(tmp_path / "client-ca.pem"))
    issued = client_ca.issue_cert("integration.user@example.com")
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    issued.private_key_pem.write_to_path(str(tmp_path / "client-key.pem"))
    return make_emu(certfile=str(certfile), keyfile=str(keyfile), client_ca=str(tmp_path / "client-ca.pem"))


async def test_without_a_client_certificate_the_instance_refuses(
    mtls_emu: Emulator, bundle: str, client: OAuthClient
) -> None:
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(mtls_emu.url, ca_bundle=bundle))
    err = caught.value
    assert err.code == "client-certificate" and err.key == "client_cert"
    assert "client_cert" in err.message and "client_key" in err.message
    assert mtls_emu.token_requests == 0


async def test_with_the_client_certificate_a_token(
    mtls_emu: Emulator, bundle: str, tmp_path: Path, client: OAuthClient
) -> None:
    conn = password_conn(
        mtls_emu.url,
        ca_bundle=bundle,
        client_cert=str(tmp_path / "client.pem"),
        client_key=str(tmp_path / "client-key.pem"),
    )
    tokens = await client.fetch(conn)
    assert tokens.access_token
    assert mtls_emu.token_requests == 1


async def test_an_encrypted_client_key_with_its_passphrase(
    mtls_emu: Emulator, bundle: str, tmp_path: Path, client: OAuthClient, caplog: pytest.LogCaptureFixture
) -> None:
    from cryptography.hazmat.primitives import serialization

    passphrase = "k3y-passphrase-s3cret"
    key = serialization.load_pem_private_key((tmp_path / "client-key.pem").read_bytes(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    (tmp_path / "client-key.enc.pem").write_bytes(encrypted)
    caplog.set_level(logging.DEBUG)
    base = {
        "ca_bundle": bundle,
        "client_cert": str(tmp_path / "client.pem"),
        "client_key": str(tmp_path / "client-key.enc.pem"),
    }
    with pytest.raises(OAuthError) as caught:
        await client.fetch(password_conn(mtls_emu.url, **base, client_key_password="wrong"))
    assert caught.value.code == "client-certificate"
    assert "passphrase" in caught.value.message
    tokens = await client.fetch(password_conn(mtls_emu.url, **base, client_key_password=passphrase))
    assert tokens.access_token
    assert passphrase not in caplog.text


async def test_the_doctor_probe_and_the_table_api_take_the_same_route(
    mtls_emu: Emulator, bundle: str, tmp_path: Path, proxy: ConnectProxy, client: OAuthClient
) -> None:
    from snowauth.admin import basic
    from snowauth.oauth.probe import probe
    from snowauth.oauth.table import TableClient
    from snowauth.oauth.tls import ClientCertificate
    from tests.kit.emulator import ADMIN, ADMIN_PASSWORD

    cert = ClientCertificate(str(tmp_path / "client.pem"), str(tmp_path / "client-key.pem"))
    awake = await probe(client.http, mtls_emu.url, ca_bundle=bundle, timeout=10, proxy=proxy.url, client_cert=cert)
    assert not awake.hibernating
    table = TableClient(
        mtls_emu.url,
        basic(ADMIN, ADMIN_PASSWORD),
        ca_bundle=bundle,
        transport=client.http,
        proxy=proxy.url,
        client_cert=cert,
    )
    users = await table.list("sys_user", limit=1)
    assert len(users) == 1
    assert proxy.connects == [tunnel_to(mtls_emu)]  # one route, one tunnel kept alive for both
