"""The defences of SECURITY.md: a connection file is untrusted input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.secrets import Environment
from snowauth.trust import KnownHosts, local_emulator
from tests.kit.cli import run_snowauth
from tests.kit.emulator import password_connection
from tests.kit.lsp import Editor, session_fixture

CONFIG = Path(os.environ.get("TMPDIR", "/tmp")) / f"snowauth-security-config-{os.getpid()}"
FOLDER = Path(os.environ.get("TMPDIR", "/tmp")) / f"snowauth-security-{os.getpid()}"
URI = (FOLDER / "s.snowauth.toml").as_uri()
SECRET_ENV = {"SNOW_S_SECRET": "demo-client-secret", "SNOW_S_PASSWORD": "demo-password"}


SERVER_ENV = {**SECRET_ENV, "SNOWAUTH_CONFIG_DIR": str(CONFIG)}
client = session_fixture(presets=("visual-studio-code", "visual-studio-code|untrusted"), env=SERVER_ENV)
trusted = session_fixture(presets=("visual-studio-code",), env=SERVER_ENV)
untrusted = session_fixture(presets=("visual-studio-code|untrusted",), env=SERVER_ENV)
FOLDER.mkdir(exist_ok=True)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The user's own emulator, registered in this module's config folder (as `snowauth
    emulator` does): snowauth sends to it without asking."""
    with Emulator() as emu, local_emulator(emu.url, CONFIG):
        yield emu


def conn(instance: str, password: str = "${env:SNOW_S_PASSWORD}") -> str:
    return password_connection(instance, secret="${env:SNOW_S_SECRET}", password=password)


async def fetch(client: LanguageClient) -> object:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": URI, "connection": "dev"}])
    )


async def test_untrusted_workspaces_never_send(client: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(client)
    editor.open(URI, conn(emulator.url))
    if client.trusted_workspace:  # type: ignore[attr-defined]
        assert isinstance(await fetch(client), dict)
        assert emulator.token_requests == 1
        return
    with pytest.raises(JsonRpcException, match="not trusted"):
        await fetch(client)
    assert emulator.token_requests == 0 and emulator.requests == []


async def test_a_new_host_needs_confirmation_before_any_secret_is_read(trusted: LanguageClient) -> None:
    client = trusted
    asked: list[str] = []
    answers = iter([None, t.MessageActionItem("Send")])

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def request(*args: object) -> t.MessageActionItem | None:
        params = args[-1]
        assert isinstance(params, t.ShowMessageRequestParams)
        asked.append(params.message)
        return next(answers)

    prompts: list[object] = []

    @client.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        prompts.append(args[-1])
        return {"value": "typed-password"}

    editor = Editor(client)
    editor.open(URI, conn("https://attacker.invalid", password="${prompt}"))
    with pytest.raises(JsonRpcException, match="Nothing was sent"):
        await fetch(client)
    assert len(asked) == 1 and "https://attacker.invalid:443" in asked[0]
    assert prompts == []  # declined before the password was even asked for
    with pytest.raises(JsonRpcException, match=r"attacker\.invalid"):  # confirmed: it tries (DNS fails)
        await fetch(client)
    assert len(asked) == 2 and len(prompts) == 1
    assert KnownHosts(CONFIG).trusted("https://attacker.invalid")
    with pytest.raises(JsonRpcException):
        await fetch(client)
    assert len(asked) == 2  # remembered: not asked again


async def test_file_references_stay_in_the_connection_folder(trusted: LanguageClient, emulator: Emulator) -> None:
    client = trusted
    editor = Editor(client)
    editor.open(URI, conn(emulator.url, password="${file:/etc/hostname}"))
    with pytest.raises(JsonRpcException, match="outside the folders snowauth may read"):
        await fetch(client)
    assert emulator.token_requests == 0


async def test_an_untrusted_workspace_asks_nothing_for_a_new_host(untrusted: LanguageClient) -> None:
    """An untrusted workspace refuses before it asks about the host or for a secret."""
    asked: list[object] = []
    prompts: list[object] = []

    @untrusted.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def request(*args: object) -> t.MessageActionItem | None:
        asked.append(args[-1])
        return t.MessageActionItem("Send")

    @untrusted.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        prompts.append(args[-1])
        return {"value": "typed-password"}

    Editor(untrusted).open(URI, conn("https://untrusted-new-host.invalid", password="${prompt}"))
    with pytest.raises(JsonRpcException, match="not trusted"):
        await fetch(untrusted)
    assert asked == [] and prompts == []
    assert not KnownHosts(CONFIG).trusted("https://untrusted-new-host.invalid")


async def test_an_untrusted_workspace_reads_no_file_reference(untrusted: LanguageClient, emulator: Emulator) -> None:
    Editor(untrusted).open(URI, conn(emulator.url, password="${file:/etc/hostname}"))
    with pytest.raises(JsonRpcException, match="not trusted") as refused:
        await fetch(untrusted)
    assert "outside the folders" not in str(refused.value)
    assert emulator.token_requests == 0 and emulator.requests == []


def test_analysis_warns_and_the_roots_variable_allows(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "pw.txt").write_text("demo-password\n", encoding="utf-8")
    folder = tmp_path / "repo"
    folder.mkdir()
    text = conn("dev12345", password=f"${{file:{outside / 'pw.txt'}}}")
    found = analyze(text, Environment({}, folder)).findings
    assert any(f.code == "unresolved-reference" and "outside the folders" in f.message for f in found)
    allowed = analyze(text, Environment({"SNOWAUTH_FILE_ROOTS": str(outside)}, folder)).findings
    assert not any("outside the folders" in f.message for f in allowed)


def test_cli_refuses_an_unknown_host_without_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "c.snowauth.toml"
    path.write_text(conn("https://attacker.invalid"), encoding="utf-8")
    env = {**os.environ, **SECRET_ENV, "SNOWAUTH_CONFIG_DIR": str(tmp_path / "config")}
    out = run_snowauth("token", str(path), env=env)
    assert out.returncode == 1 and "has not sent credentials to https://attacker.invalid:443" in out.stderr
    env["SNOWAUTH_TRUSTED_HOSTS"] = "attacker.invalid"
    out = run_snowauth("token", str(path), env=env)
    assert out.returncode == 1 and "attacker.invalid" in out.stderr and "has not sent" not in out.stderr
