"""Workspace diagnostics of the files no editor holds open carry the git findings an open
document gets: a token table in a file git tracks or does not ignore (`tokens-in-git`), an
export target git would publish (`export-in-git`); asked again when a `.gitignore` beside
them changes; never in an untrusted workspace (git obeys the repository's configuration).
Real git repositories, the real language server over stdio, pulled (VS Code) and pushed
(Neovim)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.git import git, make_repo
from tests.kit.lsp import eventually, session_fixture

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

TOKEN = """[connections.{name}]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_WS_GIT_SECRET}}"
token = {{ access_token = "AT-{name}", expires_at = 2099-01-01T00:00:00Z }}
"""
EXPORTING = """[connections.exporting]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_WS_GIT_SECRET}"
token_store = "cache"

[connections.exporting.export]
dotenv = "out.env"
"""
NAMES = ("tracked", "loose", "ignored", "exporting")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository: a token table in a tracked file, in a file git does not ignore, in an
    ignored one; a connection exporting its token to a tracked `out.env`."""
    root = make_repo(tmp_path / "repo")
    for name in NAMES[:3]:
        (root / f"{name}.snowauth.toml").write_text(TOKEN.format(name=name), encoding="utf-8")
    (root / "exporting.snowauth.toml").write_text(EXPORTING, encoding="utf-8")
    (root / "out.env").write_text("X=1\n", encoding="utf-8")
    (root / ".gitignore").write_text("ignored.snowauth.toml\n", encoding="utf-8")
    git(root, "add", "tracked.snowauth.toml", "out.env", ".gitignore")
    return root


client = session_fixture(presets=("pull", "push"), workspace="repo", env={"SNOW_WS_GIT_SECRET": "x"}, recording=True)
untrusted = session_fixture(
    presets=("pull|untrusted", "push|untrusted"), workspace="repo", env={"SNOW_WS_GIT_SECRET": "x"}
)


def pulled(client: LanguageClient) -> bool:
    return client.capabilities.text_document.diagnostic is not None  # type: ignore[union-attr]


async def diagnostics_of(client: LanguageClient, repo: Path) -> dict[str, list[t.Diagnostic]]:
    """Each connection file's diagnostics (pulled, or once all are published)."""
    uris = {(repo / f"{n}.snowauth.toml").as_uri(): n for n in NAMES}
    if pulled(client):
        report = await client.workspace_diagnostic_async(t.WorkspaceDiagnosticParams(previous_result_ids=[]))
        items = {i.uri: list(i.items) for i in report.items if isinstance(i, t.WorkspaceFullDocumentDiagnosticReport)}
    else:
        await eventually(lambda: set(uris) <= set(client.diagnostics), "published for every file")
        items = {u: list(d) for u, d in client.diagnostics.items()}
    return {uris[u]: found for u, found in items.items() if u in uris}


async def reports(client: LanguageClient, repo: Path) -> dict[str, list[str]]:
    """The codes of each connection file's diagnostics."""
    return {name: sorted(str(d.code) for d in found) for name, found in (await diagnostics_of(client, repo)).items()}


async def settled(client: LanguageClient, repo: Path, expected: dict[str, list[str]]) -> dict[str, list[str]]:
    """The codes once they are ``expected`` (git answers in the background: the reports go
    out first, and again with its findings), or as they are after 20 s."""
    deadline = asyncio.get_running_loop().time() + 20
    while (found := await reports(client, repo)) != expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return found


async def test_unopened_files_get_the_git_findings(client: LanguageClient, repo: Path) -> None:
    expected = {"tracked": ["tokens-in-git"], "loose": ["tokens-in-git"], "ignored": [], "exporting": ["export-in-git"]}
    assert await settled(client, repo, expected) == expected
    if pulled(client):  # git's answers changed the reports: the client was asked to pull again
        await eventually(lambda: client.diagnostic_refresh_count >= 1, "asked to pull again")
    messages = [d.message for d in (await diagnostics_of(client, repo))["tracked"]]
    assert messages == [
        "This file is tracked by git and holds the token of `tracked`: a commit would publish it. "
        'Use `token_store = "cache"`, or stop tracking the file (`git rm --cached`) and ignore it'
    ]


async def test_a_gitignore_written_beside_them_is_asked_about_again(client: LanguageClient, repo: Path) -> None:
    before = {"tracked": ["tokens-in-git"], "loose": ["tokens-in-git"], "ignored": [], "exporting": ["export-in-git"]}
    assert await settled(client, repo, before) == before
    (repo / ".gitignore").write_text("ignored.snowauth.toml\nloose.snowauth.toml\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(
            changes=[t.FileEvent(uri=(repo / ".gitignore").as_uri(), type=t.FileChangeType.Changed)]
        )
    )
    after = {**before, "loose": []}
    assert await settled(client, repo, after) == after


async def test_an_untrusted_workspace_does_not_ask_git(untrusted: LanguageClient, repo: Path) -> None:
    found = await reports(untrusted, repo)
    await asyncio.sleep(1)  # (a git answer would have come by now: none may)
    assert found == await reports(untrusted, repo) == {"tracked": [], "loose": [], "ignored": [], "exporting": []}
