"""Attacks through the files beside a connection file: a cloned repository ships a `.env`
that is a symbolic link (to the user's credentials, to `/dev/zero`, to a FIFO), a
`*.snowauth.toml` that is a link to `/dev/zero`, a `.env` line made to make a regular
expression backtrack for hours, a `jwt_key_file` outside the repository, and a `.env` link
that turns the *move to .env* quick fix into a write to `~/.bashrc`. Each one is done for
real: real links and FIFOs, the language server over stdio, the CLI as a subprocess."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from snowauth.secrets import Environment, parse_dotenv, read_dotenv
from tests.kit.cli import run_snowauth
from tests.kit.emulator import password_connection
from tests.kit.lsp import Editor, apply_like_a_client, diagnostics, session_fixture

SERVER_ENV = {"SNOW_S_PASSWORD": "demo-password"}
STOLEN = "stolen-value"
HANG = 20  # seconds: a hang detector, not a performance bound

# pytest knows a fixture by the module attribute holding it
client = session_fixture(presets=("visual-studio-code",), env=SERVER_ENV)
untrusted = session_fixture(presets=("visual-studio-code|untrusted",), env=SERVER_ENV)


def connection(instance: str, secret: str = "${env:SNOW_X}", extra: str = "") -> str:
    return password_connection(instance, secret=secret, password="${env:SNOW_S_PASSWORD}", extra=extra)


def repo_with_linked_dotenv(tmp_path: Path, target: Path | None = None) -> tuple[Path, Path]:
    """repo/.env -> outside/credentials (holding SNOW_X=stolen-value): the repo and the target."""
    outside = tmp_path / "outside"
    outside.mkdir()
    if target is None:
        target = outside / "credentials"
        target.write_text(f"SNOW_X={STOLEN}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".env").symlink_to(target)
    return repo, target


def cli_env() -> dict[str, str]:
    """The test process's environment (its config folder, where the emulator fixture
    registers) without any SNOW_ variable, plus the password the connections use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOW_")}
    return {**env, **SERVER_ENV}


