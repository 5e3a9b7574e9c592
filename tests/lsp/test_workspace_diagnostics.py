"""Workspace diagnostics: every `*.snowauth.toml` of the workspace folder, opened or not.
A pull client gets them from `workspace/diagnostic` (unchanged reports for its previous
result ids), a push client has them published after `initialized`; a `.env` written on
disk and reported re-checks the files beside it; a connection name in two files is
reported in both with related information; a folder linked from outside is not walked.
The real server over stdio, real folders in tmp_path; exact ranges in UTF-16 (pull: VS
Code) and UTF-8 (push: Neovim)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import Editor, eventually, open_doc, session_fixture

VARIABLE = "SNOWAUTH_WS_TEST_SECRET"

# non-ASCII before every range: UTF-16 and UTF-8 columns differ
A = (
    "# café ✓ 😀\n[connections]\n"
    '"😀" = { instance = "dev12345", grant_type = "client_credentials", '
    'client_id = "0123456789abcdef0123456789abcdef", client_secret = "${env:' + VARIABLE + '}" }\n'
    """
[connections."café"]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "secret-in-b-is-not-here"
"""
)
B = """default = "café"
[connections."café"]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_WS_OTHER}"
"""
C = """default = "qa"
[connections.qa]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_WS_OTHER}"
"""
VICTIM = """[connections.victim]
instance = "victim"
"""

# (start line, start column, end line, end column) per encoding
UNRESOLVED_A = {"utf-16": (2, 131, 2, 163), "utf-8": (2, 133, 2, 165)}
CAFE_HEADER_A = {"utf-16": (4, 0, 4, 20), "utf-8": (4, 0, 4, 21)}
CAFE_HEADER_B = {"utf-16": (1, 0, 1, 20), "utf-8": (1, 0, 1, 21)}
ENCODING = {"pull": "utf-16", "push": "utf-8"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The workspace: a.snowauth.toml, sub/b and sub/c; a folder linked to one outside
    the workspace (holding a connection file), a file linked to one outside, and
    node_modules: none of the last three is read."""
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "node_modules").mkdir()
    (root / "a.snowauth.toml").write_text(A, encoding="utf-8")
    (root / "sub" / "b.snowauth.toml").write_text(B, encoding="utf-8")
    (root / "sub" / "c.snowauth.toml").write_text(C, encoding="utf-8")
    (root / "node_modules" / "x.snowauth.toml").write_text(VICTIM, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.snowauth.toml").write_text(VICTIM, encoding="utf-8")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "evil.snowauth.toml").symlink_to(outside / "victim.snowauth.toml")
    return root


DROPPED = (VARIABLE, "SNOW_WS_OTHER")
client = session_fixture(presets=("pull", "push"), workspace="folder", drop_env=DROPPED, recording=True)
pull = session_fixture(presets=("pull",), workspace="folder", drop_env=DROPPED)
push = session_fixture(presets=("push",), workspace="folder", drop_env=DROPPED, recording=True)
open_only = session_fixture(presets=("pull|open-only", "push|open-only"), workspace="folder", drop_env=DROPPED)
untrusted = session_fixture(presets=("pull|untrusted", "push|untrusted"), workspace="folder", drop_env=DROPPED)


def kind(client: LanguageClient) -> str:
    return "pull" if client.capabilities.text_document.diagnostic is not None else "push"  # type: ignore[union-attr]


def span(d: t.Diagnostic | t.Location) -> tuple[int, int, int, int]:
    r = d.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


async def workspace_pull(client: LanguageClient, previous: dict[str, str] | None = None) -> dict[str, Any]:
    report = await client.workspace_diagnostic_async(
        t.WorkspaceDiagnosticParams(
            previous_result_ids=[t.PreviousResultId(uri=u, value=v) for u, v in (previous or {}).items()]
        )
    )
    return {item.uri: item for item in report.items}


async def reported(client: LanguageClient, folder: Path) -> dict[str, list[t.Diagnostic]]:
    """The diagnostics of the workspace's unopened files: pulled, or as published once
    every connection file of the workspace has been."""
    if kind(client) == "pull":
        return {uri: list(r.items) for uri, r in (await workspace_pull(client)).items()}
    expected = {(folder / n).as_uri() for n in ("a.snowauth.toml", "sub/b.snowauth.toml", "sub/c.snowauth.toml")}
    await eventually(lambda: expected <= set(client.diagnostics), "published for every file")
    return {uri: list(d) for uri, d in client.diagnostics.items()}


def codes(items: list[t.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in items)


async def test_every_connection_file_is_reported_and_links_out_are_not_walked(
    client: LanguageClient, folder: Path
) -> None:
    found = await reported(client, folder)
    a, b, c = (folder / n for n in ("a.snowauth.toml", "sub/b.snowauth.toml", "sub/c.snowauth.toml"))
    # the folder linked to outside, the file linked outside and node_modules are not read
    assert set(found) == {a.as_uri(), b.as_uri(), c.as_uri()}
    assert not any("victim" in d.message for items in found.values() for d in items)
    enc = ENCODING[kind(client)]
    items = found[a.as_uri()]
    assert codes(items) == ["duplicate-connection-across-files", "literal-secret", "unresolved-reference"]
    unresolved = next(d for d in items if d.code == "unresolved-reference")
    assert span(unresolved) == UNRESOLVED_A[enc]
    duplicate = next(d for d in items if d.code == "duplicate-connection-across-files")
    assert span(duplicate) == CAFE_HEADER_A[enc]
    assert duplicate.severity == t.DiagnosticSeverity.Warning
    assert "`sub/b.snowauth.toml` (line 2)" in duplicate.message
    assert duplicate.related_information is not None
    [related] = duplicate.related_information
    assert (related.location.uri, span(related.location)) == (b.as_uri(), CAFE_HEADER_B[enc])
    # b: the same name, and a `default` that c declares too
    assert codes(found[b.as_uri()]) == [
        "default-across-files",
        "duplicate-connection-across-files",
        "unresolved-reference",
    ]
    dup_b = next(d for d in found[b.as_uri()] if d.code == "duplicate-connection-across-files")
    assert span(dup_b) == CAFE_HEADER_B[enc]
    assert [(r.location.uri, span(r.location)) for r in dup_b.related_information or []] == [
        (a.as_uri(), CAFE_HEADER_A[enc])
    ]
    default_c = next(d for d in found[c.as_uri()] if d.code == "default-across-files")
    assert (span(default_c), default_c.severity) == ((0, 0, 0, 14), t.DiagnosticSeverity.Hint)
    assert [(r.location.uri, span(r.location)) for r in default_c.related_information or []] == [
        (b.as_uri(), {"utf-16": (0, 0, 0, 16), "utf-8": (0, 0, 0, 17)}[enc])  # default = "café"
    ]


async def test_a_push_client_gets_each_file_once_while_nothing_changes(push: LanguageClient, folder: Path) -> None:
    await reported(push, folder)
    count = push.publish_count  # type: ignore[attr-defined]
    await asyncio.sleep(0.8)
    assert push.publish_count == count  # type: ignore[attr-defined]


async def test_a_pull_with_previous_result_ids_is_answered_unchanged(pull: LanguageClient, folder: Path) -> None:
    client = pull
    first = await workspace_pull(client)
    ids = {uri: r.result_id for uri, r in first.items()}
    assert all(isinstance(r, t.WorkspaceFullDocumentDiagnosticReport) for r in first.values())
    second = await workspace_pull(client, ids)
    assert set(second) == set(first)
    assert all(isinstance(r, t.WorkspaceUnchangedDocumentDiagnosticReport) for r in second.values())
    assert {uri: r.result_id for uri, r in second.items()} == ids
    # c changes on disk: its report is full again, the others stay unchanged
    c = folder / "sub" / "c.snowauth.toml"
    c.write_text(C.replace('default = "qa"\n', ""), encoding="utf-8")
    os.utime(c, ns=(c.stat().st_atime_ns, c.stat().st_mtime_ns + 2_000_000))
    third = await workspace_pull(client, ids)
    assert isinstance(third[c.as_uri()], t.WorkspaceFullDocumentDiagnosticReport)
    assert "default-across-files" not in codes(list(third[c.as_uri()].items))
    # b's `default` is alone now: its report changed too; a's did not
    b = (folder / "sub" / "b.snowauth.toml").as_uri()
    assert isinstance(third[b], t.WorkspaceFullDocumentDiagnosticReport)
    assert "default-across-files" not in codes(list(third[b].items))
    assert isinstance(third[(folder / "a.snowauth.toml").as_uri()], t.WorkspaceUnchangedDocumentDiagnosticReport)


def watched(client: LanguageClient, *changes: tuple[Path, t.FileChangeType]) -> None:
    client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(changes=[t.FileEvent(uri=p.as_uri(), type=kind) for p, kind in changes])
    )


async def until(client: LanguageClient, folder: Path, uri: str, ok: Any) -> list[t.Diagnostic]:
    """The unopened file's diagnostics once they satisfy ``ok`` (pulled again, or as published)."""

    async def wait() -> list[t.Diagnostic]:
        while True:
            items = (await reported(client, folder)).get(uri, [])
            if ok(items):
                return items
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(wait(), 10)


async def test_a_dotenv_written_beside_an_unopened_file_resolves_its_reference(
    client: LanguageClient, folder: Path
) -> None:
    a = (folder / "a.snowauth.toml").as_uri()
    await until(client, folder, a, lambda items: "unresolved-reference" in codes(items))
    refreshes = client.diagnostic_refresh_count
    (folder / ".env").write_text(f"{VARIABLE}=value-from-dotenv\n", encoding="utf-8")
    watched(client, (folder / ".env", t.FileChangeType.Created))
    items = await until(client, folder, a, lambda items: "unresolved-reference" not in codes(items))
    assert codes(items) == ["duplicate-connection-across-files", "literal-secret"]
    if kind(client) == "pull":
        await eventually(lambda: client.diagnostic_refresh_count > refreshes, "asked to pull again")
    # b's folder has no .env: its reference is still unresolved
    b = (folder / "sub" / "b.snowauth.toml").as_uri()
    assert "unresolved-reference" in codes((await reported(client, folder))[b])
    assert not any(
        "value-from-dotenv" in d.message for items in (await reported(client, folder)).values() for d in items
    )


async def test_a_dotenv_written_beside_an_open_file_resolves_its_reference(
    client: LanguageClient, folder: Path
) -> None:
    path = folder / "a.snowauth.toml"
    open_doc(client, path.as_uri(), A)

    async def document() -> list[t.Diagnostic]:
        if kind(client) == "pull":
            report = await client.text_document_diagnostic_async(
                t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(path.as_uri()))
            )
            return list(report.items)  # type: ignore[union-attr]
        published = client.published.get(path.as_uri())  # type: ignore[attr-defined]
        return list(published[1]) if published and published[0] == 1 else []

    async def wait(ok: Any) -> list[t.Diagnostic]:
        while not ok(items := await document()):
            await asyncio.sleep(0.1)
        return items

    # the open document has its cross-file finding too, pointing to b (once b is read)
    items = await asyncio.wait_for(
        wait(lambda i: {"unresolved-reference", "duplicate-connection-across-files"} <= set(codes(i))), 10
    )
    dup = next(d for d in items if d.code == "duplicate-connection-across-files")
    assert span(dup) == CAFE_HEADER_A[ENCODING[kind(client)]]
    (folder / ".env").write_text(f"{VARIABLE}=value-from-dotenv\n", encoding="utf-8")
    watched(client, (folder / ".env", t.FileChangeType.Created))
    items = await asyncio.wait_for(wait(lambda i: "unresolved-reference" not in codes(i)), 10)
    assert codes(items) == ["duplicate-connection-across-files", "literal-secret"]
    if kind(client) == "pull":  # an open file is reported by textDocument/diagnostic only
        assert path.as_uri() not in await workspace_pull(client)


