"""The whole flow with debug logging and the JSON-RPC trace on: no secret value may
appear in the server's log, in any message, progress report, diagnostic, result or
error the client receives (but the result of snowauth.accessToken, which is the token
by design: SECURITY.md)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import httpx
import trustme
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.cli import run_snowauth
from tests.kit.doctor import ADMIN, ADMIN_PASSWORD, doctor_config, instance
from tests.kit.emulator import emulator_config, emulators, sdk_page_code
from tests.kit.http import free_port, http_response, replying
from tests.kit.keychain import entries, keyring_env
from tests.kit.leaks import assert_absent, shown
from tests.kit.lsp import Editor, eventually, session_fixture
from tests.kit.proxy import running_proxy

LOG = Path(tempfile.gettempdir()) / f"snowauth-no-secrets-{os.getpid()}.log"
CLIENT_SECRET = "demo-client-secret"
PASSWORD = "demo-password"
URI = "file:///tmp/snowauth-secrets/leak.snowauth.toml"
KEYCHAIN = Path(tempfile.mkdtemp(prefix="snowauth-no-secrets-keychain-")) / "keychain.json"


# values that come from `${env:}` and `${file:}` references: a file someone else wrote may
# name any variable or file, so no message, diagnostic or log line may quote what they hold
REFERENCED = {
    "SNOW_EVIL": "http://evil-marker-value.example",
    "SNOW_EVIL_USER": "evil-marker-user",
    "SNOW_EVIL_REDIRECT": "http://evil-redirect-marker.example:5/cb",
}
FILE_VALUE = "evil-file-marker.example/x"
MARKERS = ("evil-marker-value", "evil-marker-user", "evil-redirect-marker", "evil-file-marker")
FOLDER = Path("/tmp/snowauth-secrets")
EVIL_URI = (FOLDER / "evil.snowauth.toml").as_uri()


client = session_fixture(
    env={
        "SNOW_L_SECRET": CLIENT_SECRET,
        "SNOWAUTH_LOG_LEVEL": "DEBUG",
        "SNOWAUTH_TRACE": "1",
        "SNOWAUTH_LOG_FILE": str(LOG),
        **REFERENCED,
        **keyring_env(KEYCHAIN),
    }
)


def evil_file(instance: str) -> str:
    """Connections whose instance, username or redirect_uri come from references."""
    return f"""[connections.env]
instance = "${{env:SNOW_EVIL}}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "${{env:SNOW_EVIL_USER}}"
password = "${{env:SNOW_L_SECRET}}"

[connections.file]
instance = "${{file:evil-instance.txt}}"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"

[connections.user]
instance = "{instance}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "${{env:SNOW_EVIL_USER}}"
password = "${{env:SNOW_L_SECRET}}"

[connections.code]
instance = "{instance}"
grant_type = "authorization_code"
client_id = "fedcba9876543210fedcba9876543210"
redirect_uri = "${{env:SNOW_EVIL_REDIRECT}}"
"""


async def test_no_secret_anywhere(client: LanguageClient, emulator: Emulator) -> None:
    prompts: list[str] = []

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        prompts.append(repr(args[-1]))
        return {"value": PASSWORD if len(prompts) == 1 else "wrong-password-xyz"}

    editor = Editor(client)
    text = f"""[connections.dev]
instance = "{emulator.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"

