"""`snowauth doctor` as a subprocess against the emulator over loopback HTTP (and HTTPS),
each link of the chain broken for real on the instance: the checklist, the exit status,
the JSON, and no secret in any output."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import trustme

from snowauth.emulator import Emulator
from snowauth.instance_records import PROP_CLIENT_CREDENTIALS_ENABLED, PROP_OAUTH_ACTIVE, PROP_PASSWORD_GRANT_DISABLED
from tests.kit.cli import run_snowauth
from tests.kit.doctor import (
    ADMIN,
    ADMIN_PASSWORD,
    SECRETS,
    UNKNOWN_ID,
    authcode_connection,
    connection,
    doctor,
    doctor_config,
    instance,
    shows_no_secret,
    statuses,
    tls_files,
    write,
)
from tests.kit.emulator import DEMO_ID, NOAPP_ID

ORDER = ["dns", "tls", "hibernating", "oauth_active", "client", "grant_enabled", "user", "token", "syslog"]
ADMIN_CHECKS = ["oauth_active", "client", "grant_enabled", "user"]


def _broken(path: Path, failing: str, key: str | None, *phrases: str, **env: str) -> dict[str, Any]:
    """Run the doctor twice (text, JSON) and check the walk stopped at ``failing``."""
    text = doctor(path, **env)
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    crossed = [line for line in lines if line.startswith("✗")]
    assert len(crossed) == 1, text.stdout
    assert lines[-1] == f"Broken link: {failing}." or lines[-1].startswith(f"Broken link: {failing}. Skipped:")
    for phrase in phrases:
        assert phrase in crossed[0], crossed[0]
    out = doctor(path, "--format", "json", **env)
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] is False
    ids = [c["id"] for c in data["checks"]]
    assert ids == ORDER[: len(ids)]  # in chain order, and nothing after the broken link
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert [c["id"] for c in failed] == [failing]
    assert failed[0].get("key") == key
    assert ids[-1] == failing or (failing == "token" and ids[-1] == "syslog")
    shows_no_secret(text.stdout, text.stderr, out.stdout, out.stderr)
    for name, value in env.items():
        if "PASSWORD" in name or "SECRET" in name:
            assert value not in text.stdout + text.stderr + out.stdout + out.stderr
    return data


def test_all_good_on_a_healthy_connection(tmp_path: Path) -> None:
    with instance(doctor_config(client_credentials_enabled=True)) as emu:
        for grant in ("password", "client_credentials"):
            path = write(tmp_path, connection(emu.url, grant))
            out = doctor(path)
            assert out.returncode == 0, out.stdout + out.stderr
            lines = out.stdout.splitlines()
            assert lines[-1].startswith(f"All good: dev gets a token from {emu.url}.")
            assert [line[0] for line in lines[1:-1]] == ["✓", "–", "✓", "✓", "✓", "✓", "✓", "✓"]  # tls: http://
            assert statuses(doctor(path, "--format", "json")) == {
                **dict.fromkeys(ORDER[:8], "pass"),
                "tls": "skipped",
            }
            shows_no_secret(out.stdout, out.stderr)
        assert not [line for line in emu.system_log if ADMIN_PASSWORD in line]


def test_dns(tmp_path: Path) -> None:
    path = write(tmp_path, connection("https://snowauth-doctor.invalid"))
    data = _broken(
        path,
        "dns",
        "instance",
        "snowauth-doctor.invalid could not be resolved",
        SNOWAUTH_TRUSTED_HOSTS="snowauth-doctor.invalid",
    )
    assert len(data["checks"]) == 1


def test_tls_untrusted_then_verified_with_ca_bundle(tmp_path: Path) -> None:
    ca = trustme.CA()
    with instance(tls=tls_files(ca, tmp_path)) as emu:
        path = write(tmp_path, connection(emu.url))
        _broken(path, "tls", "ca_bundle", "could not be verified", "set ca_bundle")
        ca.cert_pem.write_to_path(str(tmp_path / "private-ca.pem"))
        trusted = write(tmp_path, connection(emu.url, extra='ca_bundle = "private-ca.pem"\n'))
        out = doctor(trusted, "--format", "json")
        assert out.returncode == 0, out.stdout + out.stderr
        checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
        assert checks["tls"]["status"] == "pass" and "private-ca.pem" in checks["tls"]["message"]
        assert checks["token"]["status"] == "pass"


def test_hibernating(tmp_path: Path) -> None:
    with instance() as emu:
        emu.set_mode(hibernating=True)
        path = write(tmp_path, connection(emu.url))
        _broken(path, "hibernating", "instance", "is hibernating", "developer portal")
        assert emu.token_requests == 0


# (the instance's break, the connection, the link that breaks, its key, what it says)
BREAKS: dict[str, tuple[dict[str, Any], dict[str, Any], str, str | None, tuple[str, ...]]] = {
    "oauth_inactive": ({"oauth_active": False}, {}, "oauth_active", None, (PROP_OAUTH_ACTIVE, "is false")),
    "unknown_client": ({}, {"client_id": UNKNOWN_ID}, "client", "client_id", (UNKNOWN_ID, "snowauth register")),
    "inactive_client": (
        {"clients": {"demo": {"active": False}}},
        {},
        "client",
        "client_id",
        ("is inactive", "Tick Active"),
    ),
    "client_credentials_without_application_user": (
        {"client_credentials_enabled": True},
        {"grant": "client_credentials", "client_id": NOAPP_ID},
        "client",
        "client_id",
        ("OAuth Application User",),
    ),
    "client_credentials_property_off": (
        {},
        {"grant": "client_credentials"},
        "grant_enabled",
        "grant_type",
        (PROP_CLIENT_CREDENTIALS_ENABLED, "is off"),
    ),
    "password_grant_disabled": (
        {"password_grant_disabled": True},
        {},
        "grant_enabled",
        "grant_type",
        (PROP_PASSWORD_GRANT_DISABLED, "is true"),
    ),
    "user_unknown": ({}, {"username": "nobody.here"}, "user", "username", ("No user has the user name",)),
    "user_locked_out": ({}, {"username": "locked.user"}, "user", "username", ("locked out",)),
    "user_inactive": ({}, {"username": "inactive.user"}, "user", "username", ("is inactive",)),
    "user_web_service_only": ({}, {"username": "web.only"}, "user", "username", ("Web service access only",)),
    "application_user_inactive": (
        {"client_credentials_enabled": True, "users": {"svc.integration": {"active": False}}},
        {"grant": "client_credentials"},
        "user",
        "client_id",
        ("svc.integration", "is inactive"),
    ),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_broken_record_stops_the_walk_there(tmp_path: Path, name: str) -> None:
    config, conn, failing, key, phrases = BREAKS[name]
    with instance(doctor_config(**config)) as emu:
        path = write(tmp_path, connection(emu.url, **conn))
        data = _broken(path, failing, key, *phrases)
        assert emu.token_requests == 0  # the grant never ran: nothing counted toward a lockout
        assert all(c["status"] == "pass" for c in data["checks"][: ORDER.index(failing)] if c["id"] != "tls")


def test_redirect_not_registered(tmp_path: Path) -> None:
    with instance() as emu:
        unregistered = "http://127.0.0.1:53999/elsewhere"
        path = write(tmp_path, authcode_connection(emu.url, unregistered))
        _broken(path, "client", "redirect_uri", unregistered, "first one", "Redirect URL")
        # no client_secret, but the record is a confidential client
        confidential = write(tmp_path, authcode_connection(emu.url, client_id=DEMO_ID))
        _broken(confidential, "client", "client_secret", "not a public client", "Public Client")
        fine = write(tmp_path, authcode_connection(emu.url))
        out = doctor(fine, "--format", "json")
        assert out.returncode == 0, out.stdout + out.stderr
        token = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "token")
        assert token["status"] == "skipped" and "Fetch Token" in token["message"]


def test_token_refused_quotes_the_system_log(tmp_path: Path) -> None:
    with instance() as emu:
        path = write(tmp_path, connection(emu.url))
        data = _broken(
            path,
            "token",
            "password",
            "rejected the password grant",
            "The instance's system log",
            "Exception on token flow",
            SNOW_D_PASSWORD="wrong-Password-b41c",
        )
        assert [c["id"] for c in data["checks"]][-2:] == ["token", "syslog"]
        assert data["checks"][-1]["status"] == "pass"


def test_without_an_admin_the_record_checks_are_skipped_and_listed(tmp_path: Path) -> None:
    with instance() as emu:
        path = write(tmp_path, connection(emu.url))
        for args, admin, reason in (
            (("--no-admin",), True, "--no-admin"),
            ((), False, "SNOW_ADMIN_USER"),
        ):
            out = doctor(path, *args, admin=admin)
            assert out.returncode == 0, out.stdout + out.stderr  # skipped is not failed
            last = out.stdout.splitlines()[-1]
            assert last.startswith("All good") and last.endswith(
                "Skipped: tls, oauth_active, client, grant_enabled, user."
            )
            assert reason in out.stdout
            data = json.loads(doctor(path, "--format", "json", *args, admin=admin).stdout)
            skipped = [c["id"] for c in data["checks"] if c["status"] == "skipped"]
            assert skipped == ["tls", *ADMIN_CHECKS] and data["ok"] is True
        # a user without the admin role: 403, skipped with the reason
        out = doctor(path, "--format", "json", SNOW_ADMIN_USER="integration.user", SNOW_ADMIN_PASSWORD="demo-password")
        checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
        assert checks["oauth_active"]["status"] == "skipped"
        assert "lacks the admin role" in checks["oauth_active"]["message"]
        assert checks["token"]["status"] == "pass"
        shows_no_secret(out.stdout, out.stderr)


def test_usage_errors_exit_2(tmp_path: Path, emulator: Emulator) -> None:
    path = write(tmp_path, connection(emulator.url))
    out = doctor(path, "--format", "yaml")
    assert out.returncode == 2 and "invalid choice" in out.stderr
    missing = doctor(tmp_path / "nope.snowauth.toml")
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_the_admin_from_another_connection_of_the_file(tmp_path: Path) -> None:
    with instance() as emu:
        admin = connection(emu.url, username=ADMIN).replace("[connections.dev]", "[connections.admin]")
        admin = admin.replace("${env:SNOW_D_PASSWORD}", "${env:SNOW_D_ADMIN}")
        path = write(tmp_path, connection(emu.url) + "\n" + admin)
        first = run_snowauth(
            "token",
            str(path),
            "--connection",
            "admin",
            env={
                **os.environ,
                **SECRETS,
                "SNOW_D_ADMIN": ADMIN_PASSWORD,
                "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache"),
            },
        )
        assert first.returncode == 0, first.stderr
        out = doctor(path, "--connection", "dev", "--admin-connection", "admin", "--format", "json", admin=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert set(statuses(out).values()) == {"pass", "skipped"} and statuses(out)["client"] == "pass"
        shows_no_secret(out.stdout, out.stderr)


def test_nothing_answers(tmp_path: Path) -> None:
    with instance() as emu:
        url = emu.url
    # the instance is gone: over http:// the walk stops at the instance answering
    path = write(tmp_path, connection(url))
    _broken(path, "hibernating", "instance", "No instance answered", SNOWAUTH_TRUSTED_HOSTS="127.0.0.1")