async def test_a_closed_file_comes_back_to_the_workspace_set(client: LanguageClient, folder: Path) -> None:
    a = folder / "a.snowauth.toml"
    await reported(client, folder)
    open_doc(client, a.as_uri(), A.replace('"café"]', '"cafe"]'), version=3)  # no name b has
    if kind(client) == "push":
        await eventually(
            lambda: client.published.get(a.as_uri(), (None,))[0] == 3,
            "the open document published",  # type: ignore[attr-defined]
        )
    else:
        assert a.as_uri() not in await workspace_pull(client)
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(a.as_uri())))
    if kind(client) == "push":  # published from the file on disk (no version)
        await eventually(lambda: client.published[a.as_uri()][0] is None, "published from disk")  # type: ignore[attr-defined]
    items = await until(client, folder, a.as_uri(), lambda items: "unresolved-reference" in codes(items))
    assert codes(items) == ["duplicate-connection-across-files", "literal-secret", "unresolved-reference"]


async def test_a_connection_file_created_on_disk_joins_the_workspace(client: LanguageClient, folder: Path) -> None:
    await reported(client, folder)
    new = folder / "sub" / "new.snowauth.toml"
    new.write_text(C.replace('default = "qa"\n', "").replace("qa", "fresh"), encoding="utf-8")
    watched(client, (new, t.FileChangeType.Created))
    items = await until(client, folder, new.as_uri(), lambda items: bool(items))
    assert codes(items) == ["unresolved-reference"]
    refreshes = client.diagnostic_refresh_count
    new.unlink()
    watched(client, (new, t.FileChangeType.Deleted))
    if kind(client) == "pull":
        await eventually(lambda: client.diagnostic_refresh_count > refreshes, "asked to pull again")
        assert new.as_uri() not in await workspace_pull(client)
    else:
        await eventually(lambda: list(client.diagnostics.get(new.as_uri(), [None])) == [], "cleared")


