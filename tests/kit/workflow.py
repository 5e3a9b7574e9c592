"""The token workflow in tests: a connection on the emulator, a recording TokenUI, the
workflow built on them, and the same connection as a file for the command line."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from snowauth import connections as conns
from snowauth.analysis import analyze
from snowauth.secrets import Environment
from snowauth.store import TokenCache
from snowauth.tokens import TokenSet
from snowauth.workflow import TokenUI, TokenWorkflow

ENV = {"SNOW_C_SECRET": "demo-client-secret", "SNOW_C_PASSWORD": "demo-password"}


def connection_text(url: str, *, store: str = "file", password: str = "${env:SNOW_C_PASSWORD}") -> str:
    return f"""[connections.dev]
instance = "{url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_C_SECRET}}"
username = "integration.user"
password = "{password}"
token_store = "{store}"
"""


class Person:
    """A TokenUI that records what the workflow asked and stored, and answers the host
    question with ``send``."""

    can_ask = True

    def __init__(self, *, send: bool = True) -> None:
        self.send = send
        self.hosts: list[str] = []
        self.secrets: list[tuple[str, str]] = []
        self.browser: list[str] = []
        self.codes_asked = 0
        self.titles: list[str] = []
        self.steps: list[str] = []
        self.failures: list[Exception] = []
        self.written: list[tuple[str, TokenSet | None]] = []
        self.export_warnings: list[str] = []

    async def ask_secret(
        self, connection: str, key: str, *, once: bool = False, password: bool = True, prompt: str | None = None
    ) -> str | None:
        self.secrets.append((connection, key))
        return None

    async def confirm_host(self, name: str, target: conns.Destination) -> bool:
        self.hosts.append(target.base_url)
        return self.send

    async def open_browser(self, url: str) -> None:
        self.browser.append(url)

    async def ask_code(self, connection: str) -> str | None:
        self.codes_asked += 1
        return None

    @asynccontextmanager
    async def progress(self, title: str) -> AsyncIterator[Callable[[str], None]]:
        self.titles.append(title)
        yield self.steps.append

    def exchange_failed(self, exc: Exception) -> None:
        self.failures.append(exc)

    async def write_tokens(self, connection: str, tokens: TokenSet | None) -> None:
        self.written.append((connection, tokens))

    def export_failed(self, message: str) -> None:
        self.export_warnings.append(message)


def workflow(text: str, ui: TokenUI, tmp_path: Path) -> TokenWorkflow:
    env = Environment(dict(ENV), tmp_path)
    a = analyze(text, env)
    return TokenWorkflow(a, a.connections["dev"], env, ui, cache=TokenCache(tmp_path / "cache"))


def conn_file(tmp_path: Path, url: str, *, store: str = "file", password: str = "${env:SNOW_C_PASSWORD}") -> Path:
    """The connection as `cli.snowauth.toml` in ``tmp_path``, after a comment line."""
    path = tmp_path / "cli.snowauth.toml"
    path.write_text("# kept as it is\n" + connection_text(url, store=store, password=password), encoding="utf-8")
    return path