def snowauth(tmp_path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess; a hang is a failure (TimeoutExpired), never a wait."""
    return run_snowauth(*args, env=cli_env(), cwd=cwd, timeout=HANG)


async def prompt(awaitable: Any) -> Any:
    return await asyncio.wait_for(awaitable, HANG)


# -- a .env that links outside the folder ---------------------------------------------------


async def test_server_does_not_read_a_dotenv_linked_outside(
    client: LanguageClient, emulator: Emulator, tmp_path: Path
) -> None:
    repo, _ = repo_with_linked_dotenv(tmp_path)
    uri = (repo / "c.snowauth.toml").as_uri()
    text = connection(emulator.url)
    Editor(client).open(uri, text)
    found = await prompt(diagnostics(client, uri))
    warned = [d for d in found if d.code == "unresolved-reference" and "`SNOW_X`" in d.message]
    assert len(warned) == 1 and "was not read" in warned[0].message
    assert "symbolic link" in warned[0].message
    assert all(STOLEN not in d.message for d in found)
    # completion of `${env:` offers nothing from the refused .env
    line = text.splitlines().index('client_secret = "${env:SNOW_X}"')
    items = await prompt(
        client.text_document_completion_async(
            t.CompletionParams(t.TextDocumentIdentifier(uri), t.Position(line, len('client_secret = "${env:')))
        )
    )
    labels = [i.label for i in (items.items if isinstance(items, t.CompletionList) else items or [])]
    assert "SNOW_S_PASSWORD" in labels and "SNOW_X" not in labels
    with pytest.raises(JsonRpcException, match="was not read"):
        await prompt(
            client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
            )
        )
    assert emulator.token_requests == 0


def test_cli_token_does_not_read_a_dotenv_linked_outside(emulator: Emulator, tmp_path: Path) -> None:
    repo, target = repo_with_linked_dotenv(tmp_path)
    path = repo / "c.snowauth.toml"
    path.write_text(connection(emulator.url), encoding="utf-8")
    out = snowauth(tmp_path, "token", str(path))
    assert out.returncode == 1 and "was not read" in out.stderr and "symbolic link" in out.stderr
    assert STOLEN not in out.stdout + out.stderr
    assert emulator.token_requests == 0
    # the same line in a regular .env is read and sent: the setup above would have sent it
    (repo / ".env").unlink()
    shutil.copyfile(target, repo / ".env")
    out = snowauth(tmp_path, "token", str(path))
    assert emulator.token_requests == 1 and STOLEN not in out.stdout + out.stderr


# -- denial of service through .env and connection files ------------------------------------


def _dotenv_attack(kind: str, tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    if kind == "dev-zero":
        (repo / ".env").symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(repo / ".env")
    else:  # a line that makes a backtracking regular expression take hours
        (repo / ".env").write_text("SNOW_Q=x" + " " * 100_000 + "y\n", encoding="utf-8")
    return repo


DOTENV_ATTACKS = ["dev-zero", "fifo", "backtracking-line"]
REASONS = {
    "dev-zero": "symbolic link to `/dev/zero`",
    "fifo": "it is a FIFO (named pipe), not a regular file",
    "backtracking-line": "not set in the environment or the .env file beside this file",
}


@pytest.mark.parametrize("kind", DOTENV_ATTACKS)
async def test_server_answers_despite_a_hostile_dotenv(kind: str, untrusted: LanguageClient, tmp_path: Path) -> None:
    repo = _dotenv_attack(kind, tmp_path)
    uri = (repo / "c.snowauth.toml").as_uri()
    text = connection("https://dev12345.service-now.com", secret="${env:SNOW_Y}")
    Editor(untrusted).open(uri, text)
    found = await prompt(diagnostics(untrusted, uri))
    warned = [d for d in found if d.code == "unresolved-reference" and "`SNOW_Y`" in d.message]
    assert len(warned) == 1
    assert ("was not read" in warned[0].message) == (kind != "backtracking-line")
    assert REASONS[kind] in warned[0].message
    line = text.splitlines().index('client_secret = "${env:SNOW_Y}"')
    hover = await prompt(
        untrusted.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(line, 3)))
    )
    assert hover is not None and "client secret" in str(hover.contents).lower()


@pytest.mark.parametrize("kind", DOTENV_ATTACKS)
def test_check_finishes_despite_a_hostile_dotenv(kind: str, tmp_path: Path) -> None:
    repo = _dotenv_attack(kind, tmp_path)
    path = repo / "c.snowauth.toml"
    path.write_text(connection("https://dev12345.service-now.com", secret="${env:SNOW_Y}"), encoding="utf-8")
    out = snowauth(tmp_path, "check", str(repo))
    assert out.returncode == 0, out.stderr
    assert "SNOW_Y" in out.stdout and "[unresolved-reference]" in out.stdout
    assert ("was not read" in out.stdout) == (kind != "backtracking-line")
    assert REASONS[kind].replace("`", "") in out.stdout  # text output drops markdown backticks


def test_check_refuses_connection_files_that_are_not_regular_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "zero.snowauth.toml").symlink_to("/dev/zero")
    os.mkfifo(repo / "fifo.snowauth.toml")
    (repo / "loop").symlink_to(repo, target_is_directory=True)  # os.walk must not go round
    (repo / "ok.snowauth.toml").write_text(connection("https://dev12345.service-now.com"), encoding="utf-8")
    out = snowauth(tmp_path, "check", str(repo))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    rows = [r for r in out.stdout.splitlines() if "[unreadable]" in r]
    assert len(rows) == 2 and all("not a regular file" in r for r in rows)
    assert any("zero.snowauth.toml" in r for r in rows) and any("fifo.snowauth.toml" in r for r in rows)
    assert "ok.snowauth.toml" in out.stdout
    out = snowauth(tmp_path, "token", str(repo / "zero.snowauth.toml"))
    assert out.returncode == 1 and "not a regular file" in out.stderr and "Traceback" not in out.stderr


# -- the move-to-.env quick fix -------------------------------------------------------------


async def move_fixes(client: LanguageClient, uri: str) -> list[t.CodeAction]:
    found = await prompt(diagnostics(client, uri))
    literal = [d for d in found if d.code == "literal-secret"]
    assert len(literal) == 1
    actions = await prompt(
        client.text_document_code_action_async(
            t.CodeActionParams(
                t.TextDocumentIdentifier(uri), literal[0].range, t.CodeActionContext(diagnostics=literal)
            )
        )
    )
    return [a for a in actions or [] if isinstance(a, t.CodeAction) and a.edit is not None]


async def test_move_to_dotenv_never_writes_through_a_link(client: LanguageClient, tmp_path: Path) -> None:
    bashrc = tmp_path / "home" / ".bashrc"
    bashrc.parent.mkdir()
    bashrc.write_bytes(b"# the user's shell start-up file\nalias ll='ls -l'\n")
    before = bashrc.read_bytes()
    repo, _ = repo_with_linked_dotenv(tmp_path, target=bashrc)
    path = repo / "c.snowauth.toml"
    uri = path.as_uri()
    text = connection("https://dev12345.service-now.com", secret="touch-nothing")
    path.write_text(text, encoding="utf-8")
    editor = Editor(client)
    editor.open(uri, text)
    actions = await move_fixes(client, uri)
    for action in actions:
        assert action.edit is not None
        apply_like_a_client(action.edit, editor)
    assert bashrc.read_bytes() == before
    assert (repo / ".env").is_symlink()
    found = await prompt(diagnostics(client, uri))
    literal = [d for d in found if d.code == "literal-secret"]
    assert len(literal) == 1 and "symbolic link" in literal[0].message


NASTY = [
    "$(touch {marker})",
    "`touch {marker}`",
    "it's $(touch {marker})",
    "it's `touch {marker}`",
    "it's \\$(touch {marker}) \\`touch {marker}\\`",
    "x'y\"z\\w$HOME ${{HOME}} # not a comment",
    '"double" and \\back\\slash\\',
    "'",
    "# only a comment?",
    "  spaced  ",
    "ü\u2028\u0085x",
    "two\nlines $(touch {marker})",
    "carriage\rreturn `touch {marker}`",
]


@pytest.mark.parametrize("template", NASTY)
def test_dotenv_quoting_round_trips_and_runs_nothing_in_bash(template: str, tmp_path: Path) -> None:
    from snowauth.secrets import dotenv_quote as _dotenv_quote

    marker = tmp_path / "marker"
    value = template.format(marker=marker)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".env").write_text(f"# comment\nSNOW_V={_dotenv_quote(value)}\nSNOW_AFTER=ok\n", encoding="utf-8")
    assert read_dotenv(repo) == {"SNOW_V": value, "SNOW_AFTER": "ok"}
    script = 'set -a; source ./.env; printf "%s" "$SNOW_V"; printf "|%s" "$SNOW_AFTER"'
    out = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True, timeout=HANG, check=False)
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    if "\n" not in value and "\r" not in value:  # bash reads `\n` in double quotes as two characters
        assert out.stdout == f"{value}|ok"
    else:
        assert out.stdout.endswith("|ok")


async def test_move_to_dotenv_writes_a_value_shells_do_not_run(client: LanguageClient, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    value = f'it\'s $(touch {marker}) `touch {marker}` "q" \\ # end'
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "c.snowauth.toml"
    uri = path.as_uri()
    text = connection("https://dev12345.service-now.com", secret=value)
    editor = Editor(client)
    editor.open(uri, text)
    actions = await move_fixes(client, uri)
    assert len(actions) == 1 and actions[0].edit is not None
    apply_like_a_client(actions[0].edit, editor)
    assert '"${env:SNOW_DEV_CLIENT_SECRET}"' in path.read_text(encoding="utf-8")
    assert parse_dotenv((repo / ".env").read_text(encoding="utf-8")) == {"SNOW_DEV_CLIENT_SECRET": value}
    script = 'set -a; source ./.env; printf "%s" "$SNOW_DEV_CLIENT_SECRET"'
    out = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True, timeout=HANG, check=False)
    assert out.returncode == 0 and out.stdout == value
    assert not marker.exists()


# -- key and CA files outside the folder ----------------------------------------------------


def jwt_connection(key: str) -> str:
    return f"""[connections.jwt]
instance = "https://dev12345.service-now.com"
grant_type = "jwt_bearer"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_S_PASSWORD}}"
jwt_key_file = "{key}"
jwt_subject = "integration.user"
"""


async def test_a_key_file_outside_the_folder_is_flagged(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "outside.pem").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "c.snowauth.toml"
    text = jwt_connection("../outside.pem")
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    Editor(client).open(uri, text)
    found = await prompt(diagnostics(client, uri))
    flagged = [d for d in found if d.code == "file-outside-roots"]
    assert [d.range.start.line for d in flagged] == [text.splitlines().index('jwt_key_file = "../outside.pem"')]
    assert "outside the folders snowauth may read" in flagged[0].message
    out = snowauth(tmp_path, "check", str(path))
    rows = [r for r in out.stdout.splitlines() if r.endswith("[file-outside-roots]")]
    assert len(rows) == 1 and "jwt_key_file reads ../outside.pem" in rows[0], out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("key", ["jwt_key_file", "client_secret"])
def test_cli_token_refuses_a_fifo_key_or_secret_file(key: str, emulator: Emulator, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    os.mkfifo(repo / "key.pem")  # opening a FIFO to read waits for a writer: for ever
    if key == "jwt_key_file":
        text = jwt_connection("key.pem").replace("https://dev12345.service-now.com", emulator.url)
    else:
        text = connection(emulator.url, secret="${file:key.pem}")
    (repo / "c.snowauth.toml").write_text(text, encoding="utf-8")
    out = snowauth(tmp_path, "token", str(repo / "c.snowauth.toml"))
    assert out.returncode == 1 and "FIFO (named pipe), not a regular file" in out.stderr, out.stderr
    assert emulator.token_requests == 0


def test_dotenv_links_inside_the_allowed_folders_are_read_and_size_is_bounded(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "env").mkdir(parents=True)
    (repo / "env" / "dev.env").write_text("SNOW_A=inside\n", encoding="utf-8")
    (repo / ".env").symlink_to("env/dev.env")
    assert read_dotenv(repo) == {"SNOW_A": "inside"}
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "team.env").write_text("SNOW_A=listed\n", encoding="utf-8")
    (repo / ".env").unlink()
    (repo / ".env").symlink_to(shared / "team.env")
    assert read_dotenv(repo) == {}
    assert read_dotenv(repo, {"SNOWAUTH_FILE_ROOTS": str(shared)}) == {"SNOW_A": "listed"}
    (repo / ".env").unlink()
    (repo / ".env").write_text("SNOW_A=big\n" + "#" * (1 << 20), encoding="utf-8")
    env = Environment({}, repo)
    assert env.dotenv == {} and env.dotenv_refused is not None and "larger than 1 MiB" in env.dotenv_refused
