"""Secrets moved to `.env`, and token tables, stay out of git: the move-to-.env fix adds
`.env` to the `.gitignore` beside it when git would not ignore it, and the tokens-in-git
warning offers "Add … to .gitignore" and `token_store = "cache"`. Real git repositories,
the real language server over stdio, edits written to disk like an editor does."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.analysis import analyze
from tests.kit.git import git, make_repo
from tests.kit.lsp import Editor, apply_like_a_client, diagnostics, session_fixture

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

client = session_fixture(presets=("visual-studio-code",))
untrusted = session_fixture(presets=("visual-studio-code|untrusted",))

LITERAL = """[connections.dev]
instance = "https://dev12345.service-now.com"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "s3cr3t-value"
"""

WITH_TOKEN = """[connections.dev]
instance = "https://dev12345.service-now.com"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_DEV_CLIENT_SECRET}"

[connections.dev.token]
access_token = "abc"
token_type = "Bearer"
expires_at = 2099-01-01T00:00:00Z
"""


def ignored(repo: Path, name: str) -> bool:
    return git(repo, "check-ignore", "-q", "--", name, check=False).returncode == 0


def edit_uris(action: t.CodeAction) -> list[str]:
    assert action.edit is not None
    out = []
    for op in action.edit.document_changes or []:
        if isinstance(op, t.TextDocumentEdit):
            out.append(op.text_document.uri)
    return out + list((action.edit.changes or {}).keys())


async def actions_for(client: LanguageClient, uri: str, code: str) -> list[t.CodeAction]:
    async def wait() -> list[t.CodeAction]:
        while True:
            found = [d for d in await diagnostics(client, uri) if d.code == code]
            if found:
                break
            await asyncio.sleep(0.05)
        actions = await client.text_document_code_action_async(
            t.CodeActionParams(t.TextDocumentIdentifier(uri), found[0].range, t.CodeActionContext(diagnostics=found))
        )
        return [a for a in actions or [] if isinstance(a, t.CodeAction)]

    return await asyncio.wait_for(wait(), 20)


async def move_fix(client: LanguageClient, uri: str) -> t.CodeAction:
    moves = [a for a in await actions_for(client, uri, "literal-secret") if a.title.startswith("Move")]
    assert len(moves) == 1 and moves[0].edit is not None
    return moves[0]


async def test_move_to_dotenv_in_a_repository_makes_git_ignore_the_dotenv(
    client: LanguageClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text("node_modules/", encoding="utf-8")  # no final line break
    doc = repo / "team.snowauth.toml"
    doc.write_text(LITERAL, encoding="utf-8")
    editor = Editor(client)
    editor.open(doc.as_uri(), LITERAL)
    action = await move_fix(client, doc.as_uri())
    assert (repo / ".gitignore").as_uri() in edit_uris(action)
    assert ".gitignore" in action.title
    assert action.edit is not None
    apply_like_a_client(action.edit, editor)
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "node_modules/\n.env\n"
    assert "s3cr3t-value" in (repo / ".env").read_text(encoding="utf-8")
    assert ignored(repo, ".env")
    status = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert ".env" not in status.replace(".gitignore", "")


async def test_no_gitignore_edit_when_git_ignores_dotenv_already_or_there_is_no_repository(
    client: LanguageClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text("*.env\n", encoding="utf-8")  # ignores .env, not literally ".env"
    inside = repo / "team.snowauth.toml"
    inside.write_text(LITERAL, encoding="utf-8")
    plain = tmp_path / "plain"
    plain.mkdir()
    outside = plain / "team.snowauth.toml"
    outside.write_text(LITERAL, encoding="utf-8")
    editor = Editor(client)
    editor.open(inside.as_uri(), LITERAL)
    editor.open(outside.as_uri(), LITERAL)

    async def settled() -> t.CodeAction:
        while True:  # git's answer comes in the background; until then the fix plays safe
            action = await move_fix(client, inside.as_uri())
            if (repo / ".gitignore").as_uri() not in edit_uris(action):
                return action
            await asyncio.sleep(0.1)

    action = await asyncio.wait_for(settled(), 20)
    assert edit_uris(action) == [inside.as_uri(), (repo / ".env").as_uri()]
    action = await move_fix(client, outside.as_uri())
    assert edit_uris(action) == [outside.as_uri(), (plain / ".env").as_uri()]
    assert ".gitignore" not in action.title


async def test_a_linked_gitignore_is_never_written_through(client: LanguageClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    elsewhere = tmp_path / "home-profile"
    elsewhere.write_text("# the user's file\n", encoding="utf-8")
    (repo / ".gitignore").symlink_to(elsewhere)
    doc = repo / "team.snowauth.toml"
    doc.write_text(LITERAL, encoding="utf-8")
    editor = Editor(client)
    editor.open(doc.as_uri(), LITERAL)
    actions = await actions_for(client, doc.as_uri(), "literal-secret")
    # moving the secret would leave it in a file git publishes: no fix rather than that
    assert [a.title for a in actions if a.title.startswith("Move")] == []
    assert elsewhere.read_text(encoding="utf-8") == "# the user's file\n"


async def test_untrusted_workspace_adds_dotenv_to_gitignore_without_running_git(
    untrusted: LanguageClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    marker = tmp_path / "fsmonitor-ran"
    assert git(repo, "config", "core.fsmonitor", f"touch {marker}").returncode == 0
    doc = repo / "team.snowauth.toml"
    doc.write_text(LITERAL, encoding="utf-8")
    editor = Editor(untrusted)
    editor.open(doc.as_uri(), LITERAL)
    action = await move_fix(untrusted, doc.as_uri())
    assert action.edit is not None
    apply_like_a_client(action.edit, editor)
    assert (repo / ".gitignore").read_text(encoding="utf-8") == ".env\n"
    assert not marker.exists()
    assert git(repo, "config", "--unset", "core.fsmonitor").returncode == 0
    assert ignored(repo, ".env")


async def test_tokens_in_git_offers_gitignore_and_token_cache(client: LanguageClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    doc = repo / "team.snowauth.toml"
    doc.write_text(WITH_TOKEN, encoding="utf-8")
    editor = Editor(client)
    editor.open(doc.as_uri(), WITH_TOKEN)
    actions = {a.title: a for a in await actions_for(client, doc.as_uri(), "tokens-in-git")}
    add = actions.get("Add team.snowauth.toml to .gitignore")
    cache = next((a for title, a in actions.items() if 'token_store = "cache"' in title), None)
    assert add is not None and cache is not None, list(actions)
    assert add.edit is not None and cache.edit is not None

    apply_like_a_client(add.edit, editor)
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "/team.snowauth.toml\n"
    assert ignored(repo, "team.snowauth.toml")

    apply_like_a_client(cache.edit, editor)  # (written from the editor's text, as opened)
    a = analyze(doc.read_text(encoding="utf-8"))
    assert a.connections["dev"].keys["token_store"].value.data == "cache"
    assert [f.code for f in a.findings if f.severity == 1] == []


async def test_gitignore_entry_matches_only_a_file_with_pattern_characters(
    client: LanguageClient, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    name = "#a [b]*?.snowauth.toml"
    doc = repo / name
    doc.write_text(WITH_TOKEN, encoding="utf-8")
    (repo / "#a bb.snowauth.toml").write_text("", encoding="utf-8")
    editor = Editor(client)
    editor.open(doc.as_uri(), WITH_TOKEN)
    actions = {a.title: a for a in await actions_for(client, doc.as_uri(), "tokens-in-git")}
    add = actions.get(f"Add {name} to .gitignore")
    assert add is not None and add.edit is not None, list(actions)
    apply_like_a_client(add.edit, editor)
    assert ignored(repo, name)
    assert not ignored(repo, "#a bb.snowauth.toml")


def test_with_the_cache_chosen_the_warning_asks_to_remove_the_table_left_in_the_file() -> None:
    from snowauth.gitstate import UNIGNORED, token_findings
    from snowauth.token_edits import apply

    text = WITH_TOKEN.replace('client_secret = "${env', 'token_store = "cache"\nclient_secret = "${env')
    a = analyze(text)
    [found] = token_findings(a, UNIGNORED, "team.snowauth.toml", fixes=True)
    assert "cache" in found.message and "remove it" in found.message
    titles = [f.title for f in found.fixes]
    assert titles == [
        "Add team.snowauth.toml to .gitignore",
        "Remove the token table of `dev` (tokens now go to the cache)",
    ]
    after = analyze(apply(text, found.fixes[1].edits))
    assert after.connections["dev"].token == {} and token_findings(after, UNIGNORED) == []
    assert after.connections["dev"].keys["token_store"].value.data == "cache"


async def test_the_warning_goes_when_gitignore_changes_on_disk(client: LanguageClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    doc = repo / "team.snowauth.toml"
    doc.write_text(WITH_TOKEN, encoding="utf-8")
    uri = doc.as_uri()
    Editor(client).open(uri, WITH_TOKEN)

    async def until(present: bool) -> None:
        while any(d.code == "tokens-in-git" for d in client.diagnostics.get(uri, [])) != present:
            await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(until(True), 20)
    (repo / ".gitignore").write_text("/team.snowauth.toml\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams([t.FileEvent((repo / ".gitignore").as_uri(), t.FileChangeType.Created)])
    )
    await asyncio.wait_for(until(False), 20)


EXPORTING = """[connections.dev]
instance = "https://dev12345.service-now.com"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_DEV_CLIENT_SECRET}"

