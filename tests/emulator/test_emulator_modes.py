"""Modes (hibernating, rate limited, flaky, slow), the control endpoint, counters, stop."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from snowauth.emulator import Emulator
from tests.kit.emulator import HTTP, TIMEOUT, assert_denied, current_user, password_grant


def _is_hibernation_page(response: httpx.Response) -> bool:
    return (
        response.status_code == 200
        and response.headers["content-type"].startswith("text/html")
        and "<title>" in response.text
        and "Instance Hibernating page" in response.text.split("<title>")[1].split("</title>")[0]
    )


def test_hibernating_answers_every_path_with_the_page(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    emu.set_mode(hibernating=True)
    assert _is_hibernation_page(password_grant(emu))
    assert _is_hibernation_page(current_user(emu, access))
    assert _is_hibernation_page(HTTP.get(f"{emu.url}/oauth_auth.do", params={"state": "x"}))
    assert _is_hibernation_page(HTTP.get(f"{emu.url}/anything/at/all"))
    assert emu.token_requests == 2
    emu.set_mode(hibernating=False)
    assert current_user(emu, access).status_code == 200
    assert password_grant(emu).status_code == 200


def test_rate_limited(emu: Emulator) -> None:
    access = password_grant(emu).json()["access_token"]
    emu.set_mode(rate_limited=True)
    response = password_grant(emu)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    emu.set_mode(retry_after=7)
    assert password_grant(emu).headers["retry-after"] == "7"
    assert current_user(emu, access).status_code == 200  # only the token endpoint
    assert emu.token_requests == 3
    emu.set_mode(rate_limited=False)
    assert password_grant(emu).status_code == 200


def test_flaky_for_a_number_of_requests(emu: Emulator) -> None:
    emu.set_mode(flaky_failures=2)
    assert emu.modes["flaky"] is True
    first, second = password_grant(emu), password_grant(emu)
    assert (first.status_code, second.status_code) == (503, 503)
    assert "application/json" not in first.headers["content-type"]
    assert password_grant(emu).status_code == 200
    assert emu.token_requests == 3
    assert emu.modes["flaky"] is False


def test_flaky_until_switched_off(emu: Emulator) -> None:
    emu.set_mode(flaky=True)
    assert [password_grant(emu).status_code for _ in range(4)] == [503] * 4
    emu.set_mode(flaky=False)
    assert password_grant(emu).status_code == 200


def test_flaky_does_not_hide_a_rejection(emu: Emulator) -> None:
    emu.set_mode(flaky_failures=1)
    assert password_grant(emu, password="wrong").status_code == 503
    assert_denied(password_grant(emu, password="wrong"))


def test_slow(emu: Emulator) -> None:
    emu.set_mode(slow=1.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{emu.url}/oauth_token.do", data={"grant_type": "password"}, timeout=0.3)
    assert emu.token_requests == 1  # the request arrived; the answer was late
    emu.set_mode(slow=0.3)
    started = time.monotonic()
    assert password_grant(emu).status_code == 200
    assert time.monotonic() - started >= 0.3
    emu.set_mode(slow=0)
    started = time.monotonic()
    assert password_grant(emu).status_code == 200
    assert time.monotonic() - started < 0.3


def test_bad_mode_values(emu: Emulator) -> None:
    for kwargs in ({"retry_after": -1}, {"flaky_failures": -1}, {"slow": -0.5}):
        with pytest.raises(ValueError):
            emu.set_mode(**kwargs)


def test_requests_are_recorded_without_query_or_body(emu: Emulator) -> None:
    password_grant(emu)
    HTTP.get(f"{emu.url}/oauth_revoke_token.do", params={"token": "abc"})
    HTTP.get(f"{emu.url}/__emulator/stats")
    assert emu.requests == [("POST", "/oauth_token.do"), ("GET", "/oauth_revoke_token.do")]


def test_control_endpoint(emu: Emulator) -> None:
    control = f"{emu.url}/__emulator/mode"
    response = HTTP.post(control, json={"hibernating": True, "slow": 5})
    assert response.status_code == 200
    assert response.json()["hibernating"] is True
    # The control paths ignore the modes: no hibernation page, no delay.
    started = time.monotonic()
    stats = HTTP.get(f"{emu.url}/__emulator/stats")
    assert time.monotonic() - started < 2
    assert stats.json()["token_requests"] == 0
    assert stats.json()["modes"]["slow"] == 5.0
    assert HTTP.post(control, json={"slow": 0}).status_code == 200
    assert _is_hibernation_page(password_grant(emu))
    assert HTTP.post(control, json={"hibernating": False}).json()["hibernating"] is False
    HTTP.post(control, json={"rate_limited": True, "retry_after": 3})
    limited = password_grant(emu)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    HTTP.post(control, json={"rate_limited": False, "flaky_failures": 1})
    assert password_grant(emu).status_code == 503
    assert password_grant(emu).status_code == 200
    stats = HTTP.get(f"{emu.url}/__emulator/stats").json()
    assert stats["token_requests"] == 4
    assert ["POST", "/oauth_token.do"] in stats["requests"]
    assert HTTP.get(control).json() == emu.modes


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"hibernating": "yes"}', b'{"sleepy": true}', b'{"slow": -1}'],
)
def test_control_endpoint_rejects_bad_bodies(emu: Emulator, body: bytes) -> None:
    response = HTTP.post(f"{emu.url}/__emulator/mode", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()
    assert emu.modes["hibernating"] is False
    assert HTTP.get(f"{emu.url}/__emulator/nothing").status_code == 404


def test_stop_closes_kept_alive_connections() -> None:
    emu = Emulator().start()
    url = emu.url
    with httpx.Client(timeout=TIMEOUT) as client:
        assert client.get(url + "/").status_code == 200  # the connection stays open
        emu.stop()
        with pytest.raises(httpx.TransportError):
            client.get(url + "/")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=TIMEOUT)
    emu.stop()  # twice is fine


def test_stop_interrupts_a_slow_answer() -> None:
    emu = Emulator().start()
    emu.set_mode(slow=30)
    started = time.monotonic()
    outcomes: list[object] = []

    def call() -> None:
        try:
            outcomes.append(httpx.get(emu.url + "/", timeout=TIMEOUT).status_code)
        except httpx.HTTPError as exc:
            outcomes.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.3)
    emu.stop()
    thread.join(timeout=TIMEOUT)
    assert not thread.is_alive()
    assert len(outcomes) == 1  # answered or cut off, but not left hanging
    assert time.monotonic() - started < 5


def test_context_manager_and_url_shape() -> None:
    with Emulator(port=0) as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert not emu.url.endswith("/")
        assert int(emu.url.rsplit(":", 1)[1]) == emu.port > 0
        assert emu.start() is emu
    with pytest.raises(httpx.ConnectError):
        httpx.get(emu.url + "/", timeout=TIMEOUT)


def test_ipv6_loopback() -> None:
    try:
        emu = Emulator(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert emu.url.startswith("http://[::1]:")
        assert httpx.get(emu.url + "/", timeout=TIMEOUT).status_code == 200
    finally:
        emu.stop()


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"slow": Infinity}', "slow must be a non-negative number of seconds"),
        (b'{"slow": NaN}', "slow must be a non-negative number of seconds"),
        (b'{"retry_after": 2.0}', "retry_after must be a non-negative integer"),
        (b'{"flaky_failures": true}', "flaky_failures must be a non-negative integer"),
        (b'{"hibernating": 1}', "hibernating must be true or false"),
        (b'{"hibernating": null}', "hibernating must be true or false"),
        (b'{"rate_limited": true, "sleepy": true}', "unknown mode 'sleepy'"),
    ],
)
def test_control_endpoint_says_which_mode_is_wrong(emu: Emulator, body: bytes, said: str) -> None:
    response = HTTP.post(f"{emu.url}/__emulator/mode", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"error": said})
    assert emu.modes["slow"] == 0 and emu.modes["rate_limited"] is False  # nothing changed


def test_control_endpoint_takes_an_integer_as_seconds(emu: Emulator) -> None:
    response = HTTP.post(f"{emu.url}/__emulator/mode", json={"slow": 0, "retry_after": 4})
    assert response.status_code == 200
    assert response.json()["slow"] == 0.0 and isinstance(response.json()["slow"], float)
    assert response.json()["retry_after"] == 4