[connections.dev.export]
http_client = "leak-http.json"
postman = "leak-postman.json"
"""
    # the token is exported to a file, and a malformed target is reported as a warning
    FOLDER.mkdir(exist_ok=True)
    (FOLDER / "leak-http.json").unlink(missing_ok=True)
    (FOLDER / "leak-postman.json").write_text("{ broken", encoding="utf-8")
    editor.open(URI, text)
    seen: list[str] = []

    async def run(command: str, **extra: object) -> None:
        try:
            seen.append(
                repr(
                    await client.workspace_execute_command_async(
                        t.ExecuteCommandParams(command=command, arguments=[{"uri": URI, "connection": "dev", **extra}])
                    )
                )
            )
        except JsonRpcException as exc:
            seen.append(repr(exc))

    await run("snowauth.fetchToken")
    tokens = analyze(editor.texts[URI]).connections["dev"].token
    access = str(tokens["access_token"].value.data)
    refresh = str(tokens["refresh_token"].value.data)
    # the one result that carries a secret, by design: never in the log (nor in `seen`)
    handed = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="snowauth.accessToken", arguments=[{"uri": URI, "connection": "dev"}])
    )
    assert isinstance(handed, dict) and handed["access_token"] == access
    assert json.loads((FOLDER / "leak-http.json").read_text(encoding="utf-8"))["dev"]["access_token"] == access
    await run("snowauth.refreshToken")
    await run("snowauth.testConnection")
    await run("snowauth.revokeToken")
    await run("snowauth.fetchToken")  # the prompt now answers a wrong password: a failure
    emulator.set_mode(hibernating=True)
    await run("snowauth.fetchToken")
    emulator.set_mode(hibernating=False)
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
    )
    seen.append(report)

    # values from references: every connection fails, and says where the value came from
    FOLDER.mkdir(exist_ok=True)
    (FOLDER / "evil-instance.txt").write_text(FILE_VALUE + "\n", encoding="utf-8")
    editor.open(EVIL_URI, evil_file(emulator.url))
    failures: list[str] = []
    for name in ("env", "file", "user", "code"):
        try:
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": EVIL_URI, "connection": name}])
            )
        except JsonRpcException as exc:
            failures.append(repr(exc))
    evil_report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(EVIL_URI))
    )
    seen.extend([*failures, repr(evil_report)])
    assert len(failures) == 4
    assert "${env:SNOW_EVIL}" in failures[0] and "${file:evil-instance.txt}" in failures[1]
    assert "${env:SNOW_EVIL_USER}" in failures[2] and "${env:SNOW_EVIL_REDIRECT}" in failures[3]
    progress = [repr(reports) for reports in client.progress_reports.values()]

    assert progress and any("Requesting a token" in p for p in progress)
    assert len(prompts) == 3 and any("rejected" in s for s in seen) and any("hibernating" in s for s in seen)
    log = LOG.read_text(encoding="utf-8")
    # the log did capture the flow: the exchanges, the trace, and the prompt's answers redacted whole
    url = emulator.url
    for line in (
        f"snowauth.oauth: token issued by {url} (password grant)",
        f"snowauth.oauth: token issued by {url} (refresh token grant)",
        f"snowauth.oauth.http: POST {url}/oauth_token.do -> 401",
        f"snowauth.oauth.http: GET {url}/api/now/ui/user/current_user -> 200",
        f"snowauth.oauth.http: POST {url}/oauth_revoke_token.do -> 200",
        "Request 'workspace/executeCommand' received",
        "[redacted: a secret answer]",
        '"result": {"connection": "dev", "access_token": "[redacted]"',  # the accessToken answer
    ):
        assert line in log, f"missing from the server log: {line}"
    captured = shown(client, log, *seen, *prompts, *progress)
    assert any("leak-postman.json" in m.message for m in client.messages if m.type == t.MessageType.Warning)
    assert_absent(captured, (CLIENT_SECRET, PASSWORD, "wrong-password-xyz", access, refresh))
    assert_absent(captured, MARKERS, "a referenced value")
    # the session cookies the token answers set (JSESSIONID): never kept, never shown
    with emulator.state.lock:
        sessions = list(emulator.state.sessions)
    assert sessions
    assert_absent(captured, sessions, "a session cookie")
    LOG.unlink()


async def test_no_secret_in_the_automatic_refresh(client: LanguageClient) -> None:
    """The refresh nobody asked for (`auto_refresh`), failing then succeeding: its
    notification, problem, log lines and edit carry no secret either."""

    @client.feature("snowauth/promptSecret")
    def prompt(*_args: object) -> dict[str, str]:
        return {"value": PASSWORD}

    # tokens of 100 s: less than the 2 minutes of the margin, so due as soon as fetched
    with emulators(config=emulator_config(access_token_lifespan=100)) as start:
        emu = start()
        with local_emulator(emu.url):
            editor = Editor(client)
            text = f"""[connections.dev]
