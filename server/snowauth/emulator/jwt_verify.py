"""Checking a JWT bearer assertion the way a ServiceNow JWT verifier map does.

RS/ES against the map's certificate or public key, HS256/384/512 against its Shared
key. ``aud`` must be the audience (the client ID unless configured), ``iss`` the client
ID unless ``check_issuer`` is off, and times hold within ``leeway`` (the map's Clock
skew). Only the signature and the claims' shapes are checked here; which user ``sub`` names,
and whether ``jti`` was seen before, is the state's business.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_EC_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "ES256": (ec.SECP256R1, 32),
    "ES384": (ec.SECP384R1, 48),
    "ES512": (ec.SECP521R1, 66),
}


_ASYMMETRIC_RSA = ("RS256", "RS384", "RS512")
_SHARED = ("HS256", "HS384", "HS512")


class AssertionRejected(Exception):
    """The assertion failed a check; the message says which (for tests, never logged)."""


@dataclass(frozen=True)
class VerifiedAssertion:
    subject: str
    jti: str
    expires_at: float


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise AssertionRejected("bad base64url") from None


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(part))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AssertionRejected(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise AssertionRejected(f"{what} is not a JSON object")
    return value


def _load_key(pem: bytes) -> Any:
    if b"BEGIN CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return load_pem_public_key(pem)


def _check_signature(alg: str, key: Any, signed: bytes, signature: bytes) -> None:
    digest = _HASHES[alg[2:]]()
    try:
        if alg.startswith("RS"):
            if not isinstance(key, rsa.RSAPublicKey):
                raise AssertionRejected("algorithm does not match the key")
            key.verify(signature, signed, padding.PKCS1v15(), digest)
        else:
            curve, size = _EC_CURVES[alg]
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
                raise AssertionRejected("algorithm does not match the key")
            if len(signature) != 2 * size:
                raise AssertionRejected("bad signature length")
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signed, ec.ECDSA(digest))
    except InvalidSignature:
        raise AssertionRejected("bad signature") from None


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected(f"{name} missing or not a number")
    return float(value)


def _check_shared(alg: str, shared_key: str, signed: bytes, signature: bytes) -> None:
    expected = hmac.digest(shared_key.encode("utf-8"), signed, "sha" + alg[2:])
    if not hmac.compare_digest(expected, signature):
        raise AssertionRejected("bad signature")


def verify_assertion(
    assertion: str,
    *,
    public_key_pem: bytes | None,
    client_id: str,
    key_id: str | None,
    now: float,
    leeway: float = 0.0,
    shared_key: str | None = None,
    audience: str | None = None,
    check_issuer: bool = True,
) -> VerifiedAssertion:
    """Verify signature and claims; raise :class:`AssertionRejected` on any failure."""
    if not assertion.isascii():
        raise AssertionRejected("not a signed JWT")
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts):
        raise AssertionRejected("not a signed JWT")
    header = _json_object(parts[0], "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or not (alg in _EC_CURVES or alg in _ASYMMETRIC_RSA or alg in _SHARED):
        raise AssertionRejected("unsupported alg")
    if key_id is not None and header.get("kid") != key_id:
        raise AssertionRejected("kid does not match")
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    if alg in _SHARED:
        if shared_key is None:
            raise AssertionRejected("an HMAC alg and no shared key configured")
        _check_shared(alg, shared_key, signed, _b64url_decode(parts[2]))
    else:
        if public_key_pem is None:
            raise AssertionRejected("a public-key alg and no certificate configured")
        try:
            key = _load_key(public_key_pem)
        except ValueError:
            raise AssertionRejected("the configured key cannot be loaded") from None
        _check_signature(alg, key, signed, _b64url_decode(parts[2]))

    claims = _json_object(parts[1], "payload")
    aud = claims.get("aud")
    expected_aud = audience or client_id
    if not (aud == expected_aud or (isinstance(aud, list) and expected_aud in aud)):
        raise AssertionRejected("aud is not the expected audience")
    if check_issuer and claims.get("iss") != client_id:
        raise AssertionRejected("iss is not the client id")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AssertionRejected("sub missing")
    exp = _number(claims, "exp")
    if exp <= now - leeway:
        raise AssertionRejected("expired")
    _number(claims, "iat")
    if "nbf" in claims and _number(claims, "nbf") > now + leeway:
        raise AssertionRejected("not yet valid")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise AssertionRejected("jti missing")
    return VerifiedAssertion(subject=sub, jti=jti, expires_at=exp)
