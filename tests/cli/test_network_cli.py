"""`snowauth token` on a corporate network, as a subprocess: the emulator over TLS plays
the instance, the kit's CONNECT proxy counts its tunnels. The proxy comes from snowauth's
own process environment or the connection's `proxy` key, never from a workspace `.env`
(SECURITY.md); its credentials never reach the output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth
from tests.kit.emulator import write_tls_cert
from tests.kit.proxy import running_proxy
from tests.kit.workflow import ENV, connection_text

PROXY_PASSWORD = "c0rp-pr0xy-pw-9f3a"
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[tuple[Emulator, dict[str, str]]]:
    """An emulator over TLS whose CA the machine trusts (SSL_CERT_FILE: the system store
    truststore reads on Linux), and the environment of a user who confirmed it."""
    ca = trustme.CA()
    system_ca = tmp_path / "system-ca.pem"
    ca.cert_pem.write_to_path(str(system_ca))
    cert, key = write_tls_cert(ca, tmp_path)
    with Emulator(certfile=str(cert), keyfile=str(key)) as emu:
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
        env.update(ENV)
        env.update(
            {
                "SSL_CERT_FILE": str(system_ca),
                "SSL_CERT_DIR": str(tmp_path / "no-such-dir"),
                "SNOWAUTH_CONFIG_DIR": str(tmp_path / "config"),
                "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache"),
                "SNOWAUTH_TRUSTED_HOSTS": f"https://127.0.0.1:{emu.port}",
            }
        )
        yield emu, env


def connection(folder: Path, url: str, extra: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "c.snowauth.toml"
    path.write_text(connection_text(url, store="cache") + extra, encoding="utf-8")
    return path


def test_a_workspace_env_file_never_names_the_proxy(tmp_path: Path, instance: tuple[Emulator, dict[str, str]]) -> None:
    emu, env = instance
    with running_proxy() as proxy:
        repo = tmp_path / "cloned"
        path = connection(repo, emu.url)
        (repo / ".env").write_text(f"HTTPS_PROXY={proxy.url}\nhttps_proxy={proxy.url}\n", encoding="utf-8")
        out = run_snowauth("token", str(path), "--format", "json", env=env)
        assert out.returncode == 0, out.stderr
        assert proxy.connects == []  # the .env's proxy was not used
        # the same variable in snowauth's own environment is honoured
        cached = tmp_path / "cache2"
        out = run_snowauth(
            "token",
            str(path),
            "--format",
            "json",
            env={**env, "HTTPS_PROXY": proxy.url, "SNOWAUTH_CACHE_DIR": str(cached)},
        )
        assert out.returncode == 0, out.stderr
        assert proxy.connects == [f"127.0.0.1:{emu.port}"]
    assert emu.token_requests == 2


def test_the_connection_proxy_with_credentials_from_the_environment(
    tmp_path: Path, instance: tuple[Emulator, dict[str, str]]
) -> None:
    emu, env = instance
    with running_proxy(credentials=("alice", PROXY_PASSWORD)) as proxy:
        path = connection(tmp_path / "w", emu.url, 'proxy = "${env:CORP_PROXY}"\n')
        run_env = {**env, "CORP_PROXY": proxy.url_with("alice", PROXY_PASSWORD)}
        out = run_snowauth("token", str(path), "--format", "json", env=run_env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["access_token"]
        assert proxy.connects == [f"127.0.0.1:{emu.port}"]
        assert PROXY_PASSWORD not in out.stdout + out.stderr
        # without the credentials the proxy answers 407: a mapped message, exit 1
        path = connection(tmp_path / "x", emu.url, 'proxy = "${env:CORP_PROXY}"\n')
        out = run_snowauth(
            "token",
            str(path),
            env={**run_env, "CORP_PROXY": proxy.url, "SNOWAUTH_CACHE_DIR": str(tmp_path / "c3")},
        )
        assert out.returncode == 1
        assert "407" in out.stderr and "Proxy Authentication Required" in out.stderr
        assert PROXY_PASSWORD not in out.stdout + out.stderr
