"""`snowauth register` as a user's shell runs it (no terminal: the admin comes from
SNOW_ADMIN_USER/SNOW_ADMIN_PASSWORD), against the emulator over loopback HTTP and
HTTPS: the record made on the instance, the file and its .env written, the first token
fetched with the new client; refusals that leave everything as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from snowauth import instance_records as ir
from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth
from tests.kit.emulator import ADMIN_PASSWORD
from tests.kit.http import free_port
from tests.kit.register import (
    ADMIN_ENV,
    APP_USER,
    NOT_ADMIN,
    headless_browser,
    mode,
    record_of,
    records,
    register_instance,
    unregistered,
)


@pytest.fixture(params=["http", "https"])
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Emulator, str, str | None]]:
    """The demo instance (client credentials on, sign-ins approved at once), over plain
    loopback HTTP or over TLS with a test CA; the `ca_bundle = …` line the connection
    needs for it, and the CA file."""
    with register_instance(request.param, tmp_path) as running:
        yield running


def project(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "dev.snowauth.toml"
    path.write_text(text, encoding="utf-8")
    return path


def register(path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object] | None, str]:
    import os

    done = run_snowauth("register", str(path), *args, env={**os.environ, **(env if env is not None else ADMIN_ENV)})
    result = json.loads(done.stdout) if done.returncode in (0, 1) and done.stdout.strip() else None
    everything = done.stdout + done.stderr
    assert ADMIN_PASSWORD not in everything
    return done.returncode, result, done.stderr


def nothing_secret_in(path: Path) -> None:
    for file in path.parent.iterdir():
        if file.is_file():
            assert ADMIN_PASSWORD not in file.read_text(encoding="utf-8", errors="replace"), file


@pytest.mark.parametrize(
    ("grant", "extra", "args", "public"),
    [
        ("password", "", (), False),
        ("client_credentials", "", ("--application-user", APP_USER), False),
        ("authorization_code", "", (), True),  # PKCE on by default, no client_secret: public
        ("authorization_code", "pkce = false\n", (), False),
    ],
    ids=["password", "client_credentials", "authcode-public", "authcode-confidential"],
)
def test_register_then_fetch(
    instance: tuple[Emulator, str, str | None],
    tmp_path: Path,
    grant: str,
    extra: str,
    args: tuple[str, ...],
    public: bool,
) -> None:
    emu, tls, ca = instance
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    if grant == "authorization_code":
        extra += f'redirect_uri = "{redirect}"\n'
    path = project(tmp_path, unregistered(emu.url, grant, extra=extra + tls))
    before = len(records(emu, ca))

    status, result, stderr = register(path, *args, "--fetch", env={**ADMIN_ENV, **headless_browser(tmp_path, ca)})

    assert status == 0, stderr
    assert result is not None and result["fetched"] is True and result["connection"] == "dev"
    client_id = str(result["client_id"])
    record = record_of(emu, client_id, ca)
    assert len(records(emu, ca)) == before + 1
    assert record["sys_id"] == result["sys_id"]
    assert record[ir.ENTITY_NAME] == "snowauth dev (dev)"
    assert record[ir.ENTITY_PUBLIC_CLIENT] == ("true" if public else "false")
    assert record[ir.ENTITY_REDIRECT_URL] == (redirect if grant == "authorization_code" else "")
    a = analyze(path.read_text(encoding="utf-8"))
    c = a.connections["dev"]
    assert c.keys["client_id"].value.data == client_id
    assert c.has_token  # the first token, fetched with the new client and stored in the file
    assert [f.message for f in a.findings if f.severity == 1] == []
    dotenv = path.parent / ".env"
    if public:
        assert result["secret_file"] is None and "client_secret" not in c.keys and not dotenv.exists()
    else:
        assert result["secret_file"] == str(dotenv)
        assert c.keys["client_secret"].value.data == "${env:SNOW_DEV_CLIENT_SECRET}"
        assert mode(dotenv) == 0o600
        line = dotenv.read_text(encoding="utf-8").strip()
        name, _, secret = line.partition("=")
        assert name == "SNOW_DEV_CLIENT_SECRET" and len(secret) >= 43
        assert secret not in stderr
    if grant == "client_credentials":
        assert record[ir.ENTITY_APPLICATION_USER]  # the OAuth Application User: svc.integration's sys_id
    nothing_secret_in(path)


def test_the_default_redirect_is_written_into_the_file(
    instance: tuple[Emulator, str, str | None], tmp_path: Path
) -> None:
    emu, tls, ca = instance
    path = project(tmp_path, unregistered(emu.url, "authorization_code", extra=tls))
    status, result, stderr = register(path, "--no-fetch")
    assert status == 0, stderr
    assert result is not None and result["fetched"] is False
    c = analyze(path.read_text(encoding="utf-8")).connections["dev"]
    assert c.keys["redirect_uri"].value.data == "http://127.0.0.1:53682/callback"
    assert record_of(emu, str(result["client_id"]), ca)[ir.ENTITY_REDIRECT_URL] == "http://127.0.0.1:53682/callback"
    assert not c.has_token


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        (NOT_ADMIN, "lacks the admin role"),  # 403: the user may not write oauth_entity
        (("admin", "not-the-admin-password"), "refused the admin credentials"),  # 401
    ],
    ids=["403-not-admin", "401-bad-password"],
)
def test_refused_leaves_file_and_env_unchanged(
    emulator: Emulator, tmp_path: Path, admin: tuple[str, str], expected: str
) -> None:
    path = project(tmp_path, unregistered(emulator.url, "password"))
    dotenv = path.parent / ".env"
    dotenv.write_text("OTHER=kept\n", encoding="utf-8")
    before_text, before_env, before_records = path.read_bytes(), dotenv.read_bytes(), len(records(emulator))
    env = {"SNOW_ADMIN_USER": admin[0], "SNOW_ADMIN_PASSWORD": admin[1]}
    status, result, stderr = register(path, "--fetch", env=env)
    assert status == 1 and result is None
    assert expected in stderr and "Nothing was changed on the instance" in stderr
    assert admin[1] not in stderr
    assert path.read_bytes() == before_text and dotenv.read_bytes() == before_env
    assert len(records(emulator)) == before_records


def test_an_absent_application_user_is_refused_before_anything_is_made(emulator: Emulator, tmp_path: Path) -> None:
    path = project(tmp_path, unregistered(emulator.url, "client_credentials"))
    before = len(records(emulator))
    status, _result, stderr = register(path, "--application-user", "nobody.here", "--no-fetch")
    assert status == 1
    assert "no user “nobody.here”" in stderr
    assert len(records(emulator)) == before and not (path.parent / ".env").exists()
    status, _result, stderr = register(path, "--application-user", "inactive.user", "--no-fetch")
    assert status == 1 and "inactive" in stderr
    status, _result, stderr = register(path, "--no-fetch")  # no terminal to ask on
    assert status == 1 and "--application-user NAME" in stderr
    assert len(records(emulator)) == before


def test_jwt_bearer_is_refused_and_without_an_admin_nothing_is_sent(emulator: Emulator, tmp_path: Path) -> None:
    jwt = unregistered(emulator.url, "urn:ietf:params:oauth:grant-type:jwt-bearer")
    path = project(tmp_path, jwt)
    status, _result, stderr = register(path, "--no-fetch")
    assert status == 1 and "does not make JWT bearer clients" in stderr
    path.write_text(unregistered(emulator.url, "password"), encoding="utf-8")
    before = len(emulator.requests)
    status, _result, stderr = register(path, "--no-fetch", env={"SNOW_ADMIN_USER": "", "SNOW_ADMIN_PASSWORD": ""})
    assert status == 1 and "SNOW_ADMIN_USER" in stderr and "SNOW_ADMIN_PASSWORD" in stderr
    assert len(emulator.requests) == before


def test_a_refresh_token_connection_is_refused_before_anything_is_sent(emulator: Emulator, tmp_path: Path) -> None:
    path = project(tmp_path, unregistered(emulator.url, "refresh_token", extra='refresh_token = "${env:SNOW_RT}"\n'))
    before = len(emulator.requests)
    status, _result, stderr = register(path, "--no-fetch")
    assert status == 1 and "belongs to the client that issued it" in stderr
    assert len(emulator.requests) == before and "client_id" not in path.read_text(encoding="utf-8")


def test_an_admin_connection_registers_with_its_token(emulator: Emulator, tmp_path: Path) -> None:
    from tests.kit.emulator import DEMO_ID, DEMO_SECRET

    admin = f"""
