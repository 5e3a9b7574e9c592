"""`snowauth token FILE --connection NAME` with `client = "servicenow-sdk"` on a real
pseudo-terminal: snowauth prints the sign-in address, the test is the browser (it follows
the address to the emulator's /sdk-oauth.do page) and the person who types the code at the
hidden prompt; the token is printed and kept in the cache, and the code never shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.cli import Pty
from tests.kit.emulator import HTTP, SDK_ID, USER, sdk_page_code

PROMPT = b"Paste the code the browser shows after you sign in: "
# no browser starts in the test: the address is read from the terminal instead
ENV = {"BROWSER": "true"}


@pytest.fixture
def instance() -> Iterator[Emulator]:
    with Emulator(auto_approve_user=USER) as emu, local_emulator(emu.url):
        yield emu


def sdk_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "sdk.snowauth.toml"
    path.write_text(
        f'[connections.dev]\ninstance = "{url}"\nclient = "servicenow-sdk"\ntoken_store = "cache"\n', encoding="utf-8"
    )
    return path


def sign_in_address(term: Pty) -> str:
    term.wait_for(PROMPT)
    found = re.search(r"visit:\n\s+(\S+)", term.text())
    assert found is not None, term.text()
    return found.group(1)


def test_sdk_sign_in_on_a_terminal(tmp_path: Path, instance: Emulator) -> None:
    path = sdk_file(tmp_path, instance.url)
    term = Pty(["token", str(path), "--connection", "dev"], tmp_path / "cache", ENV)
    address = sign_in_address(term)
    assert address.startswith(instance.url + "/oauth_auth.do?") and f"client_id={SDK_ID}" in address
    code = sdk_page_code(HTTP.get(address, follow_redirects=True))
    term.type(code.encode() + b"\r")
    assert term.exit_code() == 0, term.text()
    shown = term.text()
    assert '"access_token": "' in shown and '"connection": "dev"' in shown
    assert code not in shown  # typed at a hidden prompt
    assert instance.token_requests == 1
    # the next run reuses the cached token: no browser, no question
    again = Pty(["token", str(path), "--connection", "dev"], tmp_path / "cache", ENV)
    assert again.exit_code() == 0, again.text()
    assert PROMPT.decode() not in again.text() and instance.token_requests == 1


def test_end_of_input_at_the_code_prompt_sends_nothing(tmp_path: Path, instance: Emulator) -> None:
    term = Pty(["token", str(sdk_file(tmp_path, instance.url))], tmp_path / "cache", ENV)
    sign_in_address(term)
    term.type(b"\x04")
    code = term.exit_code()
    shown = term.text()
    assert code == 1, shown
    assert "No code was pasted" in shown and "nothing was sent" in shown
    assert "Traceback" not in shown
    assert instance.token_requests == 0


def test_a_public_clients_refresh_token_is_refreshed_without_a_secret(instance: Emulator, tmp_path: Path) -> None:
    """A refresh token the SDK's public client was given (here by the SDK's own sign-in)
    in a `refresh_token` connection with no `client_secret`: `snowauth check` finds
    nothing missing and `snowauth token` refreshes it with `client_id` alone."""
    import json
    import os

    from tests.kit.cli import run_snowauth
    from tests.kit.emulator import sdk_exchange, sdk_sign_in

    code, verifier = sdk_sign_in(instance)
    refresh_token = sdk_exchange(instance, code, verifier).json()["refresh_token"]
    path = tmp_path / "refresh.snowauth.toml"
    path.write_text(
        f'[connections.dev]\ninstance = "{instance.url}"\ngrant_type = "refresh_token"\nclient_id = "{SDK_ID}"\n'
        'refresh_token = "${env:SNOW_SDK_REFRESH_TOKEN}"\ntoken_store = "cache"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "SNOW_SDK_REFRESH_TOKEN": refresh_token}
    checked = run_snowauth("check", str(path), env=env)
    assert checked.returncode == 0, checked.stdout
    token = run_snowauth("token", str(path), "--format", "json", env=env)
    assert token.returncode == 0, token.stderr
    assert json.loads(token.stdout)["access_token"]
    assert refresh_token not in token.stderr
