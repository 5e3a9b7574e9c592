"""The instance's reachability, for `snowauth doctor` (:mod:`snowauth.doctor`): the host
name resolves, TLS verifies with the connection's trust settings, and the instance is
awake (not the developer program's hibernation page).

The probe is one GET of the Table API without credentials, through the shared transport
(:mod:`snowauth.oauth.http`: the same TLS, timeout and redirect rules as a token request).
An awake instance answers it 401 (no credentials were sent); a sleeping developer
instance answers every path with its hibernation page.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import httpx

from snowauth.instance_records import SYS_USER, TABLE_API
from snowauth.oauth.http import HttpTransport
from snowauth.oauth.pages import is_hibernation_page
from snowauth.oauth.tls import ClientCertificate

#: what the probe asks for (nothing is sent with it: no credentials, no cookie)
PROBE_PATH = f"{TABLE_API}/{SYS_USER}"


async def unresolved(base_url: str) -> str | None:
    """Why the instance's host name does not resolve (None: it does)."""
    url = httpx.URL(base_url)
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"the host name {host} could not be resolved ({exc.strerror or 'no address'})"
    except UnicodeError:
        return f"the host name {host} is not a valid name"
    return None


@dataclass(frozen=True)
class Awake:
    """What the probe found: the instance's answer status and whether it is the
    hibernation page."""

    status: int
    hibernating: bool


async def probe(
    http: HttpTransport,
    base_url: str,
    *,
    ca_bundle: str | None,
    timeout: float,
    proxy: str | None = None,
    client_cert: ClientCertificate | None = None,
) -> Awake:
    """GET the Table API without credentials; :class:`snowauth.oauth.errors.OAuthError`
    for a failed connection (``tls``, ``unreachable``, ``timeout``, ``redirect``,
    ``proxy``, ``client-certificate``)."""
    response = await http.request(
        "GET",
        base_url + PROBE_PATH,
        timeout=timeout,
        ca_bundle=ca_bundle,
        params={"sysparm_limit": "1"},
        proxy=proxy,
        client_cert=client_cert,
    )
    return Awake(response.status, is_hibernation_page(response.body))
