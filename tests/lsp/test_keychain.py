"""The OS keychain through the language server (a real LSP session over stdio, a real
keyring backend on a file): `token_store = "keyring"` (fetch, reuse, refresh, revoke), the
`${prompt}` answers remembered by the command line read by an editor that cannot ask
(Neovim), never by one that answers `snowauth/promptSecret` itself (VS Code keeps them in
its SecretStorage), and MFA's one-time code asked as a one-time answer."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from snowauth.store import cache_key
from snowauth.trust import local_emulator
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, USER, USER_PASSWORD, emulator_config, emulators
from tests.kit.emulator import password_connection as connection_text
from tests.kit.keychain import entries, keyring_env
from tests.kit.lsp import Editor, session_fixture

FOLDER = Path(tempfile.mkdtemp(prefix="snowauth-keychain-lsp-"))
KEYCHAIN = FOLDER / "keychain.json"
CACHE = FOLDER / "cache"
URI = (FOLDER / "kc.snowauth.toml").as_uri()
ENV = {
    **keyring_env(KEYCHAIN),
    "SNOW_KC_SECRET": DEMO_SECRET,
    "SNOW_KC_PASSWORD": USER_PASSWORD,
    "SNOWAUTH_CACHE_DIR": str(CACHE),
}

neovim = session_fixture(presets=("neovim",), env=ENV, prompt=False)
vscode = session_fixture(presets=("visual-studio-code",), env=ENV, prompt=True)


@pytest.fixture(autouse=True)
def empty_keychain() -> None:
    KEYCHAIN.unlink(missing_ok=True)


def answer_entry(url: str, key: str = "password") -> str:
    return f"prompt:{cache_key(url, 'connection:dev', USER)}:{key}"


def remember(url: str, value: str) -> None:
    KEYCHAIN.write_text(json.dumps({"snowauth": {answer_entry(url): value}}), encoding="utf-8")


async def command(client: LanguageClient, name: str) -> object:
    params = t.ExecuteCommandParams(command=name, arguments=[{"uri": URI, "connection": "dev"}])
    return await client.workspace_execute_command_async(params)


async def test_token_store_keyring_fetch_reuse_refresh_revoke(neovim: LanguageClient, emulator: Emulator) -> None:
    editor = Editor(neovim)
    text = connection_text(
        emulator.url,
        secret="${env:SNOW_KC_SECRET}",
        password="${env:SNOW_KC_PASSWORD}",
        extra='token_store = "keyring"\n',
    )
    editor.open(URI, text)
    fetched = await command(neovim, "snowauth.fetchToken")
    assert isinstance(fetched, dict) and fetched["connection"] == "dev"
    token_entry = f"token:{cache_key(emulator.url, DEMO_ID, USER)}"
    stored = entries(KEYCHAIN)
    assert list(stored) == [token_entry]
    access = json.loads(stored[token_entry])["access_token"]
    assert editor.texts[URI] == text and editor.applied == []  # the file never holds the token
    assert not CACHE.exists() or not list(CACHE.iterdir())
    reused = await command(neovim, "snowauth.accessToken")
    assert isinstance(reused, dict) and reused["access_token"] == access
    assert emulator.token_requests == 1
    refreshed = await command(neovim, "snowauth.refreshToken")
    assert isinstance(refreshed, dict) and refreshed["connection"] == "dev"
    assert emulator.token_requests == 2 and list(entries(KEYCHAIN)) == [token_entry]
    revoked = await command(neovim, "snowauth.revokeToken")
    assert revoked == {"connection": "dev", "revoked": True}
    assert entries(KEYCHAIN) == {}
    for message in neovim.messages:
        assert access not in message.message


async def test_an_editor_that_cannot_ask_reads_the_answer_the_cli_remembered(
    neovim: LanguageClient, emulator: Emulator
) -> None:
    editor = Editor(neovim)
    editor.open(
        URI,
        connection_text(
            emulator.url, secret="${env:SNOW_KC_SECRET}", password="${prompt}", extra='remember_prompts = "keyring"\n'
        ),
    )
    with pytest.raises(JsonRpcException) as info:
        await command(neovim, "snowauth.fetchToken")
    assert "holds no remembered answer" in str(info.value) and "snowauth token" in str(info.value)
    assert emulator.token_requests == 0
    remember(emulator.url, USER_PASSWORD)
    fetched = await command(neovim, "snowauth.fetchToken")
    assert isinstance(fetched, dict) and fetched["connection"] == "dev"
    assert emulator.token_requests == 1
    assert all(USER_PASSWORD not in m.message for m in neovim.messages)


async def test_vscode_answers_prompts_itself_the_keychain_is_not_used(
    vscode: LanguageClient, emulator: Emulator
) -> None:
    asked: list[object] = []

    @vscode.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        asked.append(args[-1])
        return {"value": USER_PASSWORD}

    remember(emulator.url, "a-stale-remembered-password")
    editor = Editor(vscode)
    editor.open(
        URI,
        connection_text(
            emulator.url, secret="${env:SNOW_KC_SECRET}", password="${prompt}", extra='remember_prompts = "keyring"\n'
        ),
    )
    fetched = await command(vscode, "snowauth.fetchToken")
    assert isinstance(fetched, dict) and fetched["connection"] == "dev"
    assert len(asked) == 1 and "password" in repr(asked[0])
    # neither read (the stale answer would have been rejected) nor written
    assert entries(KEYCHAIN) == {answer_entry(emulator.url): "a-stale-remembered-password"}


async def test_the_one_time_code_is_asked_once_and_never_remembered(vscode: LanguageClient) -> None:
    asked: list[dict[str, object]] = []

    @vscode.feature("snowauth/promptSecret")
    def prompt(*args: object) -> dict[str, str]:
        params = args[-1]
        shown = {k: getattr(params, k, None) for k in ("key", "once")}
        asked.append(shown)
        return {"value": USER_PASSWORD if shown["key"] == "password" else "271828"}

    with emulators(config=emulator_config(mfa_code="271828")) as start:
        emu = start()
        with local_emulator(emu.url):
            editor = Editor(vscode)
            editor.open(
                URI,
                connection_text(
                    emu.url, secret="${env:SNOW_KC_SECRET}", password="${prompt}", extra='otp = "${prompt}"\n'
                ),
            )
            fetched = await command(vscode, "snowauth.fetchToken")
            assert isinstance(fetched, dict) and fetched["connection"] == "dev"
    assert asked == [{"key": "password", "once": None}, {"key": "otp", "once": True}]
    assert all("271828" not in m.message for m in vscode.messages)
