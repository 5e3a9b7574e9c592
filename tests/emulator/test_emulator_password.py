"""The token endpoint: password grant, client authentication, request format, reuse."""

from __future__ import annotations

import base64
import dataclasses
import socket
import threading
from collections.abc import Callable
from urllib.parse import quote_plus

import httpx
import pytest

from snowauth.emulator import ClientRecord, Emulator, default_config
from tests.kit.clock import FakeClock
from tests.kit.emulator import (
    DEMO_ID,
    DEMO_SECRET,
    TIMEOUT,
    USER,
    USER_PASSWORD,
    assert_denied,
    assert_token_body,
    current_user,
    password_grant,
    token,
)


def test_password_grant_success(emu: Emulator) -> None:
    response = password_grant(emu)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert_token_body(body, refresh=True)
    assert body["expires_in"] == 1799
    assert body["access_token"] != body["refresh_token"]
    who = current_user(emu, body["access_token"])
    assert who.json()["result"]["user_name"] == USER
    assert emu.token_requests == 1


def test_requested_scope_is_echoed(emu: Emulator) -> None:
    body = password_grant(emu, scope="useraccount  other").json()
    assert_token_body(body, refresh=True, scope="useraccount other")


def test_key_order_varies(emu: Emulator) -> None:
    orders = {tuple(password_grant(emu).json()) for _ in range(30)}
    assert len(orders) > 1


@pytest.mark.parametrize(
    ("username", "password", "client_id", "client_secret"),
    [
        (USER, "wrong-password", DEMO_ID, DEMO_SECRET),
        ("nobody", "demo-password", DEMO_ID, DEMO_SECRET),
        ("inactive.user", "inactive-password", DEMO_ID, DEMO_SECRET),
        ("locked.user", "locked-password", DEMO_ID, DEMO_SECRET),
        ("web.only", "webonly-password", DEMO_ID, DEMO_SECRET),
        ("svc.integration", "", DEMO_ID, DEMO_SECRET),
        (USER, USER_PASSWORD, DEMO_ID, "wrong-secret"),
        (USER, USER_PASSWORD, DEMO_ID, ""),
        (USER, USER_PASSWORD, "00000000000000000000000000000000", DEMO_SECRET),
        (USER, USER_PASSWORD, "fedcba9876543210fedcba9876543210", ""),  # public client
    ],
)
def test_password_grant_failures_are_folded(
    emu: Emulator, username: str, password: str, client_id: str, client_secret: str
) -> None:
    response = password_grant(
        emu, username=username, password=password, client_id=client_id, client_secret=client_secret
    )
    assert_denied(response)
    assert len(emu.system_log) == 1


def test_missing_or_unknown_grant_type(emu: Emulator) -> None:
    assert_denied(token(emu, client_id=DEMO_ID, client_secret=DEMO_SECRET))
    assert_denied(token(emu, grant_type="implicit", client_id=DEMO_ID, client_secret=DEMO_SECRET))


def test_lockout_after_five_failures(emu: Emulator) -> None:
    for _ in range(5):
        assert_denied(password_grant(emu, password="wrong"))
    assert_denied(password_grant(emu))  # the right password no longer helps
    assert "locked out" in emu.system_log[-1]
    assert password_grant(emu, username="admin", password="admin-password").status_code == 200


def test_success_resets_the_failure_count(emu: Emulator) -> None:
    for _ in range(4):
        assert_denied(password_grant(emu, password="wrong"))
    assert password_grant(emu).status_code == 200
    for _ in range(4):
        assert_denied(password_grant(emu, password="wrong"))
    assert password_grant(emu).status_code == 200


