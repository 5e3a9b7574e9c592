"""Register OAuth client in tests: connection files without a client, the admin's
environment for the CLI, a headless browser for the CLI's sign-in, and what the emulator
holds afterwards."""

from __future__ import annotations

import os
import ssl
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import trustme

from snowauth import instance_records as ir
from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.emulator import ADMIN, ADMIN_AUTH, ADMIN_PASSWORD, TIMEOUT, emulator_config, write_tls_cert

#: the admin's credentials for `snowauth register` without a terminal
ADMIN_ENV = {"SNOW_ADMIN_USER": ADMIN, "SNOW_ADMIN_PASSWORD": ADMIN_PASSWORD}
#: a user of the demo instance without the admin role (its password)
NOT_ADMIN = ("integration.user", "demo-password")
APP_USER = "svc.integration"


@contextmanager
def register_instance(scheme: str, tmp_path: Path) -> Iterator[tuple[Emulator, str, str | None]]:
    """The demo instance (client credentials on, sign-ins approved at once) over plain
    loopback HTTP (``scheme`` "http") or over TLS with a test CA ("https"); the
    `ca_bundle = …` line the connection needs for it, and the CA file."""
    config = emulator_config(client_credentials=True)
    if scheme == "http":
        with Emulator(config, auto_approve_user="integration.user") as emu, local_emulator(emu.url):
            yield emu, "", None
        return
    ca = trustme.CA()
    cert, key = write_tls_cert(ca, tmp_path)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with (
        Emulator(config, certfile=str(cert), keyfile=str(key), auto_approve_user="integration.user") as emu,
        local_emulator(emu.url),
    ):
        yield emu, f'ca_bundle = "{bundle}"\n', str(bundle)


def unregistered(instance: str, grant: str, *, extra: str = "", name: str = "dev") -> str:
    """A `*.snowauth.toml` text: the connection ``name`` with ``grant`` and no client
    (the password grant gets the demo user), then ``extra`` (keys of the connection)."""
    keys = {
        "password": 'username = "integration.user"\npassword = "demo-password"\n',
        "authorization_code": "",
        "client_credentials": "",
    }.get(grant, "")
    return f'[connections.{name}]\ninstance = "{instance}"\ngrant_type = "{grant}"\n{keys}{extra}'


def headless_browser(folder: Path, ca_file: str | None = None) -> dict[str, str]:
    """``BROWSER`` for the CLI's `webbrowser.open`: a program that loads the sign-in page
    and follows its redirects (the emulator approves at once with ``auto_approve_user``),
    as a person's browser would (``ca_file``: the CA of an emulator over TLS)."""
    script = folder / "browse.py"
    verify = f"ssl.create_default_context(cafile={ca_file!r})" if ca_file else "True"
    script.write_text(
        f"#!{sys.executable}\n"
        "import ssl, sys, httpx\n"
        f"httpx.get(sys.argv[1], follow_redirects=True, timeout=10, verify={verify})\n",
        encoding="utf-8",
    )
    script.chmod(0o700)
    return {"BROWSER": f"{script} %s"}


def records(emu: Emulator, ca_file: str | None = None) -> list[dict[str, Any]]:
    """The Application Registry records of the emulator, as its admin reads them
    (``ca_file``: the CA of an emulator over TLS)."""
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(timeout=TIMEOUT, verify=verify) as http:
        response = http.get(
            f"{emu.url}{ir.TABLE_API}/{ir.OAUTH_ENTITY}",
            params={"sysparm_exclude_reference_link": "true"},
            headers={"Accept": "application/json"},
            auth=ADMIN_AUTH,
        )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["result"]
    return rows


def record_of(emu: Emulator, client_id: str, ca_file: str | None = None) -> dict[str, Any]:
    found = [r for r in records(emu, ca_file) if r.get(ir.ENTITY_CLIENT_ID) == client_id]
    assert len(found) == 1, found
    return found[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- the person at the editor -------------------------------------------------------------


class AtTheEditor:
    """The person answering the server through a pytest-lsp client: `snowauth/promptSecret`
    from ``answers`` (by key; a missing key: cancelled), the Fetch Token question as
    ``fetch`` says (any other question: no answer); the sign-in page of a fetch opened
    by a headless browser (:meth:`browse`)."""

    def __init__(self, client: Any, answers: dict[str, str], *, fetch: bool = True) -> None:
        from lsprotocol import types as t

        from snowauth.lsp import ext

        self.client = client
        self.prompts: list[dict[str, Any]] = []
        self.questions: list[str] = []

        @client.feature(ext.PROMPT_SECRET)
        def prompt(params: Any) -> dict[str, str | None]:
            if isinstance(params, dict):
                asked = params
            elif hasattr(params, "_asdict"):  # pygls gives a custom method's params as a named tuple
                asked = dict(params._asdict())
            else:
                asked = dict(vars(params))
            self.prompts.append(asked)
            return {"value": answers.get(str(asked.get("key")))}

        @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
        def question(params: t.ShowMessageRequestParams) -> t.MessageActionItem | None:
            self.questions.append(params.message)
            wanted = ext.FETCH_NOW if fetch else ext.NOT_NOW
            return next((a for a in params.actions or [] if a.title == wanted), None)

    async def browse(self, ca_file: str | None = None, timeout: float = 10) -> None:
        """Wait for the server to show the sign-in page, and load it as a browser would."""
        import asyncio

        for _ in range(int(timeout / 0.05)):
            if self.client.shown_documents:
                break
            await asyncio.sleep(0.05)
        shown = self.client.shown_documents[-1]
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        async with httpx.AsyncClient(follow_redirects=True, timeout=timeout, verify=verify) as browser:
            page = await browser.get(shown.uri)
        assert page.status_code == 200, page.text
