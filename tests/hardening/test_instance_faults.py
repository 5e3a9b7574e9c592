"""Instance faults through the language server: `snowauth.fetchToken` from a pytest-lsp
client with an Editor, against loopback servers that fail in every way an address can.

Each fault ends within its time bound (3x the connection's `timeout = 1` plus the
retry waits, with a margin), comes back as a JSON-RPC error carrying the mapped message
(servicenow-oauth.md §4), leaves the document untouched (no applyEdit) and costs at most
3 attempts at the token endpoint. One server session serves the whole module, so it
also shows that the server survives one fault after the other.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_lsp
import trustme
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from snowauth.emulator import Emulator
from tests.kit import faults as fk
from tests.kit.corpus import STATS
from tests.kit.http import http_response, replying
from tests.kit.lsp import SERVER, Editor, capabilities, make_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRETS = {"SNOW_T_CLIENT_SECRET": "demo-client-secret", "SNOW_T_PASSWORD": "demo-password"}
TIMEOUT = 1.0  # the connection's `timeout`
MARGIN = 4.0  # generous: a loaded CI machine, a TLS handshake, process scheduling
REQUEST_FAILED = -32803
# the host confirmations the fixture's "user" gives are remembered here, not in the real
# user config folder
CONFIG_DIR = Path(tempfile.gettempdir()) / f"snowauth-hardening-config-{os.getpid()}"
SERVER_ENV = {**os.environ, **SECRETS, "SNOWAUTH_CONFIG_DIR": str(CONFIG_DIR)}


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env=SERVER_ENV, client_factory=make_client),
    scope="module",
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(t.InitializeParams(capabilities=capabilities("utf-16")))
    yield lsp_client
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def editor(client: LanguageClient) -> Iterator[Editor]:
    """The editor; its user confirms sending to a new host."""
    client.send_to_new_hosts = True  # type: ignore[attr-defined]
    yield Editor(client)
    shutil.rmtree(CONFIG_DIR, ignore_errors=True)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def connection(url: str, grant: str = "password", extra: str = "") -> str:
    person = 'username = "integration.user"\npassword = "${env:SNOW_T_PASSWORD}"\n' if grant == "password" else ""
    return f"""# a connection under test — its bytes must stay as they are