def test_lockout_threshold_is_configurable(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(dataclasses.replace(default_config(), lockout_threshold=2))
    assert_denied(password_grant(emu, password="wrong"))
    assert password_grant(emu).status_code == 200
    assert_denied(password_grant(emu, password="wrong"))
    assert_denied(password_grant(emu, password="wrong"))
    assert_denied(password_grant(emu))


def test_lockout_disabled_with_zero(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(dataclasses.replace(default_config(), lockout_threshold=0))
    for _ in range(8):
        assert_denied(password_grant(emu, password="wrong"))
    assert password_grant(emu).status_code == 200


def test_same_access_token_within_lifetime_and_expiry_reset(emu: Emulator, clock: FakeClock) -> None:
    first = password_grant(emu).json()
    clock.advance(1000)
    second = password_grant(emu).json()
    assert second["access_token"] == first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]
    assert second["expires_in"] == 1799
    clock.advance(1000)  # 2000 s after the first grant, 1000 s after the reset
    assert current_user(emu, first["access_token"]).status_code == 200
    clock.advance(800)
    assert current_user(emu, first["access_token"]).status_code == 401
    third = password_grant(emu).json()
    assert third["access_token"] != first["access_token"]
    assert current_user(emu, third["access_token"]).status_code == 200


def test_reuse_is_per_user_and_scope(emu: Emulator) -> None:
    base = password_grant(emu).json()["access_token"]
    other_scope = password_grant(emu, scope="useraccount other").json()["access_token"]
    other_user = password_grant(emu, username="admin", password="admin-password").json()
    assert len({base, other_scope, other_user["access_token"]}) == 3


def test_json_body_is_rejected(emu: Emulator) -> None:
    response = httpx.post(
        f"{emu.url}/oauth_token.do",
        json={
            "grant_type": "password",
            "client_id": DEMO_ID,
            "client_secret": DEMO_SECRET,
            "username": USER,
            "password": USER_PASSWORD,
        },
        timeout=TIMEOUT,
    )
    assert_denied(response)
    assert emu.token_requests == 1


def test_form_text_with_wrong_content_type_is_rejected(emu: Emulator) -> None:
    body = f"grant_type=password&client_id={DEMO_ID}&client_secret={DEMO_SECRET}"
    body += f"&username={USER}&password={USER_PASSWORD}"
    response = httpx.post(
        f"{emu.url}/oauth_token.do",
        content=body.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=TIMEOUT,
    )
    assert_denied(response)
    ok = httpx.post(
        f"{emu.url}/oauth_token.do",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        timeout=TIMEOUT,
    )
    assert ok.status_code == 200


def test_query_string_parameters_are_ignored(emu: Emulator) -> None:
    params = {
        "grant_type": "password",
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "username": USER,
        "password": USER_PASSWORD,
    }
    only_query = httpx.post(
        f"{emu.url}/oauth_token.do",
        params=params,
        data={"scope": "useraccount"},
        timeout=TIMEOUT,
    )
    assert_denied(only_query)
    half = httpx.post(
        f"{emu.url}/oauth_token.do",
        params={"password": USER_PASSWORD},
        data={k: v for k, v in params.items() if k != "password"},
        timeout=TIMEOUT,
    )
    assert_denied(half)
    assert ("POST", "/oauth_token.do") in emu.requests
    assert all("?" not in path for _, path in emu.requests)


def _basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


PUNCTUATED = "p@ss:w%rd+&=/ ?é\"'"


@pytest.fixture
def punctuated_emu(make_emu: Callable[..., Emulator]) -> Emulator:
    config = default_config()
    client = ClientRecord(name="odd", client_id="odd:client+id", client_secret=PUNCTUATED)
    return make_emu(dataclasses.replace(config, clients={**config.clients, "odd": client}))


def test_basic_auth_with_punctuation(punctuated_emu: Emulator) -> None:
    response = httpx.post(
        f"{punctuated_emu.url}/oauth_token.do",
        data={"grant_type": "password", "username": USER, "password": USER_PASSWORD},
        headers={"Authorization": _basic("odd:client+id", PUNCTUATED)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert_token_body(response.json(), refresh=True)


def test_basic_auth_is_form_decoded(punctuated_emu: Emulator) -> None:
    # Without RFC 6749 §2.3.1 encoding, "+" would decode to a space: refused.
    raw = base64.b64encode(f"{DEMO_ID}:{PUNCTUATED}".encode()).decode()
    response = httpx.post(
        f"{punctuated_emu.url}/oauth_token.do",
        data={"grant_type": "password", "username": USER, "password": USER_PASSWORD},
        headers={"Authorization": f"Basic {raw}"},
        timeout=TIMEOUT,
    )
    assert_denied(response)


def test_form_fields_with_punctuation(punctuated_emu: Emulator) -> None:
    response = password_grant(punctuated_emu, client_id="odd:client+id", client_secret=PUNCTUATED)
    assert response.status_code == 200


def test_basic_auth_and_body_must_agree(emu: Emulator) -> None:
    form = {"grant_type": "password", "username": USER, "password": USER_PASSWORD}
    url = f"{emu.url}/oauth_token.do"
    same = httpx.post(
        url,
        data={**form, "client_id": DEMO_ID},
        headers={"Authorization": _basic(DEMO_ID, DEMO_SECRET)},
        timeout=TIMEOUT,
    )
    assert same.status_code == 200
    differs = httpx.post(
        url,
        data={**form, "client_secret": "other"},
        headers={"Authorization": _basic(DEMO_ID, DEMO_SECRET)},
        timeout=TIMEOUT,
    )
    assert_denied(differs)
    wrong = httpx.post(url, data=form, headers={"Authorization": _basic(DEMO_ID, "nope")}, timeout=TIMEOUT)
    assert_denied(wrong)
    garbage = httpx.post(url, data=form, headers={"Authorization": "Basic %%%"}, timeout=TIMEOUT)
    assert_denied(garbage)


def test_get_on_token_endpoint_is_not_a_token_request(emu: Emulator) -> None:
    response = httpx.get(f"{emu.url}/oauth_token.do", timeout=TIMEOUT)
    assert response.status_code == 405
    assert emu.token_requests == 0


def test_concurrent_grants_share_one_token(emu: Emulator) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def grant() -> None:
        body = password_grant(emu).json()
        with lock:
            results.append(body["access_token"])

    threads = [threading.Thread(target=grant) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    assert len(set(results)) == 1
    assert emu.token_requests == 12


def test_chunked_and_oversized_bodies(emu: Emulator) -> None:
    chunked = httpx.post(
        f"{emu.url}/oauth_token.do",
        content=iter([b"grant_type=password"]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )
    assert chunked.status_code == 411
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"POST /oauth_token.do HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 413 ")
    assert password_grant(emu).status_code == 200
