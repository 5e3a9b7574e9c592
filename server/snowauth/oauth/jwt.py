"""Signing the JWT bearer assertion with ``cryptography`` (RS/ES/HS 256/384/512).

Claims: ``iss`` = the client ID, ``aud`` = ``jwt_audience`` or else the client ID,
``sub`` = ``jwt_subject``, ``iat``, ``exp`` (``iat`` + 300 s) and a unique ``jti``. The
header carries ``kid`` when ``jwt_key_id`` is set. RS/ES sign with the private key of
``jwt_key_file``; HS with ``jwt_shared_secret``, the JWT verifier map's *Shared key*
(docs/servicenow.md "Scopes and JWT"). A key that cannot be used raises ``jwt-key``
without echoing any key material.
"""

from __future__ import annotations

import base64
import hmac
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
ALGORITHMS: Final = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, object]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=False).encode("utf-8"))


def load_private_key(pem: bytes, algorithm: str) -> PrivateKey:
    """Load a PEM private key and check it fits ``algorithm`` (RS or ES)."""
    if algorithm not in ALGORITHMS or is_shared_key(algorithm):
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


def is_shared_key(algorithm: str) -> bool:
    """True for the HMAC algorithms (HS256/384/512), signed with a shared secret."""
    return algorithm.upper().startswith("HS")


def sign_shared(signing_input: bytes, secret: str, algorithm: str) -> bytes:
    """The HMAC JWS signature of ``signing_input`` with the shared key ``secret``, at
    least as long as the hash (RFC 7518 section 3.2)."""
    if algorithm not in ALGORITHMS or not is_shared_key(algorithm):
        raise errors.jwt_shared_key(f"jwt_algorithm {algorithm!r} is not an HMAC algorithm")
    key = secret.encode("utf-8")
    size = int(algorithm[2:]) // 8
    if len(key) < size:
        raise errors.jwt_shared_key(f"it is {len(key)} bytes long and {algorithm} needs at least {size}")
    return hmac.digest(key, signing_input, "sha" + algorithm[2:])


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
    algorithm = conn.jwt_algorithm.upper()
    shared = is_shared_key(algorithm)
    if shared and not conn.jwt_shared_secret:
        raise errors.invalid_connection(
            "jwt_shared_secret",
            f'Connection "{conn.name}" needs jwt_shared_secret for jwt_algorithm = "{algorithm}".',
        )
    if not shared and not conn.jwt_key_pem:
        raise errors.invalid_connection(
            "jwt_key_file", f'Connection "{conn.name}" needs jwt_key_file for the JWT bearer grant.'
        )
    if not conn.jwt_subject:
        raise errors.invalid_connection(
            "jwt_subject", f'Connection "{conn.name}" needs jwt_subject for the JWT bearer grant.'
        )
    key = None if shared else load_private_key(conn.jwt_key_pem or b"", algorithm)
    header: dict[str, object] = {"alg": algorithm, "typ": "JWT"}
    if conn.jwt_key_id:
        header["kid"] = conn.jwt_key_id
    issued = int(now.timestamp())
    claims: dict[str, object] = {
        "iss": conn.client_id,
        "sub": conn.jwt_subject,
        "aud": conn.jwt_audience or conn.client_id,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
    if key is None:
        signature = sign_shared(signing_input, conn.jwt_shared_secret or "", algorithm)
    else:
        signature = sign(signing_input, key, algorithm)
    return f"{signing_input.decode('ascii')}.{_b64url(signature)}"