instance = "{emu.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
"""
            editor.open(URI, text)
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": "dev"}])
            )
            fetched = editor.texts[URI]
            tokens = analyze(fetched).connections["dev"].token
            access = str(tokens["access_token"].value.data)
            refresh = str(tokens["refresh_token"].value.data)
            emu.set_mode(hibernating=True)
            editor.type(URI, editor.texts[URI].index("\npassword") + 1, "auto_refresh = true\n")
            await eventually(lambda: any("refreshed automatically" in m.message for m in client.messages), "failed")
            emu.set_mode(hibernating=False)
            editor.type(URI, editor.texts[URI].index("\npassword") + 1, "timeout = 20\n")
            # the refresh itself, not an edit: the instance gives the same token back with an
            # expiry that may fall in the same second as before, and then the file is unchanged
            issued = f"token issued by {emu.url} (refresh token grant)"
            await eventually(lambda: LOG.exists() and issued in LOG.read_text(encoding="utf-8"), "refreshed")
            report = await client.text_document_diagnostic_async(
                t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
            )
    log = LOG.read_text(encoding="utf-8")
    assert f"snowauth.oauth: token issued by {emu.url} (refresh token grant)" in log
    assert "auto-refresh (dev) failed" in log
    captured = shown(client, log, report)
    assert_absent(captured, (CLIENT_SECRET, PASSWORD, access, refresh))
    LOG.unlink()


def test_the_cli_names_references_not_their_values(tmp_path: Path, emulator: Emulator) -> None:
    path = tmp_path / "evil.snowauth.toml"
    path.write_text(evil_file(emulator.url), encoding="utf-8")
    (tmp_path / "evil-instance.txt").write_text(FILE_VALUE + "\n", encoding="utf-8")
    env = {
        **os.environ,
        **REFERENCED,
        "SNOW_L_SECRET": CLIENT_SECRET,
        "SNOWAUTH_LOG_LEVEL": "DEBUG",
        "SNOWAUTH_TRACE": "1",
        "SNOWAUTH_TRUSTED_HOSTS": "127.0.0.1",
    }
    outputs = []
    for name in ("env", "file", "user", "code"):
        out = run_snowauth("token", str(path), "--connection", name, env=env)
        assert out.returncode == 1 and out.stdout == "", out.stderr
        outputs.append(out.stderr)
    assert "${env:SNOW_EVIL}" in outputs[0] and "${file:evil-instance.txt}" in outputs[1]
    assert "${env:SNOW_EVIL_USER}" in outputs[2] and "${env:SNOW_EVIL_REDIRECT}" in outputs[3]
    checked = run_snowauth("check", str(path), env=env)
    for text in [*outputs, checked.stdout, checked.stderr]:
        for marker in MARKERS:
            assert marker not in text, f"a referenced value leaked: {marker}"


async def test_the_doctor_shows_no_secret(client: LanguageClient) -> None:
    """Diagnose Connection with an admin asked for, a `${prompt}` password, a healthy
    walk (a token issued and dropped) and a refused grant (the system log quoted): the
    admin's password, the connection's secrets and the token are nowhere."""
    answers = {"password": PASSWORD, "admin_username": ADMIN, "admin_password": ADMIN_PASSWORD}

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str | None]:
        params = args[-1]
        key = params.get("key") if isinstance(params, dict) else getattr(params, "key", None)
        return {"value": answers.get(str(key))}

    seen: list[str] = []
    with instance(doctor_config()) as emu:
        editor = Editor(client)
        editor.open(
            URI,
            f"""[connections.dev]
