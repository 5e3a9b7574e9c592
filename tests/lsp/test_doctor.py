"""Diagnose Connection through a real LSP client against the emulator: the
``DiagnoseResult``, the admin asked once (one-time prompts), and a failed check shown as a
problem on its key until the text changes or a diagnosis passes."""

from __future__ import annotations

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.doctor import (
    ADMIN_PASSWORD,
    SECRETS,
    AdminAnswers,
    connection,
    doctor_config,
    doctor_problems,
    instance,
    shows_no_secret,
)
from tests.kit.leaks import assert_absent, shown
from tests.kit.lsp import Editor, session_fixture

URI = "file:///tmp/snowauth-doctor/doctor.snowauth.toml"
client = session_fixture(presets=("visual-studio-code", "neovim"), env=SECRETS)


async def diagnose(client: LanguageClient, **arg: object) -> dict[str, object]:
    result = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="snowauth.diagnoseConnection", arguments=[{"uri": URI, **arg}])
    )
    assert isinstance(result, dict)
    shows_no_secret(repr(result))
    return result


def key_at(text: str, d: t.Diagnostic) -> str:
    line = text.splitlines()[d.range.start.line]
    return line[d.range.start.character : d.range.end.character]


async def test_healthy_then_a_locked_user_then_fixed(client: LanguageClient) -> None:
    answers = AdminAnswers(client)
    editor = Editor(client)
    with instance(doctor_config(users={"locked.user": {"locked_out": False}})) as emu:
        editor.open(URI, connection(emu.url))
        result = await diagnose(client, connection="dev")
        assert result["connection"] == "dev" and result["ok"] is True
        checks = result["checks"]
        assert isinstance(checks, list)
        assert [c["status"] for c in checks] == ["pass", "skipped", *["pass"] * 6]
        assert "All good" in str(result["report"]) and "✓" in str(result["report"])
        # the admin was asked once: the user name (shown as typed), then the password
        assert [(a["key"], a.get("once"), a.get("password", True)) for a in answers.asked] == [
            ("admin_username", True, False),
            ("admin_password", True, True),
        ]
        assert await doctor_problems(client, URI, present=False) == []

    # the user is locked out on this instance: the problem goes on `username`
    with instance(doctor_config(users={"integration.user": {"locked_out": True}})) as emu:
        editor.open(URI, connection(emu.url))
        answers.asked.clear()
        result = await diagnose(client, connection="dev")
        assert result["ok"] is False
        failed = [c for c in result["checks"] if c["status"] == "fail"]  # type: ignore[union-attr]
        assert [(c["id"], c.get("key")) for c in failed] == [("user", "username")]
        problems = await doctor_problems(client, URI)
        text = editor.texts[URI]
        on_key = [d for d in problems if key_at(text, d) == "username"]
        assert len(on_key) == 1 and "locked out" in on_key[0].message
        assert on_key[0].severity == t.DiagnosticSeverity.Error
        assert [key_at(text, d) for d in problems if d is not on_key[0]] == ["[connections.dev]"]
        assert emu.token_requests == 0
        # the text of the connection changes: the problem goes
        editor.type(URI, len(text), "# looked at it\n")
        assert await doctor_problems(client, URI, present=False) == []
    assert_absent(shown(client), (ADMIN_PASSWORD,), "the admin's password")


async def test_hibernating_instance_and_no_admin(client: LanguageClient) -> None:
    answers = AdminAnswers(client, answer=False)  # the person cancels the admin's question
    editor = Editor(client)
    with instance() as emu:
        emu.set_mode(hibernating=True)
        editor.open(URI, connection(emu.url))
        result = await diagnose(client, connection="dev")
        assert result["ok"] is False
        checks = result["checks"]
        assert isinstance(checks, list)
        assert [(c["id"], c["status"]) for c in checks] == [
            ("dns", "pass"),
            ("tls", "skipped"),
            ("hibernating", "fail"),
        ]
        assert checks[-1]["key"] == "instance"
        assert len(answers.asked) == 1  # asked before the walk; cancelled, not asked again
        problems = await doctor_problems(client, URI)
        assert any(key_at(editor.texts[URI], d) == "instance" and "hibernating" in d.message for d in problems)
        # awake again: the next diagnosis passes and the problem goes
        emu.set_mode(hibernating=False)
        result = await diagnose(client, connection="dev")
        assert result["ok"] is True
        skipped = [c["id"] for c in result["checks"] if c["status"] == "skipped"]  # type: ignore[union-attr]
        assert skipped == ["tls", "oauth_active", "client", "grant_enabled", "user"]
        assert "needs an admin's rights" in str(result["report"])
        assert await doctor_problems(client, URI, present=False) == []
