"""Sign in with no setup through the language server: `client = "servicenow-sdk"` (the
ServiceNow SDK's public client that instances ship) and any registered redirect that
does not come back to this machine. The server opens the browser (window/showDocument),
the test is the browser (it follows the URL to the emulator's /sdk-oauth.do page, or reads
the redirect's Location) and the person who pastes what it shows (snowauth/promptSecret,
a one-time password box); the token lands in the file and Refresh needs no secret."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import trustme
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.emulator import PUBLIC_ID, SDK_ID, SDK_REDIRECT, USER, emulator_config, sdk_page_code, write_tls_cert
from tests.kit.lsp import Editor, session_fixture

URI = "file:///tmp/snowauth-sdk/sdk.snowauth.toml"
ELSEWHERE = "https://example.invalid/cb"

client = session_fixture()


@pytest.fixture
def instance() -> Iterator[Emulator]:
    """The demo instance approving as the demo user (the person already signed in, SSO
    or not), its public client registered with a redirect that is not this machine."""
    config = emulator_config()
    clients = dict(config.clients)
    clients["public"] = dataclasses.replace(clients["public"], redirect_uris=(ELSEWHERE,))
    with (
        Emulator(config=dataclasses.replace(config, clients=clients), auto_approve_user=USER) as emu,
        local_emulator(emu.url),
    ):
        yield emu


def sdk_connection(url: str) -> str:
    return f'[connections.dev]\ninstance = "{url}"\nclient = "servicenow-sdk"\n'


def elsewhere_connection(url: str) -> str:
    return f"""[connections.dev]
instance = "{url}"
grant_type = "authorization_code"
client_id = "{PUBLIC_ID}"
redirect_uri = "{ELSEWHERE}"
"""


class Person:
    """Answers the code question with what the browser shows: ``paste`` turns the last
    page the server opened into the answer."""

    def __init__(self, client: LanguageClient, paste: Any) -> None:
        self.asked: list[Any] = []

        @client.feature("snowauth/promptSecret")
        async def prompt(params: Any) -> dict[str, str | None]:
            self.asked.append(params)
            return {"value": await paste(client.shown_documents[-1].uri)}


async def page_code(url: str) -> str:
    """The browser follows the sign-in to /sdk-oauth.do; the person copies the code."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        return sdk_page_code(await browser.get(url))


async def landed_on(url: str) -> str:
    """The address the browser is sent to (not followed: example.invalid is nowhere)."""
    async with httpx.AsyncClient(timeout=10) as browser:
        response = await browser.get(url)
    assert response.status_code == 302
    return response.headers["location"]


async def run(client: LanguageClient, command: str) -> Any:
    return await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=command, arguments=[{"uri": URI, "connection": "dev"}])
    )


async def test_sdk_sign_in_writes_the_token_and_refresh_needs_no_secret(
    client: LanguageClient, instance: Emulator
) -> None:
    person = Person(client, page_code)
    editor = Editor(client)
    editor.open(URI, sdk_connection(instance.url))
    result = await run(client, "snowauth.fetchToken")
    assert isinstance(result, dict) and result["connection"] == "dev"
    shown = client.shown_documents[-1]
    query = parse_qs(urlsplit(shown.uri).query)
    assert shown.external and shown.uri.startswith(instance.url + "/oauth_auth.do?")
    assert query["client_id"] == [SDK_ID] and query["redirect_uri"] == [SDK_REDIRECT]
    assert query["code_challenge_method"] == ["S256"] and query["state"]
    (asked,) = person.asked
    assert asked.key == "authorization code" and asked.once is True and asked.password is True
    assert asked.prompt == "Paste the code the browser shows after you sign in" and asked.uri == URI
    token = analyze(editor.texts[URI]).connections["dev"].token
    first = str(token["access_token"].value.data)
    assert "refresh_token" in token
    refreshed = await run(client, "snowauth.refreshToken")
    assert isinstance(refreshed, dict) and refreshed["connection"] == "dev"
    assert len(person.asked) == 1  # a refresh asks nobody
    after = analyze(editor.texts[URI]).connections["dev"].token
    assert refreshed.get("same_token") or str(after["access_token"].value.data) != first


async def test_paste_the_whole_address_of_a_redirect_elsewhere(client: LanguageClient, instance: Emulator) -> None:
    Person(client, landed_on)
    editor = Editor(client)
    editor.open(URI, elsewhere_connection(instance.url))
    result = await run(client, "snowauth.fetchToken")
    assert isinstance(result, dict) and result["connection"] == "dev"
    assert client.shown_documents[-1].uri.startswith(instance.url + "/oauth_auth.do?")
    assert "access_token" in analyze(editor.texts[URI]).connections["dev"].token


async def test_a_pasted_address_with_another_state_is_refused(client: LanguageClient, instance: Emulator) -> None:
    async def other_state(url: str) -> str:
        location = await landed_on(url)
        return location.replace("state=", "state=forged", 1)

    Person(client, other_state)
    editor = Editor(client)
    text = elsewhere_connection(instance.url)
    editor.open(URI, text)
    with pytest.raises(JsonRpcException) as failure:
        await run(client, "snowauth.fetchToken")
    assert "does not match the one snowauth sent" in str(failure.value)
    assert editor.texts[URI] == text
    assert instance.token_requests == 0


async def test_an_empty_answer_cancels_and_leaves_the_file(client: LanguageClient, instance: Emulator) -> None:
    async def nothing(url: str) -> str:
        return ""

    person = Person(client, nothing)
    editor = Editor(client)
    text = sdk_connection(instance.url)
    editor.open(URI, text)
    with pytest.raises(JsonRpcException) as failure:
        await run(client, "snowauth.fetchToken")
    assert "No code was pasted" in str(failure.value) and len(person.asked) == 1
    assert editor.texts[URI] == text
    assert instance.token_requests == 0


async def test_sdk_sign_in_over_tls_with_a_ca_bundle(client: LanguageClient, tmp_path: Path) -> None:
    """The instance behind a corporate CA: `ca_bundle` beside the file, the person confirms
    the destination once, the browser trusts the same CA."""
    ca = trustme.CA()
    cert_file, key_file = write_tls_cert(ca, tmp_path)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    context = ssl.create_default_context()
    ca.configure_trust(context)

    async def tls_page_code(url: str) -> str:
        async with httpx.AsyncClient(follow_redirects=True, timeout=10, verify=context) as browser:
            return sdk_page_code(await browser.get(url))

    Person(client, tls_page_code)
    questions: list[str] = []

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def confirm(params: t.ShowMessageRequestParams) -> t.MessageActionItem | None:
        questions.append(params.message)
        return next((a for a in params.actions or [] if a.title == "Send"), None)

    uri = (tmp_path / "sdk.snowauth.toml").as_uri()
    with Emulator(certfile=str(cert_file), keyfile=str(key_file), auto_approve_user=USER) as emu:
        assert emu.url.startswith("https://")
        editor = Editor(client)
        editor.open(uri, sdk_connection(emu.url) + 'ca_bundle = "ca.pem"\n')
        result = await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
        )
        assert isinstance(result, dict) and result["connection"] == "dev"
        assert len(questions) == 1 and "ca.pem" in questions[0]
        assert "access_token" in analyze(editor.texts[uri]).connections["dev"].token
