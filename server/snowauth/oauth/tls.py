"""TLS for the token exchange: the verifying context and the client certificate.

Verification is never switched off. The context is a ``truststore.SSLContext`` (the
operating system's trust store) with certifi's CAs and a connection's ``ca_bundle``
loaded on top, and a connection's client certificate for mutual TLS
(docs/decisions.md, "Corporate networks").
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass, field

import certifi
import truststore

from snowauth.oauth import errors
from snowauth.tokens import ResolvedConnection


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate for mutual TLS: PEM files (absolute paths, already confined)
    and the key's passphrase (a secret: never shown)."""

    cert: str
    key: str | None = None
    password: str | None = field(default=None, repr=False)


def client_certificate(conn: ResolvedConnection) -> ClientCertificate | None:
    """The connection's client certificate for mutual TLS, or None."""
    if not conn.client_cert:
        return None
    return ClientCertificate(conn.client_cert, conn.client_key, conn.client_key_password)


def ssl_context(ca_bundle: str | None, client_cert: ClientCertificate | None = None) -> ssl.SSLContext:
    """A verifying context: the operating system's trust store, certifi's CAs, and the
    extra ``ca_bundle`` (truststore adds the CAs loaded into the context to the
    platform's own: on Linux OpenSSL's default paths, honouring ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR``; on macOS and Windows as extra anchors of the system verifier)."""
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with contextlib.suppress(OSError, ssl.SSLError):  # certifi comes with httpx
        context.load_verify_locations(cafile=certifi.where())
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError, ValueError):
            raise errors.ca_bundle_unreadable(ca_bundle) from None
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert.cert, client_cert.key, client_cert.password)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise errors.client_cert_unusable(client_cert.cert, _cert_reason(exc)) from None
    return context


def _cert_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if "bad decrypt" in text or "password" in text or ("pem lib" in text and "decrypt" in text):
        return "the key's passphrase is wrong or missing (client_key_password)"
    if "key values mismatch" in text:
        return "client_key is not the key of client_cert"
    if isinstance(exc, FileNotFoundError):
        return "the file does not exist"
    if isinstance(exc, ssl.SSLError):
        return "not a PEM certificate and private key, or the passphrase is wrong"
    return "it could not be read"
