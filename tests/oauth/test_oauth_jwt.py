"""The JWT bearer assertion: signing, claims, key errors, and the grant on the emulator."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.jwt import build_assertion
from tests.kit.emulator import DEMO_ID, KEY_ID, emulator_config
from tests.kit.oauth import ec_key, jwt_conn, rsa_key

NOW = datetime(2030, 1, 1, tzinfo=UTC)
BASE = "https://dev1.service-now.com"

CURVES: dict[str, tuple[ec.EllipticCurve, int, hashes.HashAlgorithm]] = {
    "ES256": (ec.SECP256R1(), 32, hashes.SHA256()),
    "ES384": (ec.SECP384R1(), 48, hashes.SHA384()),
    "ES512": (ec.SECP521R1(), 66, hashes.SHA512()),
}
RSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(),
    "RS384": hashes.SHA384(),
    "RS512": hashes.SHA512(),
}


@pytest.fixture(scope="module")
def rsa_pair() -> tuple[bytes, bytes]:
    return rsa_key()


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, claims, signature = token.split(".")
    return (
        json.loads(_decode(header)),
        json.loads(_decode(claims)),
        f"{header}.{claims}".encode(),
        _decode(signature),
    )


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_assertion(rsa_pair: tuple[bytes, bytes], alg: str) -> None:
    private, public = rsa_pair
    token = build_assertion(jwt_conn(BASE, private, jwt_algorithm=alg, jwt_key_id=KEY_ID), now=NOW)
    header, claims, signed, signature = _parts(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": KEY_ID}
    iat = int(NOW.timestamp())
    assert claims["iss"] == claims["aud"] == DEMO_ID
    assert claims["sub"] == "integration.user"
    assert (claims["iat"], claims["exp"]) == (iat, iat + 300)
    assert len(claims["jti"]) == 32
    key = serialization.load_pem_public_key(public)
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, signed, padding.PKCS1v15(), RSA_HASHES[alg])


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_ec_assertion_is_raw_r_s(alg: str) -> None:
    curve, size, digest = CURVES[alg]
    private, public = ec_key(curve)
    header, _, signed, signature = _parts(build_assertion(jwt_conn(BASE, private, jwt_algorithm=alg), now=NOW))
    assert header == {"alg": alg, "typ": "JWT"}
    assert len(signature) == 2 * size
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
    key = serialization.load_pem_public_key(public)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(der, signed, ec.ECDSA(digest))


def test_jti_is_unique(rsa_pair: tuple[bytes, bytes]) -> None:
    conn = jwt_conn(BASE, rsa_pair[0])
    ids = {_parts(build_assertion(conn, now=NOW))[1]["jti"] for _ in range(20)}
    assert len(ids) == 20


def _assert_key_error(conn_changes: dict[str, Any], pem: bytes, words: str) -> None:
    with pytest.raises(OAuthError) as caught:
        build_assertion(jwt_conn(BASE, pem, **conn_changes), now=NOW)
    err = caught.value
    assert err.code == "jwt-key"
    assert err.key == "jwt_key_file"
    assert words in err.message
    assert "PRIVATE KEY" not in err.message
    for line in pem.decode(errors="replace").splitlines():
        if len(line) > 20:
            assert line not in err.message


def test_encrypted_key(rsa_pair: tuple[bytes, bytes]) -> None:
    key = serialization.load_pem_private_key(rsa_pair[0], password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    _assert_key_error({}, encrypted, "encrypted")


def test_garbage_key() -> None:
    _assert_key_error({}, b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n", "not a PEM")


def test_public_key_instead_of_private(rsa_pair: tuple[bytes, bytes]) -> None:
    _assert_key_error({}, rsa_pair[1], "not a PEM")


def test_rsa_algorithm_with_ec_key() -> None:
    _assert_key_error({"jwt_algorithm": "RS256"}, ec_key(ec.SECP256R1())[0], "RSA key")


def test_ec_algorithm_with_the_wrong_curve() -> None:
    _assert_key_error({"jwt_algorithm": "ES384"}, ec_key(ec.SECP256R1())[0], "secp384r1")


def test_unsupported_algorithm(rsa_pair: tuple[bytes, bytes]) -> None:
    _assert_key_error({"jwt_algorithm": "HS256"}, rsa_pair[0], "not supported")


def test_small_rsa_key() -> None:
    _assert_key_error({}, rsa_key(1024)[0], "1024 bits")


def test_missing_subject(rsa_pair: tuple[bytes, bytes]) -> None:
    with pytest.raises(OAuthError) as caught:
        build_assertion(jwt_conn(BASE, rsa_pair[0], jwt_subject=None), now=NOW)
    assert caught.value.key == "jwt_subject"


# --- against the emulator --------------------------------------------------------------


@pytest.mark.parametrize("client_auth", ["body", "basic"])
async def test_jwt_grant_with_rsa(
    make_emu: Callable[..., Emulator],
    client: OAuthClient,
    rsa_pair: tuple[bytes, bytes],
    client_auth: str,
) -> None:
    private, public = rsa_pair
    emu = make_emu(emulator_config(jwt_public_pem=public, jwt_key_id=KEY_ID))
    conn = jwt_conn(emu.url, private, jwt_key_id=KEY_ID, client_auth=client_auth)
    tokens = await client.fetch(conn)
    assert tokens.access_token
    assert tokens.refresh_token is None
    assert (await client.whoami(conn, tokens.access_token))["user_name"] == "integration.user"
    # a second fetch has a new jti, so the instance accepts it too
    assert (await client.fetch(conn)).access_token


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
async def test_jwt_grant_with_ec(make_emu: Callable[..., Emulator], client: OAuthClient, alg: str) -> None:
    private, public = ec_key(CURVES[alg][0])
    emu = make_emu(emulator_config(jwt_public_pem=public))
    tokens = await client.fetch(jwt_conn(emu.url, private, jwt_algorithm=alg))
    assert tokens.access_token


async def test_jwt_grant_with_rs512(
    make_emu: Callable[..., Emulator], client: OAuthClient, rsa_pair: tuple[bytes, bytes]
) -> None:
    emu = make_emu(emulator_config(jwt_public_pem=rsa_pair[1]))
    assert (await client.fetch(jwt_conn(emu.url, rsa_pair[0], jwt_algorithm="RS512"))).access_token


async def test_jwt_refresh_or_fallback_signs_a_new_assertion(
    make_emu: Callable[..., Emulator], client: OAuthClient, rsa_pair: tuple[bytes, bytes]
) -> None:
    emu = make_emu(emulator_config(jwt_public_pem=rsa_pair[1]))
    tokens, fell_back = await client.refresh_or_fallback(jwt_conn(emu.url, rsa_pair[0]), None)
    assert fell_back and tokens.access_token
