"""instance: `instance` values -> base URLs, loopback hosts, redirect URIs."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snowauth import instance
from snowauth.instance import InstanceError, check_redirect_uri, instance_url, is_loopback_host


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("dev12345", "https://dev12345.service-now.com"),
        ("DEV12345", "https://dev12345.service-now.com"),
        (" acme ", "https://acme.service-now.com"),
        ("a", "https://a.service-now.com"),
        ("a-b", "https://a-b.service-now.com"),
        ("a" * 63, f"https://{'a' * 63}.service-now.com"),
        ("https://acme.service-now.com", "https://acme.service-now.com"),
        ("HTTPS://ACME.service-now.com/", "https://acme.service-now.com"),
        ("https://acme.servicenowservices.com", "https://acme.servicenowservices.com"),
        ("https://acme.service-now.com/base/", "https://acme.service-now.com/base"),
        ("https://Snow.Example.com:8443/Base", "https://snow.example.com:8443/Base"),
        ("https://1.2.3.4", "https://1.2.3.4"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.255.0.1", "http://127.255.0.1"),
        ("http://localhost", "http://localhost"),
        ("http://LOCALHOST:1/", "http://localhost:1"),
        ("http://[::1]:1", "http://[::1]:1"),
    ],
)
def test_valid_instances(value: str, url: str) -> None:
    assert instance_url(value) == url


@pytest.mark.parametrize(
    ("value", "code", "says", "suggestion"),
    [
        ("", "invalid-instance", "`instance` is empty", None),
        ("   ", "invalid-instance", "`instance` is empty", None),
        ("-a", "invalid-instance", "`-a` is not an instance name", None),
        ("a-", "invalid-instance", "`a-` is not an instance name", None),
        ("dev_1", "invalid-instance", "`dev_1` is not an instance name", None),
        ("ünïcode", "invalid-instance", "is not an instance name", None),
        ("dev12345.service-now.com", "invalid-instance", "host name without a scheme", "dev12345"),
        ("dev12345.service-now.com/", "invalid-instance", "host name without a scheme", "dev12345"),
        ("snow.example.com", "invalid-instance", "has no scheme", "https://snow.example.com"),
        ("snow.example.com/base/", "invalid-instance", "has no scheme", "https://snow.example.com/base"),
        ("snow.example.com:8443", "invalid-instance", "has no scheme", "https://snow.example.com:8443"),
        ("ftp://x.com", "invalid-instance", "must use https:// (found `ftp://`)", None),
        ("https://", "invalid-instance", "has no host name", None),
        ("https:///path", "invalid-instance", "has no host name", None),
        ("https://u:p@x.com", "invalid-instance", "must not contain a user name or password", None),
        ("https://x.com:99999", "invalid-instance", "is not a valid URL", None),
        ("https://x.com:abc", "invalid-instance", "is not a valid URL", None),
        ("https://[::1", "invalid-instance", "is not a valid URL", None),
        ("https://exa mple.com", "invalid-instance", "`exa mple.com` is not a valid host name", None),
        ("https://-x.com", "invalid-instance", "is not a valid host name", None),
        ("https://x..com", "invalid-instance", "is not a valid host name", None),
        ("https://acme.service-now.com?", "invalid-instance", "must not have a query", "https://acme.service-now.com"),
        ("https://acme.service-now.com#", "invalid-instance", "fragment", "https://acme.service-now.com"),
        (
            "https://acme.service-now.com/base/?x=1",
            "invalid-instance",
            "must not have a query",
            "https://acme.service-now.com/base",
        ),
        ("https://acme.service-now.com/#x", "invalid-instance", "fragment", "https://acme.service-now.com"),
        ("http://acme.service-now.com", "insecure-instance", "clear text", "https://acme.service-now.com"),
        ("http://10.0.0.1:8080/x/", "insecure-instance", "clear text", "https://10.0.0.1:8080/x"),
        ("http://localhost.example.com", "insecure-instance", "clear text", "https://localhost.example.com"),
    ],
)
def test_invalid_instances(value: str, code: str, says: str, suggestion: str | None) -> None:
    with pytest.raises(InstanceError) as info:
        instance_url(value)
    assert info.value.code == code
    assert says in str(info.value)
    assert info.value.suggestion == suggestion
    if suggestion is not None and code == "insecure-instance":
        assert instance_url(suggestion).startswith("https://")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://127.0.0.1:53682/callback", None),
        ("http://localhost:1", None),
        ("http://LOCALHOST:1", None),
        ("http://[::1]:1/cb", None),
        ("http://127.0.0.1:1/?q=1", None),
        ("http://127.0.0.2:1", "must point at this machine (127.0.0.1, [::1] or localhost), not `127.0.0.2`"),
        ("http://example.com:1", "must point at this machine"),
        ("https://127.0.0.1:1", "must be an `http://` loopback URL"),
        ("", "must be an `http://` loopback URL"),
        ("127.0.0.1:1", "must be an `http://` loopback URL"),
        ("http://127.0.0.1", "needs an explicit port"),
        ("http://localhost/cb", "needs an explicit port"),
        ("http://127.0.0.1:0/cb", "needs an explicit port"),
        ("http://127.0.0.1:1/#x", "must not have a fragment"),
        ("http://127.0.0.1:99999", "is not a valid URL"),
        ("http://[::1", "is not a valid URL"),
    ],
)
def test_redirect_uri(value: str, problem: str | None) -> None:
    got = check_redirect_uri(value)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


@settings(max_examples=300, deadline=None)
@given(
    value=st.tuples(
        st.sampled_from(["https://", "HTTPS://", "http://", "https:/", " https://", "https://user@", ""]),
        st.text(alphabet="aZ09.-_:/[]?# ", max_size=30),
        st.sampled_from(["", "/", ".", " ", ":8443", "\t"]),
    ).map("".join)
)
def test_a_plain_https_url_reads_as_the_full_path_reads_it(value: str) -> None:
    """``_PLAIN_HTTPS`` (an https:// URL that is a host name alone) answers as ``urlsplit``
    and the checks after it do: the same base URL, or the same error."""

    def outcome() -> tuple[str, str | None, str | None]:
        try:
            return ("ok", instance_url(value), None)
        except InstanceError as exc:
            return ("error", str(exc), exc.suggestion)

    fast = outcome()
    with mock.patch.object(instance, "_PLAIN_HTTPS", re.compile(r"(?!)")):
        assert fast == outcome()


@pytest.mark.parametrize("value", ["https://dev1.service-now.com", "https://Dev1.Example.COM.", "https://a-b.c"])
def test_plain_https_urls_take_the_short_way(value: str) -> None:
    assert instance._PLAIN_HTTPS.fullmatch(value.strip())
    with mock.patch.object(instance, "urlsplit", side_effect=AssertionError("taken apart")):
        assert instance_url(value) == "https://" + value.removeprefix("https://").lower()
