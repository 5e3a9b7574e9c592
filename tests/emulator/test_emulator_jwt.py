"""The JWT bearer grant: assertions signed by hand (no JWT library)."""

from __future__ import annotations

import base64
import datetime
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from snowauth.emulator import Emulator, load_config
from tests.kit.clock import FakeClock
from tests.kit.emulator import assert_denied, assert_token_body, current_user, token

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RSA_ID = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
RSA_SECRET = "rsa-client-secret"
EC_IDS = {"ES256": "e256" * 8, "ES384": "e384" * 8, "ES512": "e512" * 8}
EC_SECRET = "ec-client-secret"
EMAIL_ID = "cccccccccccccccccccccccccccccccc"
CERT_ID = "dddddddddddddddddddddddddddddddd"
KID_ID = "ffffffffffffffffffffffffffffffff"
CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}
EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(claims: dict[str, Any], key: Any, alg: str, kid: str | None = None) -> str:
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = (_b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())).encode("ascii")
    digest = HASHES[alg[2:]]
    if alg.startswith("RS"):
        signature = key.sign(signing_input, padding.PKCS1v15(), digest)
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(digest)))
        size = EC_SIZES[alg]
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return signing_input.decode("ascii") + "." + _b64(signature)


def _pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = {alg: ec.generate_private_key(curve) for alg, curve in CURVES.items()}


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwt-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def jwt_emu(tmp_path: Path, keys: Keys, make_emu: Callable[..., Emulator], clock: FakeClock) -> Emulator:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "rsa.pem").write_bytes(_pem(keys.rsa))
    (tmp_path / "keys" / "cert.pem").write_bytes(_self_signed(keys.rsa))
    lines = [
        "[clients.rsa]",
        f'client_id = "{RSA_ID}"',
        f'client_secret = "{RSA_SECRET}"',
        'jwt_public_key_file = "keys/rsa.pem"',
        "",
        "[clients.email]",
        f'client_id = "{EMAIL_ID}"',
        f'client_secret = "{RSA_SECRET}"',
        'jwt_public_key_file = "keys/rsa.pem"',
        'jwt_user_field = "email"',
        "",
        "[clients.cert]",
        f'client_id = "{CERT_ID}"',
        f'client_secret = "{RSA_SECRET}"',
        'jwt_public_key_file = "keys/cert.pem"',
        "",
        "[clients.kid]",
        f'client_id = "{KID_ID}"',
        f'client_secret = "{RSA_SECRET}"',
        'jwt_public_key_file = "keys/rsa.pem"',
        'jwt_key_id = "key-1"',
        "",
        "[clients.plain]",
        'client_id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"',
        'client_secret = "plain-secret"',
        "",
    ]
    for alg, key in keys.ec.items():
        (tmp_path / "keys" / f"{alg}.pem").write_bytes(_pem(key))
        lines += [
            f"[clients.{alg}]",
            f'client_id = "{EC_IDS[alg]}"',
            f'client_secret = "{EC_SECRET}"',
            f'jwt_public_key_file = "keys/{alg}.pem"',
            "",
        ]
    lines += [
        '[users."jwt.user"]',
        'email = "jwt.user@example.com"',
        "",
        '[users."off.user"]',
        "active = false",
        "",
        '[users."locked.jwt"]',
        "locked_out = true",
    ]
    config_file = tmp_path / "emulator.toml"
    config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return make_emu(load_config(config_file))