instance = "{emu.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
token_store = "cache"
""",
        )
        for password in (PASSWORD, "wrong-doctor-password-q9"):
            answers["password"] = password
            result = await client.workspace_execute_command_async(
                t.ExecuteCommandParams(
                    command="snowauth.diagnoseConnection", arguments=[{"uri": URI, "connection": "dev"}]
                )
            )
            seen.append(json.dumps(result))
        issued = list(emu.state.access_tokens)
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
        )
    assert '"ok": true' in seen[0] and '"ok": false' in seen[1] and "Exception on token flow" in seen[1]
    assert issued, "the healthy walk issued a token"
    log = LOG.read_text(encoding="utf-8")
    assert f"GET {emu.url}/api/now/table/oauth_entity -> 200" in log
    captured = shown(client, log, *seen, report)
    assert_absent(captured, (CLIENT_SECRET, PASSWORD, ADMIN_PASSWORD, "wrong-doctor-password-q9", *issued))


async def test_no_secret_in_register(client: LanguageClient, emulator: Emulator, tmp_path: Path) -> None:
    """Register OAuth Client with the log at DEBUG and the trace on: the admin's password
    (asked once), the generated client secret and the first token appear in no log line,
    message, progress report, result or error, and the admin password in no file."""
    from tests.kit.emulator import ADMIN, ADMIN_PASSWORD
    from tests.kit.register import AtTheEditor, unregistered

    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "reg.snowauth.toml"
    uri = path.as_uri()
    text = unregistered(emulator.url, "password")
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    answers = {"admin_username": ADMIN, "admin_password": ADMIN_PASSWORD}
    person = AtTheEditor(client, answers)
    seen: list[str] = []

    async def register(**extra: object) -> None:
        try:
            seen.append(
                repr(
                    await client.workspace_execute_command_async(
                        t.ExecuteCommandParams(
                            command="snowauth.registerClient", arguments=[{"uri": uri, "connection": "dev", **extra}]
                        )
                    )
                )
            )
        except JsonRpcException as exc:
            seen.append(repr(exc))

    await register()
    secret = (folder / ".env").read_text(encoding="utf-8").strip().partition("=")[2]
    tokens = analyze(editor.texts[uri]).connections["dev"].token
    access = str(tokens["access_token"].value.data)
    # refused: a wrong admin password (401), then a user without the admin role (403)
    answers["admin_password"] = "wrong-admin-password-xyz"
    editor.replace(uri, 0, len(editor.texts[uri]), text)
    await register()
    answers.update({"admin_username": "integration.user", "admin_password": PASSWORD})
    await register()
    progress = [repr(reports) for reports in client.progress_reports.values()]

    assert len(secret) >= 43 and any("client_id" in s for s in seen)
    assert any("refused the admin credentials" in s for s in seen) and any("lacks the admin role" in s for s in seen)
    log = LOG.read_text(encoding="utf-8")
    assert f"snowauth.oauth.http: POST {emulator.url}/api/now/table/oauth_entity -> 201" in log
    assert "[redacted: a secret answer]" in log
    captured = shown(client, log, *seen, *person.prompts, *progress)
    assert_absent(captured, (ADMIN_PASSWORD, "wrong-admin-password-xyz", PASSWORD, secret, access))
    for file in folder.iterdir():
        assert ADMIN_PASSWORD not in file.read_text(encoding="utf-8")


async def test_no_secret_in_the_sdk_sign_in(client: LanguageClient) -> None:
    """`client = "servicenow-sdk"`: the code pasted from the instance's /sdk-oauth.do page
    (a one-time prompt answer), the tokens it buys and the refresh without a secret stay
    out of the log, the messages and the progress."""
    codes: list[str] = []

    @client.feature("snowauth/promptSecret")
    async def prompt(*_args: object) -> dict[str, str]:
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
            codes.append(sdk_page_code(await browser.get(client.shown_documents[-1].uri)))
        return {"value": codes[-1]}

    with emulators(auto_approve_user="integration.user") as start:
        emu = start()
        with local_emulator(emu.url):
            editor = Editor(client)
            editor.open(URI, f'[connections.dev]\ninstance = "{emu.url}"\nclient = "servicenow-sdk"\n')
            seen = []
            for command in ("snowauth.fetchToken", "snowauth.refreshToken", "snowauth.testConnection"):
                seen.append(
                    repr(
                        await client.workspace_execute_command_async(
                            t.ExecuteCommandParams(command=command, arguments=[{"uri": URI, "connection": "dev"}])
                        )
                    )
                )
            tokens = analyze(editor.texts[URI]).connections["dev"].token
            access = str(tokens["access_token"].value.data)
            refresh = str(tokens["refresh_token"].value.data)
    log = LOG.read_text(encoding="utf-8")
    for line in (
        f"snowauth.oauth: token issued by {emu.url} (authorization code grant)",
        f"snowauth.oauth: token issued by {emu.url} (refresh token grant)",
        "[redacted: a secret answer]",
    ):
        assert line in log, f"missing from the server log: {line}"
    progress = [repr(reports) for reports in client.progress_reports.values()]
    captured = shown(client, log, *seen, *progress)
    assert len(codes) == 1
    assert_absent(captured, (codes[0], access, refresh))
    LOG.unlink()


# -- corporate networks: a proxy's password and a client key's passphrase ----------------------

NET_BASE = Path(tempfile.gettempdir()) / f"snowauth-no-secrets-net-{os.getpid()}"
NET_BASE.mkdir(parents=True, exist_ok=True)
NET_LOG = NET_BASE / "server.log"
NET_CA = trustme.CA()  # signs the instance; the machine's trust store holds it (SSL_CERT_FILE)
NET_CA.cert_pem.write_to_path(str(NET_BASE / "system-ca.pem"))
PROXY_PORT = free_port()
PROXY_PASSWORD = "pr0xy-pa55-7c1e"
KEY_PASSPHRASE = "k3y-pa55phrase-40aa"

network_client = session_fixture(
    env={
        "SNOW_L_SECRET": CLIENT_SECRET,
        "SNOWAUTH_LOG_LEVEL": "DEBUG",
        "SNOWAUTH_TRACE": "1",
        "SNOWAUTH_LOG_FILE": str(NET_LOG),
        "SSL_CERT_FILE": str(NET_BASE / "system-ca.pem"),
        "SNOWAUTH_TRUSTED_HOSTS": "127.0.0.1",
        "HTTPS_PROXY": f"http://alice:{PROXY_PASSWORD}@127.0.0.1:{PROXY_PORT}",
    }
)


async def test_no_secret_through_a_proxy_with_a_client_certificate(network_client: LanguageClient) -> None:
    """The process environment's proxy with a password, an instance that requires a
    client certificate whose key is encrypted (`client_key_password = "${prompt}"`): the
    token comes through the proxy, and neither secret reaches the log, the trace, the
    messages or the progress."""
    from cryptography.hazmat.primitives import serialization

    client = network_client

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        return {"value": PASSWORD if "'password'" in repr(args[-1]) else KEY_PASSPHRASE}

    folder = NET_BASE / "work"
    folder.mkdir(exist_ok=True)
    issued = NET_CA.issue_cert("127.0.0.1", "localhost")
    (folder / "instance.pem").write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(folder / "instance-key.pem"))
    client_ca = trustme.CA()
    client_ca.cert_pem.write_to_path(str(folder / "client-ca.pem"))
    mine = client_ca.issue_cert("integration.user@example.com")
    mine.cert_chain_pems[0].write_to_path(str(folder / "client.pem"))
    key = serialization.load_pem_private_key(mine.private_key_pem.bytes(), None)
    (folder / "client-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode()),
        )
    )
    uri = (folder / "net.snowauth.toml").as_uri()
    with (
        running_proxy(credentials=("alice", PROXY_PASSWORD), port=PROXY_PORT) as proxy,
        emulators(
            certfile=str(folder / "instance.pem"),
            keyfile=str(folder / "instance-key.pem"),
            client_ca=str(folder / "client-ca.pem"),
        ) as start,
    ):
        emu = start()
        editor = Editor(client)
        editor.open(
            uri,
            f"""[connections.dev]
