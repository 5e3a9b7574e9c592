"""The built-in demo config and the config file format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from snowauth.emulator import (
    ClientRecord,
    ConfigError,
    Emulator,
    EmulatorConfig,
    UserRecord,
    config_shapes,
    default_config,
    load_config,
)
from snowauth.emulator.config import parse_config
from tests.kit.fuzz import FUZZ, marked_json


def test_default_properties() -> None:
    config = default_config()
    assert isinstance(config, EmulatorConfig)
    assert config.client_credentials_enabled is False
    assert config.lockout_threshold == 5
    assert config.auto_approve_user is None
    assert config.code_lifespan == 60


def test_default_clients() -> None:
    clients = default_config().clients
    demo = clients["demo"]
    assert isinstance(demo, ClientRecord)
    assert demo.client_id == "0123456789abcdef0123456789abcdef"
    assert demo.client_secret == "demo-client-secret"
    assert demo.redirect_uris == (
        "http://127.0.0.1:53682/callback",
        "http://localhost:53682/callback",
    )
    assert demo.application_user == "svc.integration"
    assert (demo.access_token_lifespan, demo.refresh_token_lifespan) == (1800, 8640000)
    assert demo.public is False

    public = clients["public"]
    assert public.client_id == "fedcba9876543210fedcba9876543210"
    assert public.public is True
    assert public.client_secret is None
    assert public.redirect_uris == ("http://127.0.0.1:53682/callback",)

    noapp = clients["noappuser"]
    assert noapp.client_id == "11111111111111111111111111111111"
    assert noapp.client_secret == "noappuser-secret"
    assert noapp.application_user is None
    assert all(c.jwt_public_key_pem is None for c in clients.values())


def test_default_users() -> None:
    users = default_config().users
    assert set(users) == {
        "integration.user",
        "admin",
        "svc.integration",
        "locked.user",
        "inactive.user",
        "web.only",
    }
    assert users["integration.user"].password == "demo-password"
    assert users["integration.user"].active and not users["integration.user"].locked_out
    assert users["admin"].password == "admin-password"
    assert users["svc.integration"].password is None
    assert users["locked.user"].locked_out is True
    assert users["inactive.user"].active is False
    assert users["web.only"].web_service_only is True
    for user in users.values():
        assert isinstance(user, UserRecord)
        assert re.fullmatch(r"[0-9a-f]{32}", user.sys_id)
        assert user.first_name and user.last_name and "@" in user.email
    assert len({u.sys_id for u in users.values()}) == len(users)


def test_secrets_are_not_in_reprs() -> None:
    config = default_config()
    assert "demo-client-secret" not in repr(config.clients["demo"])
    assert "demo-password" not in repr(config.users["integration.user"])


def test_user_sys_id_is_derived_when_absent() -> None:
    user = UserRecord(user_name="someone")
    assert re.fullmatch(r"[0-9a-f]{32}", user.sys_id)
    assert UserRecord(user_name="someone").sys_id == user.sys_id


def _public_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_load_config_resolves_key_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    pem = _public_key_pem()
    (tmp_path / "keys" / "jwt.pem").write_bytes(pem)
    config_file = tmp_path / "emu.toml"
    config_file.write_text(
        """
[properties]
client_credentials_enabled = true
lockout_threshold = 3
auto_approve_user = "bob"
code_lifespan = 5

[clients.jwt]
client_id = "abcdefabcdefabcdefabcdefabcdefab"
client_secret = "s3cr3t"
jwt_public_key_file = "keys/jwt.pem"
jwt_user_field = "email"
jwt_key_id = "k1"
scopes = ["useraccount", "other"]
access_token_lifespan = 10