[connections.dev.export]
http_client = "rest/http-client.private.env.json"
dotenv = "ignored.env"
"""


async def test_an_export_git_would_publish_offers_gitignore(client: LanguageClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "rest").mkdir()
    (repo / ".gitignore").write_text("ignored.env\n", encoding="utf-8")
    doc = repo / "team.snowauth.toml"
    doc.write_text(EXPORTING, encoding="utf-8")
    editor = Editor(client)
    editor.open(doc.as_uri(), EXPORTING)
    actions = await actions_for(client, doc.as_uri(), "export-in-git")
    found = [d for d in await diagnostics(client, doc.as_uri()) if d.code == "export-in-git"]
    assert len(found) == 1 and found[0].severity == t.DiagnosticSeverity.Warning
    assert "`rest/http-client.private.env.json`, which git does not ignore" in found[0].message
    assert found[0].range.start.line == 7  # on the path
    assert [a.title for a in actions] == ["Add rest/http-client.private.env.json to .gitignore"]
    assert actions[0].edit is not None
    apply_like_a_client(actions[0].edit, editor)
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "ignored.env\n/rest/http-client.private.env.json\n"
    assert ignored(repo, "rest/http-client.private.env.json")
    client.text_document_did_save(t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(doc.as_uri())))

    async def cleared() -> None:
        while any(d.code == "export-in-git" for d in await diagnostics(client, doc.as_uri())):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(cleared(), 20)


async def test_untrusted_workspace_asks_git_nothing_about_exports(untrusted: LanguageClient, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "rest").mkdir()
    doc = repo / "team.snowauth.toml"
    doc.write_text(EXPORTING, encoding="utf-8")
    editor = Editor(untrusted)
    editor.open(doc.as_uri(), EXPORTING)
    # the trusted session above warns here; an untrusted one never learns git's answer
    for _ in range(20):
        assert [d.code for d in await diagnostics(untrusted, doc.as_uri()) if d.code == "export-in-git"] == []
        await asyncio.sleep(0.05)