instance = "{emu.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
client_cert = "client.pem"
client_key = "client-key.pem"
client_key_password = "${{prompt}}"
token_store = "cache"
""",
        )
        result = await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
        )
        assert proxy.connects == [f"127.0.0.1:{emu.port}"]
        assert emu.token_requests == 1
    log = NET_LOG.read_text(encoding="utf-8")
    assert f"token issued by {emu.url}" in log
    progress = [repr(reports) for reports in client.progress_reports.values()]
    captured = shown(client, log, result, *progress)
    assert_absent(captured, (PROXY_PASSWORD, KEY_PASSPHRASE, PASSWORD, CLIENT_SECRET))
    shutil.rmtree(NET_BASE, ignore_errors=True)


async def test_no_secret_in_the_one_time_code_and_the_keychain(client: LanguageClient) -> None:
    """MFA for integrations (`otp = "${prompt}"`, a one-time answer) with the tokens in the
    OS keychain (`token_store = "keyring"`): a wrong code, then the right one, refresh and
    revoke; neither the password, the codes, the password followed by a code, nor the
    tokens appear in the log, the messages, the progress or the results, and the file holds
    no token."""
    codes = iter(["000000", "314159"])
    asked: list[str] = []

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        key = str(getattr(args[-1], "key", ""))
        asked.append(key)
        return {"value": PASSWORD if key == "password" else next(codes)}

    with emulators(config=emulator_config(mfa_code="314159")) as start:
        emu = start()
        with local_emulator(emu.url):
            editor = Editor(client)
            text = f"""[connections.dev]
