"""The doctor in tests: the demo instance with an admin and one break, connection files
for each grant, `snowauth doctor` as a subprocess, and an LSP client that answers the
admin's questions."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trustme
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator, EmulatorConfig, UserRecord, default_config
from snowauth.trust import local_emulator
from tests.kit.cli import run_snowauth
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, PUBLIC_ID, REDIRECT, USER, USER_PASSWORD

ADMIN = "doctor.admin"
ADMIN_PASSWORD = "doctor-admin-Pa55word-7f3a"
SECRETS = {"SNOW_D_SECRET": DEMO_SECRET, "SNOW_D_PASSWORD": USER_PASSWORD}
ADMIN_ENV = {"SNOW_ADMIN_USER": ADMIN, "SNOW_ADMIN_PASSWORD": ADMIN_PASSWORD}
#: what may never appear in the doctor's output
NEVER_SHOWN = (ADMIN_PASSWORD, DEMO_SECRET, USER_PASSWORD)
UNKNOWN_ID = "deadbeefdeadbeefdeadbeefdeadbeef"
DOCTOR_SOURCE = "snowauth doctor"


def doctor_config(
    *,
    users: dict[str, dict[str, Any]] | None = None,
    clients: dict[str, dict[str, Any]] | None = None,
    **properties: Any,
) -> EmulatorConfig:
    """The demo instance plus the admin :data:`ADMIN`, with its users, clients and
    properties (``client_credentials_enabled``, ``oauth_active``, …) changed."""
    config = default_config()
    all_users = dict(config.users)
    all_users[ADMIN] = UserRecord(ADMIN, password=ADMIN_PASSWORD, roles=("admin",))
    for name, changes in (users or {}).items():
        all_users[name] = dataclasses.replace(all_users[name], **changes)
    all_clients = dict(config.clients)
    for name, changes in (clients or {}).items():
        all_clients[name] = dataclasses.replace(all_clients[name], **changes)
    return dataclasses.replace(config, users=all_users, clients=all_clients, **properties)


@contextlib.contextmanager
def instance(config: EmulatorConfig | None = None, tls: tuple[Path, Path] | None = None) -> Iterator[Emulator]:
    """An emulator (over HTTPS with ``tls``: certificate and key files), registered as the
    user's own (no host question)."""
    cert, key = (str(tls[0]), str(tls[1])) if tls else (None, None)
    with Emulator(config or doctor_config(), certfile=cert, keyfile=key) as emu, local_emulator(emu.url):
        yield emu


def tls_files(ca: trustme.CA, folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by ``ca``, and its key."""
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = folder / "server.pem", folder / "server.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return cert, key


def connection(
    url: str,
    grant: str = "password",
    *,
    client_id: str = DEMO_ID,
    username: str = USER,
    extra: str = "",
) -> str:
    """A file with the connection "dev" of the demo instance for ``grant``."""
    lines = [f'instance = "{url}"', f'grant_type = "{grant}"', f'client_id = "{client_id}"']
    if grant == "password":
        lines += ['client_secret = "${env:SNOW_D_SECRET}"', f'username = "{username}"']
        lines += ['password = "${env:SNOW_D_PASSWORD}"']
    elif grant == "client_credentials":
        lines += ['client_secret = "${env:SNOW_D_SECRET}"']
    elif grant == "authorization_code":
        lines += [f'redirect_uri = "{REDIRECT}"']
    body = "\n".join(lines)
    return f'[connections.dev]\n{body}\n{extra}token_store = "cache"\n'


def authcode_connection(url: str, redirect_uri: str = REDIRECT, *, client_id: str = PUBLIC_ID) -> str:
    return (
        f'[connections.dev]\ninstance = "{url}"\ngrant_type = "authorization_code"\n'
        f'client_id = "{client_id}"\nredirect_uri = "{redirect_uri}"\ntoken_store = "cache"\n'
    )


def write(folder: Path, text: str) -> Path:
    path = folder / "doctor.snowauth.toml"
    path.write_text(text, encoding="utf-8")
    return path


def doctor(path: Path, *args: str, admin: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    """`snowauth doctor PATH ARGS` without a terminal: the admin from the environment
    (``admin=False``: none), the token cache beside the file."""
    environ = {**os.environ, **SECRETS, "SNOWAUTH_CACHE_DIR": str(path.parent / "cache")}
    if admin:
        environ.update(ADMIN_ENV)
    else:
        for name in ADMIN_ENV:
            environ.pop(name, None)
    environ.update(env)
    return run_snowauth("doctor", str(path), *args, env=environ)


def statuses(out: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The checks of a `--format json` run: id -> status."""
    return {c["id"]: c["status"] for c in json.loads(out.stdout)["checks"]}


def shows_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in NEVER_SHOWN:
            assert secret not in text


class AdminAnswers:
    """The client's side of `snowauth/promptSecret` in a doctor session: the admin's user
    name and password (``answer=False``: cancelled), the questions recorded."""

    def __init__(self, client: LanguageClient, *, answer: bool = True) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answer = answer

        @client.feature("snowauth/promptSecret")
        def prompt(*args: Any) -> dict[str, str | None]:
            params = args[-1]
            fields = ("connection", "key", "title", "uri", "once", "password", "prompt")
            asked = (
                dict(params)
                if isinstance(params, dict)
                else {f: getattr(params, f) for f in fields if getattr(params, f, None) is not None}
            )
            self.asked.append(asked)
            values = {"admin_username": ADMIN, "admin_password": ADMIN_PASSWORD}
            return {"value": values.get(str(asked.get("key"))) if self.answer else None}


async def doctor_problems(client: LanguageClient, uri: str, *, present: bool = True) -> list[t.Diagnostic]:
    """The document's diagnostics from the doctor (source "snowauth doctor"): pulled, or
    waited for until published (``present=False``: until there are none)."""
    if client.capabilities.text_document.diagnostic is not None:  # type: ignore[union-attr]
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri))
        )
        return [d for d in report.items if d.source == DOCTOR_SOURCE]  # type: ignore[union-attr]

    async def wait() -> list[t.Diagnostic]:
        while True:
            found = [d for d in client.diagnostics.get(uri, []) if d.source == DOCTOR_SOURCE]
            if bool(found) == present:
                return found
            await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), 10)
