"""The JWT bearer assertion: signing, claims, key errors, and the grant on the emulator."""

from __future__ import annotations

import base64
import hmac
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
from snowauth.oauth.jwt import build_assertion, sign_shared
from tests.kit.emulator import DEMO_ID, DEMO_SECRET, KEY_ID, emulator_config, token
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
    # HS256 is supported now (a shared key); PS256 is not among ServiceNow's algorithms
    _assert_key_error({"jwt_algorithm": "PS256"}, rsa_pair[0], "not supported")


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


# --- shared keys (HS256/384/512), audience, issuer, clock skew, kid ----------------------

SHARED = "a-shared-key-of-sixty-four-bytes-0123456789abcdef0123456789abcde"


def _hs_conn(base_url: str, alg: str = "HS256", **changes: Any) -> Any:
    values = {"jwt_key_pem": None, "jwt_algorithm": alg, "jwt_shared_secret": SHARED, **changes}
    return jwt_conn(base_url, b"", **values)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_assertion(alg: str) -> None:
    header, claims, signed, signature = _parts(build_assertion(_hs_conn(BASE, alg, jwt_key_id=KEY_ID), now=NOW))
    assert header == {"alg": alg, "typ": "JWT", "kid": KEY_ID}
    assert claims["iss"] == claims["aud"] == DEMO_ID
    assert hmac.compare_digest(signature, hmac.digest(SHARED.encode(), signed, "sha" + alg[2:]))


def test_audience_overrides_aud_not_iss() -> None:
    url = BASE + "/oauth_token.do"
    _, claims, _, _ = _parts(build_assertion(_hs_conn(BASE, jwt_audience=url), now=NOW))
    assert (claims["aud"], claims["iss"]) == (url, DEMO_ID)


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_short_shared_key(alg: str, size: int) -> None:
    short = "k" * (size - 1)
    with pytest.raises(OAuthError) as caught:
        build_assertion(_hs_conn(BASE, alg, jwt_shared_secret=short), now=NOW)
    assert caught.value.code == "jwt-shared-key"
    assert caught.value.key == "jwt_shared_secret"
    assert f"at least {size}" in caught.value.message
    assert short not in caught.value.message


def test_hmac_without_a_shared_key() -> None:
    with pytest.raises(OAuthError) as caught:
        build_assertion(_hs_conn(BASE, jwt_shared_secret=None), now=NOW)
    assert caught.value.key == "jwt_shared_secret"


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
async def test_jwt_grant_with_a_shared_key(make_emu: Callable[..., Emulator], client: OAuthClient, alg: str) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED}))
    conn = _hs_conn(emu.url, alg)
    tokens = await client.fetch(conn)
    assert (await client.whoami(conn, tokens.access_token))["user_name"] == "integration.user"


async def test_a_wrong_shared_key_is_refused(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED[::-1]}))
    with pytest.raises(OAuthError) as caught:
        await client.fetch(_hs_conn(emu.url))
    assert caught.value.status == 401
    assert any("bad signature" in line for line in emu.system_log)


async def test_es256_with_kid_end_to_end(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    private, public = ec_key(ec.SECP256R1())
    emu = make_emu(emulator_config(jwt_public_pem=public, jwt_key_id=KEY_ID))
    with pytest.raises(OAuthError):
        await client.fetch(jwt_conn(emu.url, private, jwt_algorithm="ES256"))
    assert any("kid does not match" in line for line in emu.system_log)
    assert (await client.fetch(jwt_conn(emu.url, private, jwt_algorithm="ES256", jwt_key_id=KEY_ID))).access_token


async def test_the_audience_the_verifier_expects(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED, "jwt_audience": "https://aud.example"}))
    with pytest.raises(OAuthError):
        await client.fetch(_hs_conn(emu.url))
    assert any("aud is not the expected audience" in line for line in emu.system_log)
    assert (await client.fetch(_hs_conn(emu.url, jwt_audience="https://aud.example"))).access_token


def _assertion(claims: dict[str, Any]) -> str:
    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims)}"
    signature = sign_shared(signing_input.encode(), SHARED, "HS256")
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _jwt_form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "client_id": DEMO_ID,
        "client_secret": DEMO_SECRET,
        "assertion": assertion,
    }


@pytest.mark.parametrize("check_issuer", [True, False])
def test_the_issuer_check_is_configurable(make_emu: Callable[..., Emulator], check_issuer: bool) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED, "jwt_check_issuer": check_issuer}))
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": "another-issuer", "sub": "integration.user", "aud": DEMO_ID, "iat": now, "exp": now + 300}
    response = token(emu, **_jwt_form(_assertion({**claims, "jti": "one"})))
    assert response.status_code == (401 if check_issuer else 200)
    same = token(emu, **_jwt_form(_assertion({**claims, "iss": DEMO_ID, "jti": "two"})))
    assert same.status_code == 200


@pytest.mark.parametrize(("skew", "status"), [(0, 401), (120, 200)])
def test_the_clock_skew_admits_a_just_expired_assertion(
    make_emu: Callable[..., Emulator], skew: int, status: int
) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED, "jwt_clock_skew": skew}))
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": DEMO_ID, "sub": "integration.user", "aud": DEMO_ID, "iat": now - 330, "exp": now - 30, "jti": "j"}
    assert token(emu, **_jwt_form(_assertion(claims))).status_code == status


async def test_a_public_jwt_client_sends_no_secret(make_emu: Callable[..., Emulator], client: OAuthClient) -> None:
    emu = make_emu(emulator_config(demo={"jwt_shared_key": SHARED, "public": True, "client_secret": None}))
    tokens = await client.fetch(_hs_conn(emu.url, client_secret=None))
    assert tokens.access_token
    # a confidential record still wants its secret
    other = make_emu(emulator_config(demo={"jwt_shared_key": SHARED}))
    with pytest.raises(OAuthError):
        await client.fetch(_hs_conn(other.url, client_secret=None))
    assert any("no client_secret" in line for line in other.system_log)