instance = "{emu.url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
otp = "${{prompt}}"
token_store = "keyring"
"""
            editor.open(URI, text)
            seen = []
            for command in ("snowauth.fetchToken", "snowauth.fetchToken", "snowauth.refreshToken"):
                params = t.ExecuteCommandParams(command=command, arguments=[{"uri": URI, "connection": "dev"}])
                try:
                    seen.append(repr(await client.workspace_execute_command_async(params)))
                except JsonRpcException as exc:
                    seen.append(str(exc))
            (stored,) = entries(KEYCHAIN).values()
            access, refresh = json.loads(stored)["access_token"], json.loads(stored)["refresh_token"]
            revoke = t.ExecuteCommandParams(
                command="snowauth.revokeToken", arguments=[{"uri": URI, "connection": "dev"}]
            )
            seen.append(repr(await client.workspace_execute_command_async(revoke)))
            assert entries(KEYCHAIN) == {} and editor.texts[URI] == text
    assert asked == ["password", "otp", "password", "otp"]
    assert "one-time code" in seen[0]
    log = LOG.read_text(encoding="utf-8")
    assert f"snowauth.oauth: token issued by {emu.url} (password grant)" in log
    progress = [repr(reports) for reports in client.progress_reports.values()]
    captured = shown(client, log, *seen, *progress)
    assert_absent(captured, (PASSWORD, "000000", "314159", PASSWORD + "314159", access, refresh))
    LOG.unlink()


async def test_no_secret_in_the_jwt_shared_key(client: LanguageClient) -> None:
    """The JWT bearer grant signed with a shared key (HS256) from a prompt: a wrong key
    (refused) and the right one (a token) appear in no log line, message or result."""
    shared = "jwt-shared-key-marker-0123456789abcdef"
    wrong = "wrong-shared-key-marker-0123456789abcdef"
    answers = [wrong, shared]

    @client.feature("snowauth/promptSecret")
    def prompt(*_args: object) -> dict[str, str]:
        return {"value": answers.pop(0)}

    with emulators(config=emulator_config(demo={"jwt_shared_key": shared})) as start:
        emu = start()
        with local_emulator(emu.url):
            editor = Editor(client)
            editor.open(
                URI,
                f"""[connections.jwt]
instance = "{emu.url}"
grant_type = "jwt_bearer"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
jwt_algorithm = "HS256"
jwt_shared_secret = "${{prompt}}"
jwt_subject = "integration.user"
""",
            )
            seen: list[str] = []
            for _ in range(2):
                try:
                    seen.append(
                        repr(
                            await client.workspace_execute_command_async(
                                t.ExecuteCommandParams(
                                    command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": "jwt"}]
                                )
                            )
                        )
                    )
                except JsonRpcException as exc:
                    seen.append(repr(exc))
            tokens = analyze(editor.texts[URI]).connections["jwt"].token
            access = str(tokens["access_token"].value.data)
            report = await client.text_document_diagnostic_async(
                t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
            )
    assert answers == []
    assert access and emu.token_requests == 2
    log = LOG.read_text(encoding="utf-8")
    assert f"token issued by {emu.url}" in log
    captured = shown(client, log, report, *seen)
    assert_absent(captured, (shared, wrong, CLIENT_SECRET, access))
    LOG.unlink()


async def test_no_secret_in_inlay_hints(client: LanguageClient, tmp_path: Path) -> None:
    """Inlay hints say where a `${env:}` value resolves from, never the value (nor its
    length), not even the URL of an instance that comes from a variable: the hints, their
    tooltips and the log hold none of them."""
    dotenv_secret = "dotenv-marker-secret-value"
    (tmp_path / ".env").write_text(f"SNOW_HINT_DOTENV={dotenv_secret}\n", encoding="utf-8")
    uri = (tmp_path / "hints.snowauth.toml").as_uri()
    text = evil_file("dev12345") + 'password = "${env:SNOW_HINT_DOTENV}"\n'
    editor = Editor(client)
    editor.open(uri, text)
    lines = text.count("\n") + 1
    hints = await client.text_document_inlay_hint_async(
        t.InlayHintParams(t.TextDocumentIdentifier(uri), t.Range(t.Position(0, 0), t.Position(lines, 0)))
    )
    assert hints is not None
    labels = [str(h.label) for h in hints]
    assert labels.count("✓ environment") == 9 and labels.count("✓ .env") == 1
    assert labels.count("→ https://dev12345.service-now.com") == 2
    captured = shown(client, LOG.read_text(encoding="utf-8"), *hints)
    secrets = [*REFERENCED.values(), CLIENT_SECRET, dotenv_secret]
    assert_absent(captured, secrets)
    for h in hints:
        said = f"{h.label} {h.tooltip}"
        assert not any(str(len(secret)) in said for secret in secrets), said


# what an instance (or whatever answers in its place) sends where a token or an error belongs,
# with the wrong type: the value is refused, and never shown (json_shapes.problem)
WRONG_TYPED_SECRET = "sk-wrong-type-marker-0123456789"
WRONG_SHAPES = (
    (200, {"access_token": "wrong-type-access-0123", "refresh_token": {"value": WRONG_TYPED_SECRET}}),
    (200, {"access_token": [WRONG_TYPED_SECRET], "token_type": "Bearer"}),
    (401, {"error": {"message": WRONG_TYPED_SECRET}, "error_description": "access_denied"}),
    (400, {"error": "invalid_grant", "error_description": [WRONG_TYPED_SECRET]}),
)


def _wrong_shape_file(urls: list[str]) -> str:
    return "".join(
        f"""[connections.shape{n}]