async def test_a_token_expiring_in_an_unopened_file_is_reported_when_it_expires(
    client: LanguageClient, folder: Path
) -> None:
    """The file does not change: the server's expiry look analyses it again at its
    token's expiry, pushes it (or asks the pull client to pull), as for an open document."""
    await reported(client, folder)
    path = folder / "sub" / "expiring.snowauth.toml"
    expires = (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=0)
    token = f'token = {{ access_token = "AT-expiring", expires_at = {expires.strftime("%Y-%m-%dT%H:%M:%SZ")} }}\n'
    path.write_text(C.replace('default = "qa"\n', "").replace("qa", "expiring") + token, encoding="utf-8")
    watched(client, (path, t.FileChangeType.Created))
    before = await until(client, folder, path.as_uri(), lambda items: bool(items))
    assert datetime.now(UTC) < expires, "the machine was too slow to see the token before its expiry"
    assert codes(before) == ["unresolved-reference"]
    refreshes = client.diagnostic_refresh_count
    after = await until(client, folder, path.as_uri(), lambda items: "token-expired" in codes(items))
    assert codes(after) == ["token-expired", "unresolved-reference"]
    if kind(client) == "pull":
        assert client.diagnostic_refresh_count > refreshes
    path.unlink()
    watched(client, (path, t.FileChangeType.Deleted))