[connections.admin]
instance = "{emulator.url}"
grant_type = "password"
client_id = "{DEMO_ID}"
client_secret = "{DEMO_SECRET}"
username = "admin"
password = "${{env:SNOW_T_ADMIN}}"
"""
    path = project(tmp_path, unregistered(emulator.url, "password") + admin)
    import os

    env = {**os.environ, "SNOW_T_ADMIN": ADMIN_PASSWORD}
    fetched = run_snowauth("token", str(path), "--connection", "admin", "--write", env=env)
    assert fetched.returncode == 0, fetched.stderr
    status, result, stderr = register(
        path, "--connection", "dev", "--admin-connection", "admin", "--fetch", env={"SNOW_T_ADMIN": ADMIN_PASSWORD}
    )
    assert status == 0, stderr
    assert result is not None and result["fetched"] is True
    assert analyze(path.read_text(encoding="utf-8")).connections["dev"].has_token


def test_nothing_is_sent_to_a_host_not_confirmed(tmp_path: Path) -> None:
    from tests.kit.http import http_response, replying

    with replying(http_response(201, b'{"result": {}}')) as server:  # a loopback port nobody confirmed
        path = project(tmp_path, unregistered(server.url, "password"))
        status, _result, stderr = register(path, "--no-fetch")
        assert server.requests == []
    assert status == 1 and "Nothing was sent" in stderr
    assert not (path.parent / ".env").exists() and "client_id" not in path.read_text(encoding="utf-8")


def test_register_goes_through_the_connections_proxy(tmp_path: Path) -> None:
    """The Table API requests of register take the connection's `proxy` (and its
    credentials from the environment), as its grant does."""
    from tests.kit.proxy import running_proxy

    proxy_password = "r3g-pr0xy-pw-77c1"
    with (
        register_instance("https", tmp_path) as (emu, tls, _ca),
        running_proxy(credentials=("alice", proxy_password)) as proxy,
    ):
        path = project(tmp_path, unregistered(emu.url, "password", extra=tls + 'proxy = "${env:CORP_PROXY}"\n'))
        status, result, stderr = register(
            path, "--no-fetch", env={**ADMIN_ENV, "CORP_PROXY": proxy.url_with("alice", proxy_password)}
        )
        assert status == 0, stderr
        assert result is not None and result["client_id"]
        assert proxy.connects and set(proxy.connects) == {f"127.0.0.1:{emu.port}"}
        assert proxy_password not in stderr