instance = "{url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_L_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_L_SECRET}}"

"""
        for n, url in enumerate(urls)
    )


async def test_no_value_of_a_wrong_shape_in_a_message(client: LanguageClient) -> None:
    """Token answers and errors whose fields have the wrong type: each fetch fails with the
    mapped error, which names the field, and the value it held is in no log line,
    message, diagnostic or result."""
    editor = Editor(client)
    seen: list[str] = []
    with contextlib.ExitStack() as stack:
        urls = []
        for status, body in WRONG_SHAPES:
            raw = stack.enter_context(replying(http_response(status, json.dumps(body).encode())))
            stack.enter_context(local_emulator(raw.url))
            urls.append(raw.url)
        editor.open(URI, _wrong_shape_file(urls))
        for n in range(len(urls)):
            try:
                seen.append(
                    repr(
                        await client.workspace_execute_command_async(
                            t.ExecuteCommandParams(
                                command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": f"shape{n}"}]
                            )
                        )
                    )
                )
            except JsonRpcException as exc:
                seen.append(repr(exc))
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(URI))
        )
    said = "\n".join([*seen, *(m.message for m in client.messages)])
    assert "its refresh_token is not text" in said
    assert "without an access_token (its access_token is not text)" in said
    assert "its error is not text" in said and "its error_description is not text" in said
    assert "wrong-type-access-0123" not in editor.texts[URI]  # refused whole: nothing stored
    log = LOG.read_text(encoding="utf-8")
    assert "oauth_token.do -> 200" in log and "oauth_token.do -> 401" in log  # the log saw the answers
    captured = shown(client, log, report, *seen)
    assert_absent(captured, (WRONG_TYPED_SECRET,), "a value of a wrong-typed field")
    LOG.unlink()


def test_the_cli_shows_no_value_of_a_wrong_shape(tmp_path: Path) -> None:
    env = {**os.environ, "SNOW_L_SECRET": CLIENT_SECRET, "SNOWAUTH_LOG_LEVEL": "DEBUG", "SNOWAUTH_TRACE": "1"}
    for status, body in WRONG_SHAPES:
        with replying(http_response(status, json.dumps(body).encode())) as raw:
            path = tmp_path / "shape.snowauth.toml"
            path.write_text(_wrong_shape_file([raw.url]), encoding="utf-8")
            out = run_snowauth("token", str(path), env={**env, "SNOWAUTH_TRUSTED_HOSTS": raw.url})
        assert out.returncode == 1 and out.stdout == "", out.stderr
        assert "is not text" in out.stderr and "oauth_token.do" in out.stderr
        assert WRONG_TYPED_SECRET not in out.stderr, "a value of a wrong-typed field leaked"
        assert "wrong-type-access-0123" not in path.read_text(encoding="utf-8")