async def test_an_untrusted_workspace_gets_the_same_static_diagnostics(untrusted: LanguageClient, folder: Path) -> None:
    found = await reported(untrusted, folder)
    a = (folder / "a.snowauth.toml").as_uri()
    assert codes(found[a]) == ["duplicate-connection-across-files", "literal-secret", "unresolved-reference"]
    assert not (folder / ".git").exists()  # and nothing ran git in it


async def test_a_client_can_ask_for_open_documents_only(open_only: LanguageClient, folder: Path) -> None:
    a = folder / "a.snowauth.toml"
    if kind(open_only) == "pull":
        assert await workspace_pull(open_only) == {}
    open_doc(open_only, a.as_uri(), A)
    await eventually(lambda: a.as_uri() in open_only.diagnostics or kind(open_only) == "pull", "published")
    await asyncio.sleep(0.6)  # the server's start-up walk would have published by now
    assert set(open_only.diagnostics) <= {a.as_uri()}
    found = await open_only.workspace_symbol_async(t.WorkspaceSymbolParams(query=""))
    assert sorted(s.location.uri for s in found or []) == [a.as_uri(), a.as_uri()]


def registered_patterns(client: LanguageClient) -> list[str]:
    return [
        w["globPattern"]
        for r in getattr(client, "registrations", [])
        for w in r.register_options["watchers"]  # type: ignore[index]
    ]