[users.bob]
password = "pw"
email = "bob@example.com"
""",
        encoding="utf-8",
    )
    config = load_config(config_file)
    assert config.client_credentials_enabled is True
    assert config.lockout_threshold == 3
    assert config.auto_approve_user == "bob"
    assert config.code_lifespan == 5
    client = config.clients["jwt"]
    assert client.jwt_public_key_pem == pem
    assert client.jwt_public_key_file == str(tmp_path.resolve() / "keys" / "jwt.pem")
    assert client.jwt_user_field == "email"
    assert client.jwt_key_id == "k1"
    assert client.scopes == ("useraccount", "other")
    assert client.access_token_lifespan == 10
    assert client.refresh_token_lifespan == 8640000
    assert config.users["bob"].email == "bob@example.com"
    assert config.client_by_id("abcdefabcdefabcdefabcdefabcdefab") is client
    assert config.client_by_id("nope") is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[properties]\nlockout_treshold = 3\n", "properties.lockout_treshold"),
        ("[properties]\nclient_credentials_enabled = 'yes'\n", "properties.client_credentials"),
        ("[properties]\nlockout_threshold = -1\n", "properties.lockout_threshold"),
        ("[properties]\nauto_approve_user = 'ghost'\n", "properties.auto_approve_user"),
        ("[clients.a]\nclient_secret = 'x'\n", "clients.a.client_id"),
        ("[clients.a]\nclient_id = 'x'\n", "clients.a.client_secret"),
        ("[clients.a]\nclient_id = 'x'\npublic = true\nclient_secret = 'y'\n", "client_secret"),
        ("[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\nredirect_uris = 'u'\n", "redirect"),
        ("[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\nsecret = 'z'\n", "clients.a.secret"),
        (
            "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\napplication_user = 'ghost'\n",
            "clients.a.application_user",
        ),
        (
            "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\naccess_token_lifespan = 0\n",
            "clients.a.access_token_lifespan",
        ),
        (
            "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\njwt_user_field = 'phone'\n",
            "clients.a.jwt_user_field",
        ),
        (
            "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\njwt_public_key_file = 'no.pem'\n",
            "clients.a.jwt_public_key_file",
        ),
        (
            "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\n[clients.b]\nclient_id = 'x'\nclient_secret = 'z'\n",
            "clients.b.client_id",
        ),
        ("[api_scopes]\n'/x' = 'y'\n", "api_scopes./x"),
        ("[api_scopes]\n'/api/now' = 3\n", "api_scopes./api/now"),
        ("[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\njwt_clock_skew = -1\n", "clients.a.jwt_clock_skew"),
        ("[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\njwt_check_issuer = 'no'\n", "jwt_check_issuer"),
        ("[users.u]\nactive = 1\n", "users.u.active"),
        ("[users.u]\nsys_id = 'XYZ'\n", "users.u.sys_id"),
        ("[users.u]\nrole = 'admin'\n", "users.u.role"),
        ("users = 3\n", "users"),
        ("[servers]\n", "servers"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    config_file = tmp_path / "bad.toml"
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_file)
    message = str(info.value)
    assert message.startswith(f"{config_file}: ")
    assert key in message


def test_api_scopes_and_the_jwt_verifier_keys(tmp_path: Path) -> None:
    config_file = tmp_path / "emu.toml"
    config_file.write_text(
        """
[api_scopes]
"/api/now/table" = "table_api"

[clients.hs]
client_id = "abcdefabcdefabcdefabcdefabcdefab"
public = true
jwt_shared_key = "a-shared-key-for-the-hmac-algorithms"
jwt_audience = "https://example.service-now.com/oauth_token.do"
jwt_check_issuer = false
jwt_clock_skew = 300
""",
        encoding="utf-8",
    )
    config = load_config(config_file)
    assert config.api_scopes == {"/api/now/table": "table_api"}
    client = config.clients["hs"]
    assert client.jwt_shared_key == "a-shared-key-for-the-hmac-algorithms"
    assert "a-shared-key-for-the-hmac-algorithms" not in repr(client)
    assert client.jwt_audience == "https://example.service-now.com/oauth_token.do"
    assert (client.jwt_check_issuer, client.jwt_clock_skew) == (False, 300)
    assert default_config().api_scopes == {}


def test_key_file_that_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a key", encoding="utf-8")
    config_file = tmp_path / "c.toml"
    config_file.write_text(
        "[clients.a]\nclient_id = 'x'\nclient_secret = 'y'\njwt_public_key_file = 'junk.pem'\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_config(config_file)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[properties\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{broken}: not valid TOML")):
        load_config(broken)
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match=re.escape(f"{missing}: cannot read")):
        load_config(missing)


def test_emulator_rejects_unknown_approver() -> None:
    with pytest.raises(ValueError, match="ghost"):
        Emulator(auto_approve_user="ghost")
    emulator = Emulator()
    with pytest.raises(ValueError, match="ghost"):
        emulator.approve_next_authorization("ghost")


def test_url_needs_start() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError):
        _ = emulator.url
    emulator.stop()  # stopping an unstarted emulator is harmless


def _tables(fields: list[str]) -> st.SearchStrategy[object]:
    """A table of the config: its own keys (and an unknown one) with any value."""
    value = marked_json("v")
    return st.dictionaries(st.sampled_from([*fields, "unknown_key"]), value, max_size=4) | value


def _named(fields: list[str]) -> st.SearchStrategy[object]:
    """``[clients.NAME]`` or ``[users.NAME]`` tables, or anything else."""
    return st.dictionaries(st.text(max_size=4), _tables(fields), max_size=3) | marked_json("v")


CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "properties": _tables(list(config_shapes.Properties.model_fields)),
        "clients": _named(list(config_shapes.Client.model_fields)),
        "users": _named(list(config_shapes.User.model_fields)),
        "api_scopes": marked_json("v"),
        "servers": marked_json("v"),
    },
)


@FUZZ
@given(data=CONFIGS)
def test_any_config_is_read_or_refused_with_the_key_named(data: dict[str, object]) -> None:
    try:
        parse_config(data, source="fuzz.toml")
    except ConfigError as exc:
        source, key, what = str(exc).split(": ", 2)
        assert source == "fuzz.toml" and key and what
