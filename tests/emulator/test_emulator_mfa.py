"""MFA for integrations on the emulated instance (glide.authenticate.multifactor.for_integrations,
docs/servicenow.md "MFA"): API logins of an enrolled user (the password grant, REST Basic
auth) take the password followed by the one-time code; a missing or wrong code is the usual
401 with its reason in syslog; the interactive login form and users not enrolled are not
affected; the property switches it at once."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from snowauth import instance_records as ir
from snowauth.emulator import Emulator
from snowauth.emulator.config import ConfigError, parse_config
from tests.kit.emulator import (
    ADMIN,
    ADMIN_PASSWORD,
    HTTP,
    USER,
    USER_PASSWORD,
    assert_denied,
    emulator_config,
    password_grant,
    syslog_messages,
    table_api,
    table_rows,
)

CODE = "602214"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(emulator_config(mfa_code=CODE)) as emulator:
        yield emulator


def basic(emu: Emulator, user: str, password: str) -> int:
    header = base64.b64encode(f"{user}:{password}".encode()).decode()
    response = HTTP.get(f"{emu.url}/api/now/table/sys_user", headers={"Authorization": f"Basic {header}"})
    return response.status_code


def test_the_password_grant_wants_the_code_after_the_password(emu: Emulator) -> None:
    assert_denied(password_grant(emu))
    reason = f"password grant: MFA for integrations: no one-time code after the password of {USER}"
    assert syslog_messages(emu)[0] == f"{ir.TOKEN_FLOW_EXCEPTION} - {reason}"
    assert_denied(password_grant(emu, password=USER_PASSWORD + "000000"))
    assert "wrong one-time code" in syslog_messages(emu)[0]
    assert_denied(password_grant(emu, password="not-the-password" + CODE))
    assert "wrong password" in syslog_messages(emu)[0]
    assert password_grant(emu, password=USER_PASSWORD + CODE).status_code == 200
    assert all(CODE not in m and USER_PASSWORD not in m for m in syslog_messages(emu))


def test_basic_auth_too_and_users_not_enrolled_are_not_affected(emu: Emulator) -> None:
    assert basic(emu, USER, USER_PASSWORD) == 401
    assert basic(emu, USER, USER_PASSWORD + CODE) == 200
    assert basic(emu, ADMIN, ADMIN_PASSWORD) == 200  # not enrolled


def test_the_property_switches_it(emu: Emulator) -> None:
    rows = table_rows(emu, ir.SYS_PROPERTIES, sysparm_query=f"name={ir.PROP_MFA_FOR_INTEGRATIONS}")
    assert [r[ir.PROPERTY_VALUE] for r in rows] == ["true"]
    changed = table_api(emu, "PATCH", ir.SYS_PROPERTIES, rows[0]["sys_id"], body={ir.PROPERTY_VALUE: "false"})
    assert changed.status_code == 200
    assert password_grant(emu).status_code == 200  # the password alone again
    assert password_grant(emu, password=USER_PASSWORD + CODE).status_code == 401


def test_the_config_keys() -> None:
    config = parse_config(
        {"properties": {"mfa_for_integrations": True}, "users": {"u": {"password": "p", "mfa_code": "1"}}}
    )
    assert config.mfa_for_integrations and config.users["u"].mfa_code == "1"
    with pytest.raises(ConfigError, match="mfa_for_integrations"):
        parse_config({"properties": {"mfa_for_integrations": "yes"}})