async def test_the_workspace_is_watched_before_any_document_is_opened(client: LanguageClient, folder: Path) -> None:
    if client.capabilities.workspace.did_change_watched_files.dynamic_registration:  # type: ignore[union-attr]
        await eventually(lambda: "**/.env" in registered_patterns(client), "watching .env files")
        assert "**/*.snowauth.toml" in registered_patterns(client)
    else:  # Neovim registers none: the server is not asked to
        await reported(client, folder)
        assert registered_patterns(client) == []


async def test_edits_move_the_cross_file_findings_of_an_open_file_and_a_new_name_joins_them(
    pull: LanguageClient, folder: Path
) -> None:
    """Typing in a file that takes part in no cross-file finding keeps the workspace's
    findings as they were; in one that does, they move with its text; a name it gains
    that another file has is reported in both."""
    editor = Editor(pull, "utf-16")
    a, c = (folder / "a.snowauth.toml").as_uri(), (folder / "sub" / "c.snowauth.toml").as_uri()
    d = (folder / "d.snowauth.toml").as_uri()
    editor.open(d, '[connections.d]\ninstance = "dev1"\n')
    editor.open(a, A)

    async def pulled(uri: str) -> list[t.Diagnostic]:
        report = await pull.text_document_diagnostic_async(t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
        return list(report.items)  # type: ignore[union-attr]

    await workspace_pull(pull)  # the workspace is known
    before = [(x.code, span(x)) for x in await pulled(a)]
    assert ("duplicate-connection-across-files", CAFE_HEADER_A["utf-16"]) in before
    await pulled(d)
    editor.type(d, 0, "# two lines\n# more\n")  # d takes part in nothing
    assert not any("across-files" in str(x.code) for x in await pulled(d))
    assert [(x.code, span(x)) for x in await pulled(a)] == before
    editor.type(a, 0, "# two lines\n# more\n")  # a's `café` is in b too
    dup = next(x for x in await pulled(a) if x.code == "duplicate-connection-across-files")
    line, col, end_line, end_col = CAFE_HEADER_A["utf-16"]
    assert span(dup) == (line + 2, col, end_line + 2, end_col)
    b = (folder / "sub" / "b.snowauth.toml").as_uri()
    dup_b = next(x for x in (await workspace_pull(pull))[b].items if x.code == "duplicate-connection-across-files")
    assert [(r.location.uri, span(r.location)) for r in dup_b.related_information or []] == [
        (a, (line + 2, col, end_line + 2, end_col))
    ]
    editor.type(d, len(editor.texts[d]), '[connections.qa]\ninstance = "dev2"\n')  # c has `qa`
    assert "duplicate-connection-across-files" in codes(await pulled(d))
    assert "duplicate-connection-across-files" in codes(list((await workspace_pull(pull))[c].items))