def claims(clock: FakeClock, client_id: str = RSA_ID, **overrides: Any) -> dict[str, Any]:
    now = int(clock())
    value: dict[str, Any] = {
        "iss": client_id,
        "aud": client_id,
        "sub": "jwt.user",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    for key, item in overrides.items():
        if item is None:
            value.pop(key, None)
        else:
            value[key] = item
    return value


def jwt_grant(
    emu: Emulator,
    assertion: str,
    client_id: str = RSA_ID,
    client_secret: str | None = RSA_SECRET,
    **extra: str,
) -> Any:
    form = {"grant_type": JWT_GRANT, "client_id": client_id, "assertion": assertion, **extra}
    if client_secret is not None:
        form["client_secret"] = client_secret
    return token(emu, **form)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_success(jwt_emu: Emulator, keys: Keys, clock: FakeClock, alg: str) -> None:
    response = jwt_grant(jwt_emu, sign(claims(clock), keys.rsa, alg))
    assert response.status_code == 200
    body = response.json()
    assert_token_body(body, refresh=False)
    assert body["expires_in"] == 1799
    who = current_user(jwt_emu, body["access_token"]).json()["result"]
    assert who["user_name"] == "jwt.user"


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_ec_success(jwt_emu: Emulator, keys: Keys, clock: FakeClock, alg: str) -> None:
    client_id = EC_IDS[alg]
    assertion = sign(claims(clock, client_id), keys.ec[alg], alg)
    response = jwt_grant(jwt_emu, assertion, client_id=client_id, client_secret=EC_SECRET)
    assert response.status_code == 200
    assert_token_body(response.json(), refresh=False)


def test_scope_is_echoed(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    response = jwt_grant(jwt_emu, sign(claims(clock), keys.rsa, "RS256"), scope="other")
    assert response.json()["scope"] == "other"


def test_user_field_email(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    good = claims(clock, EMAIL_ID, sub="jwt.user@example.com")
    assert jwt_grant(jwt_emu, sign(good, keys.rsa, "RS256"), client_id=EMAIL_ID).status_code == 200
    by_name = claims(clock, EMAIL_ID, sub="jwt.user")
    assert_denied(jwt_grant(jwt_emu, sign(by_name, keys.rsa, "RS256"), client_id=EMAIL_ID))


def test_certificate_as_verifier(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    assertion = sign(claims(clock, CERT_ID), keys.rsa, "RS256")
    assert jwt_grant(jwt_emu, assertion, client_id=CERT_ID).status_code == 200


def test_kid_must_match_when_configured(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    good = sign(claims(clock, KID_ID), keys.rsa, "RS256", kid="key-1")
    assert jwt_grant(jwt_emu, good, client_id=KID_ID).status_code == 200
    wrong = sign(claims(clock, KID_ID), keys.rsa, "RS256", kid="key-2")
    assert_denied(jwt_grant(jwt_emu, wrong, client_id=KID_ID))
    missing = sign(claims(clock, KID_ID), keys.rsa, "RS256")
    assert_denied(jwt_grant(jwt_emu, missing, client_id=KID_ID))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "aud"),
        ({"aud": None}, "aud"),
        ({"iss": "someone-else"}, "iss"),
        ({"iss": None}, "iss"),
        ({"sub": "nobody"}, "sub"),
        ({"sub": "off.user"}, "sub"),
        ({"sub": "locked.jwt"}, "sub"),
        ({"sub": None}, "sub"),
        ({"exp": None}, "exp"),
        ({"exp": "tomorrow"}, "exp"),
        ({"iat": None}, "iat"),
        ({"jti": None}, "jti"),
        ({"nbf": 1_800_000_000 + 3600}, "not yet valid"),
    ],
)
def test_claim_failures(
    jwt_emu: Emulator,
    keys: Keys,
    clock: FakeClock,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    assertion = sign(claims(clock, **overrides), keys.rsa, "RS256")
    assert_denied(jwt_grant(jwt_emu, assertion))
    assert reason in jwt_emu.system_log[-1]


def test_expired_assertion(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    assertion = sign(claims(clock), keys.rsa, "RS256")
    clock.advance(301)
    assert_denied(jwt_grant(jwt_emu, assertion))
    assert "expired" in jwt_emu.system_log[-1]


def test_aud_may_be_a_list(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    assertion = sign(claims(clock, aud=["x", RSA_ID]), keys.rsa, "RS256")
    assert jwt_grant(jwt_emu, assertion).status_code == 200


def test_replayed_jti(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    assertion = sign(claims(clock), keys.rsa, "RS256")
    assert jwt_grant(jwt_emu, assertion).status_code == 200
    assert_denied(jwt_grant(jwt_emu, assertion))
    assert "jti already used" in jwt_emu.system_log[-1]


def test_signature_failures(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    other_key = sign(claims(clock), keys.other_rsa, "RS256")
    assert_denied(jwt_grant(jwt_emu, other_key))
    assert "bad signature" in jwt_emu.system_log[-1]

    head, body, sig = sign(claims(clock), keys.rsa, "RS256").split(".")
    tampered_claims = claims(clock, sub="admin")
    tampered = ".".join([head, _b64(json.dumps(tampered_claims).encode()), sig])
    assert_denied(jwt_grant(jwt_emu, tampered))

    unsigned_header = _b64(json.dumps({"alg": "none"}).encode())
    assert_denied(jwt_grant(jwt_emu, f"{unsigned_header}.{body}."))
    hs_header = _b64(json.dumps({"alg": "HS256"}).encode())
    assert_denied(jwt_grant(jwt_emu, f"{hs_header}.{body}.{sig}"))

    # An EC signature presented to the RSA client, and RS256 to an EC client.
    ec_signed = sign(claims(clock), keys.ec["ES256"], "ES256")
    assert_denied(jwt_grant(jwt_emu, ec_signed))
    rs_to_ec = sign(claims(clock, EC_IDS["ES256"]), keys.rsa, "RS256")
    assert_denied(jwt_grant(jwt_emu, rs_to_ec, client_id=EC_IDS["ES256"], client_secret=EC_SECRET))
    for junk in ["", "a.b", "not-a-jwt", "é.é.é", "x.y.z"]:
        assert_denied(jwt_grant(jwt_emu, junk))


def test_client_secret_is_required(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    assert_denied(jwt_grant(jwt_emu, sign(claims(clock), keys.rsa, "RS256"), client_secret=None))
    assert_denied(jwt_grant(jwt_emu, sign(claims(clock), keys.rsa, "RS256"), client_secret="wrong"))


def test_client_without_verifier(jwt_emu: Emulator, keys: Keys, clock: FakeClock) -> None:
    client_id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    assertion = sign(claims(clock, client_id), keys.rsa, "RS256")
    assert_denied(jwt_grant(jwt_emu, assertion, client_id=client_id, client_secret="plain-secret"))


def test_real_clock_by_default(tmp_path: Path, keys: Keys) -> None:
    (tmp_path / "k.pem").write_bytes(_pem(keys.rsa))
    (tmp_path / "c.toml").write_text(
        f'[clients.a]\nclient_id = "{RSA_ID}"\nclient_secret = "{RSA_SECRET}"\n'
        'jwt_public_key_file = "k.pem"\n[users."jwt.user"]\n',
        encoding="utf-8",
    )
    with Emulator(load_config(tmp_path / "c.toml")) as emu:
        now = int(time.time())
        good = {"iss": RSA_ID, "aud": RSA_ID, "sub": "jwt.user", "iat": now, "exp": now + 60}
        good["jti"] = "one"
        assert jwt_grant(emu, sign(good, keys.rsa, "RS256")).status_code == 200
        stale = {**good, "jti": "two", "iat": now - 600, "exp": now - 300}
        assert_denied(jwt_grant(emu, sign(stale, keys.rsa, "RS256")))
