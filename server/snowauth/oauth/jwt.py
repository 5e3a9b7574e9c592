"""Signing the JWT bearer assertion with ``cryptography`` (RS/ES 256/384/512).

Claims: ``iss`` = ``aud`` = the client ID, ``sub`` = ``jwt_subject``, ``iat``, ``exp``
(``iat`` + 300 s) and a unique ``jti``. The header carries ``kid`` when ``jwt_key_id``
is set. A key that cannot be used raises ``jwt-key`` without echoing any key material.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from snowauth.oauth import errors
from snowauth.tokens import ResolvedConnection

ASSERTION_LIFETIME: Final = 300

_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_EC_CURVES: Final[dict[str, tuple[str, int]]] = {
    "ES256": ("secp256r1", 32),
    "ES384": ("secp384r1", 48),
    "ES512": ("secp521r1", 66),
}
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, object]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=False).encode("utf-8"))


def load_private_key(pem: bytes, algorithm: str) -> PrivateKey:
    """Load a PEM private key and check it fits ``algorithm``."""
    if algorithm not in ALGORITHMS:
        raise errors.jwt_key(f"jwt_algorithm {algorithm!r} is not supported (use one of {', '.join(ALGORITHMS)})")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise errors.jwt_key("the key is encrypted with a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise errors.jwt_key("the file is not a PEM private key snowauth can read") from None
    if algorithm.startswith("RS"):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise errors.jwt_key(f"{algorithm} needs an RSA key, and this is not one")
        if key.key_size < 2048:
            raise errors.jwt_key(f"the RSA key has {key.key_size} bits; use 2048 or more")
        return key
    curve, _ = _EC_CURVES[algorithm]
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != curve:
        raise errors.jwt_key(f"{algorithm} needs an EC key on the curve {curve}")
    return key


def sign(signing_input: bytes, key: PrivateKey, algorithm: str) -> bytes:
    """The JWS signature of ``signing_input`` (ES: raw r||s, not DER)."""
    digest = _HASHES[algorithm[2:]]()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(signing_input, padding.PKCS1v15(), digest)
    der = key.sign(signing_input, ec.ECDSA(digest))
    r, s = decode_dss_signature(der)
    size = _EC_CURVES[algorithm][1]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def build_assertion(conn: ResolvedConnection, *, now: datetime, lifetime: int = ASSERTION_LIFETIME) -> str:
    """A signed JWT bearer assertion for ``conn``."""
    if not conn.jwt_key_pem:
        raise errors.invalid_connection(
            "jwt_key_file", f'Connection "{conn.name}" needs jwt_key_file for the JWT bearer grant.'
        )
    if not conn.jwt_subject:
        raise errors.invalid_connection(
            "jwt_subject", f'Connection "{conn.name}" needs jwt_subject for the JWT bearer grant.'
        )
    algorithm = conn.jwt_algorithm.upper()
    key = load_private_key(conn.jwt_key_pem, algorithm)
    header: dict[str, object] = {"alg": algorithm, "typ": "JWT"}
    if conn.jwt_key_id:
        header["kid"] = conn.jwt_key_id
    issued = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": conn.client_id,
        "sub": conn.jwt_subject,
        "aud": conn.client_id,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
    signature = sign(signing_input, key, algorithm)
    return f"{signing_input.decode('ascii')}.{_b64url(signature)}"