[connections.dev]   # comment
instance = "{url}"
grant_type = "{grant}"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_T_CLIENT_SECRET}}"
{person}timeout = {TIMEOUT:g}
{extra}"""


@dataclass
class Outcome:
    elapsed: float
    error: JsonRpcException | None
    result: object = None
    applied: int = 0
    text_kept: bool = True
    shown: list[str] = field(default_factory=list)


async def fetch(client: LanguageClient, editor: Editor, path: Path, text: str) -> Outcome:
    uri = path.as_uri()
    editor.open(uri, text)
    applied, shown = len(editor.applied), len(client.messages)
    started = time.monotonic()
    error = None
    result = None
    try:
        result = await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
        )
    except JsonRpcException as exc:
        error = exc
    elapsed = time.monotonic() - started
    outcome = Outcome(
        elapsed,
        error,
        result,
        applied=len(editor.applied) - applied,
        text_kept=editor.texts[uri] == text,
        shown=[m.message for m in client.messages[shown:] if m.type == t.MessageType.Error],
    )
    STATS.add("faults: fetches tried")
    STATS.notes[f"faults: {path.stem}"] = f"{elapsed:.2f} s: " + (
        error.message[:110] + "…" if error is not None else "success"
    )
    return outcome


def failed(outcome: Outcome, *phrases: str, bound: float) -> str:
    """The fault came back as a mapped JSON-RPC error in time and changed nothing."""
    assert outcome.error is not None, outcome.result
    message = outcome.error.message
    assert outcome.error.code == REQUEST_FAILED, (outcome.error.code, message)
    assert outcome.error.data is None
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    for secret in SECRETS.values():
        assert secret not in message
    assert outcome.elapsed < bound, (outcome.elapsed, bound, message)
    assert outcome.applied == 0 and outcome.text_kept
    # the notification leads with the error's first sentence and points at the details
    lead = message[:24]
    assert any(shown.startswith(f"SnowAuth: {lead}") and "Details" in shown for shown in outcome.shown), (
        message,
        outcome.shown,
    )
    return message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- no answer at all --------------------------------------------------------------------------


async def test_connection_refused(client: LanguageClient, editor: Editor, tmp_path: Path) -> None:
    port = free_port()
    outcome = await fetch(client, editor, tmp_path / "refused.snowauth.toml", connection(f"http://127.0.0.1:{port}"))
    failed(outcome, f"No instance answered at http://127.0.0.1:{port}", "refused", bound=3 * TIMEOUT + MARGIN)


async def test_dns_failure(client: LanguageClient, editor: Editor, tmp_path: Path) -> None:
    outcome = await fetch(
        client, editor, tmp_path / "dns.snowauth.toml", connection("https://snowauth-hardening.invalid")
    )
    failed(outcome, "snowauth-hardening.invalid could not be resolved", "No instance answered", bound=3 * 5 + MARGIN)
    assert "https://snowauth-hardening.invalid:443" in client.questions[-1]  # type: ignore[attr-defined]


# -- TLS ---------------------------------------------------------------------------------------


def https_emulator(ca: trustme.CA, folder: Path) -> Emulator:
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    return Emulator(certfile=str(cert), keyfile=str(key))


async def test_tls_untrusted_then_trusted_with_ca_bundle(
    client: LanguageClient, editor: Editor, tmp_path: Path, ca: trustme.CA
) -> None:
    with https_emulator(ca, tmp_path) as emu:
        outcome = await fetch(client, editor, tmp_path / "tls-untrusted.snowauth.toml", connection(emu.url))
        failed(outcome, "TLS certificate of 127.0.0.1 could not be verified", "ca_bundle", bound=3 * TIMEOUT + MARGIN)
        assert emu.token_requests == 0
        ca_file = tmp_path / "corporate-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        text = connection(emu.url, extra=f'ca_bundle = "{ca_file}"\n')
        trusted = await fetch(client, editor, tmp_path / "tls-trusted.snowauth.toml", text)
        assert trusted.error is None, trusted.error
        assert isinstance(trusted.result, dict) and trusted.result["connection"] == "dev"
        assert trusted.applied == 1 and emu.token_requests == 1
        written = editor.texts[(tmp_path / "tls-trusted.snowauth.toml").as_uri()]
        assert written.startswith(text) and "[connections.dev.token]" in written


async def test_plain_http_to_a_tls_port(client: LanguageClient, editor: Editor, tmp_path: Path, ca: trustme.CA) -> None:
    with https_emulator(ca, tmp_path) as emu:
        url = emu.url.replace("https://", "http://")
        outcome = await fetch(client, editor, tmp_path / "http-to-tls.snowauth.toml", connection(url))
        failed(outcome, url, bound=3 * TIMEOUT + MARGIN)
        assert emu.token_requests == 0


# -- slow servers --------------------------------------------------------------------------------


@pytest.mark.parametrize("respond", [fk.slowloris_headers, fk.slowloris_body], ids=["headers", "body"])
async def test_slowloris(client: LanguageClient, editor: Editor, tmp_path: Path, respond: Callable[..., None]) -> None:
    with fk.FaultServer(respond) as server:
        outcome = await fetch(
            client, editor, tmp_path / f"slowloris-{respond.__name__}.snowauth.toml", connection(server.url)
        )
        failed(outcome, f"No answer from {server.url} within 1 s", "timeout", bound=3 * TIMEOUT + MARGIN)
        assert server.attempts == 1


async def test_emulator_slow(client: LanguageClient, editor: Editor, tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_mode(slow=2.0)
    outcome = await fetch(client, editor, tmp_path / "emulator-slow.snowauth.toml", connection(emulator.url))
    failed(outcome, "within 1 s", bound=3 * TIMEOUT + MARGIN)
    assert emulator.token_requests <= 1


# -- answers that are not token answers ----------------------------------------------------------

TOO_BIG = (1 << 20) + 1


@pytest.mark.parametrize(
    ("name", "respond"),
    [
        ("declared", lambda s, sock, r, n: sock.sendall(http_response(200, b"{", content_length=2 * TOO_BIG))),
        ("streamed", fk.huge_streamed),
    ],
)
async def test_body_larger_than_the_cap(
    client: LanguageClient, editor: Editor, tmp_path: Path, name: str, respond: Callable[..., None]
) -> None:
    with fk.FaultServer(respond) as server:
        outcome = await fetch(client, editor, tmp_path / f"too-large-{name}.snowauth.toml", connection(server.url))
        failed(outcome, "sent an answer larger than 1 MiB", bound=3 * TIMEOUT + MARGIN)
        assert server.attempts == 1


@pytest.mark.parametrize(
    ("name", "answer", "phrases"),
    [
        (
            "truncated-json",
            http_response(200, b'{"access_token": "abc'),
            ["sent a malformed answer", "the JSON is incomplete or invalid"],
        ),
        (
            "short-body",
            http_response(200, b'{"access_token": "abc"', content_length=500),
            ["sent a malformed answer", "closed before the whole answer arrived"],
        ),
        (
            "html-200",
            http_response(200, b"<!DOCTYPE html><html><title>Sign in</title></html>", content_type="text/html"),
            ["did not answer like a ServiceNow token endpoint", "HTTP 200, text/html", "single sign-on"],
        ),
        ("json-without-token", http_response(200, b'{"token_type":"Bearer"}'), ["without an access_token"]),
    ],
)
async def test_answers_that_are_not_tokens(
    client: LanguageClient, editor: Editor, tmp_path: Path, name: str, answer: bytes, phrases: list[str]
) -> None:
    with replying(answer) as server:
        outcome = await fetch(client, editor, tmp_path / f"{name}.snowauth.toml", connection(server.url))
        failed(outcome, *phrases, bound=3 * TIMEOUT + MARGIN)
        assert server.attempts == 1


# -- server errors, rate limits ----------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried_three_times(
    client: LanguageClient, editor: Editor, tmp_path: Path, status: int
) -> None:
    with replying(http_response(status, b'{"error":"x"}')) as server:
        outcome = await fetch(client, editor, tmp_path / f"http-{status}.snowauth.toml", connection(server.url))
        failed(outcome, f"answered HTTP {status} after 3 attempts", "Try again later", bound=3 * TIMEOUT + 1.5 + MARGIN)
        assert server.attempts == 3
        assert outcome.elapsed >= 1.4  # backoff 0.5 s, then 1 s


async def test_emulator_flaky(client: LanguageClient, editor: Editor, tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_mode(flaky=True)
    outcome = await fetch(client, editor, tmp_path / "emulator-flaky.snowauth.toml", connection(emulator.url))
    failed(outcome, "answered HTTP 503 after 3 attempts", bound=3 * TIMEOUT + 1.5 + MARGIN)
    assert emulator.token_requests == 3


async def test_emulator_hibernating(client: LanguageClient, editor: Editor, tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_mode(hibernating=True)
    outcome = await fetch(client, editor, tmp_path / "emulator-hibernating.snowauth.toml", connection(emulator.url))
    failed(outcome, "is hibernating", "developer portal", bound=3 * TIMEOUT + MARGIN)
    assert emulator.token_requests == 1


async def test_emulator_rate_limited_password_grant_is_not_repeated(
    client: LanguageClient, editor: Editor, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.set_mode(rate_limited=True, retry_after=1)
    outcome = await fetch(client, editor, tmp_path / "emulator-429.snowauth.toml", connection(emulator.url))
    failed(outcome, "is rate limiting requests (HTTP 429)", "wait 1 s", bound=3 * TIMEOUT + MARGIN)
    assert emulator.token_requests == 1  # a login may count toward lockout: never repeated


async def test_429_burst_honours_retry_after_and_gives_up_after_three(
    client: LanguageClient, editor: Editor, tmp_path: Path
) -> None:
    with fk.FaultServer(fk.throttled(times=100)) as server:
        text = connection(server.url, grant="client_credentials")
        outcome = await fetch(client, editor, tmp_path / "burst-429.snowauth.toml", text)
        failed(outcome, "rate limiting", "still refused after 3 attempts", bound=3 * TIMEOUT + 2 + MARGIN)
        assert server.attempts == 3
        assert outcome.elapsed >= 1.9  # Retry-After: 1, twice


async def test_429_burst_that_ends_succeeds(client: LanguageClient, editor: Editor, tmp_path: Path) -> None:
    token = b'{"access_token":"after-the-burst","token_type":"Bearer","expires_in":1799,"scope":"useraccount"}'
    with fk.FaultServer(fk.throttled(times=2, then=http_response(200, token))) as server:
        text = connection(server.url, grant="client_credentials")
        outcome = await fetch(client, editor, tmp_path / "burst-429-ends.snowauth.toml", text)
        assert outcome.error is None, outcome.error
        assert server.attempts == 3 and outcome.elapsed >= 1.9
        assert outcome.applied == 1
        assert outcome.elapsed < 3 * TIMEOUT + 2 + MARGIN


# -- broken connections, redirects -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "respond", "grant", "phrases", "attempts"),
    [
        ("reset-mid-body", fk.reset_mid_body, "password", ["closed before the whole answer arrived"], 1),
        ("reset-at-once", fk.reset_at_once, "password", ["closed before an answer arrived"], 1),
        ("reset-at-once-cc", fk.reset_at_once, "client_credentials", ["closed before an answer arrived"], 2),
    ],
)
async def test_connection_reset(
    client: LanguageClient,
    editor: Editor,
    tmp_path: Path,
    name: str,
    respond: Callable[..., None],
    grant: str,
    phrases: list[str],
    attempts: int,
) -> None:
    with fk.FaultServer(respond) as server:
        outcome = await fetch(client, editor, tmp_path / f"{name}.snowauth.toml", connection(server.url, grant))
        failed(outcome, *phrases, bound=3 * TIMEOUT + MARGIN)
        assert server.attempts == attempts


async def test_redirect_to_another_host_is_not_followed(client: LanguageClient, editor: Editor, tmp_path: Path) -> None:
    token = b'{"access_token":"stolen","token_type":"Bearer"}'
    with replying(http_response(200, token)) as elsewhere:
        target = f"http://localhost:{elsewhere.port}/oauth_token.do"
        redirect = http_response(302, b"", headers={"Location": target})
        with replying(redirect) as server:
            outcome = await fetch(client, editor, tmp_path / "redirect.snowauth.toml", connection(server.url))
            failed(
                outcome,
                "answered with a redirect (HTTP 302)",
                f"localhost:{elsewhere.port}",
                "does not follow redirects",
                bound=3 * TIMEOUT + MARGIN,
            )
            assert server.attempts == 1
        assert elsewhere.requests == []


async def test_the_server_is_healthy_after_every_fault(client: LanguageClient, editor: Editor, tmp_path: Path) -> None:
    """After all of the above, the same session still answers at once."""
    uri = (tmp_path / "after.snowauth.toml").as_uri()
    editor.open(uri, connection("dev12345"))
    started = time.monotonic()
    hover = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(3, 2)))
    assert hover is not None and time.monotonic() - started < 2
