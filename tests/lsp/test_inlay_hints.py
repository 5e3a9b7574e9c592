"""textDocument/inlayHint over a real session, for the VS Code (UTF-16) and Neovim
(UTF-8) presets: exact positions after a non-ASCII line, only the range asked for, and
`workspace/inlayHint/refresh` when a shown time hint's wording changes."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import Editor, eventually, inlay_hints, negotiated_encoding, session_fixture

client = session_fixture(presets=("visual-studio-code", "neovim"), env={"SNOW_HINT_PW": "hint-process-secret"})

TEXT = """# café ✓ 😀
[connections.dev]
instance = "dev12345"
password = "${env:SNOW_HINT_PW}"
client_secret = "${env:SNOW_HINT_DOTENV}"
username = "${env:SNOW_HINT_MISSING}"
token = { access_token = "é😀", expires_at = 2099-01-01T00:00:00Z }

[connections.old.token]
access_token = "t"
expires_at = 2020-01-01T00:00:00Z
"""


def _shown(hints: list[t.InlayHint]) -> list[tuple[int, int, str]]:
    return [(h.position.line, h.position.character, str(h.label)) for h in hints]


async def test_hints_at_exact_positions_in_the_clients_encoding(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SNOW_HINT_DOTENV=hint-dotenv-secret\n", encoding="utf-8")
    uri = (tmp_path / "h.snowauth.toml").as_uri()
    encoding = negotiated_encoding(client)
    Editor(client, encoding).open(uri, TEXT)
    hints = await inlay_hints(client, uri, t.Range(t.Position(0, 0), t.Position(20, 0)))
    # after the inline token's expires_at: 64 code points, 65 UTF-16 units, 68 UTF-8 bytes
    expiry_column = {"utf-16": 65, "utf-8": 68}[encoding]
    shown = _shown(hints)
    assert shown[:4] == [
        (2, 21, "→ https://dev12345.service-now.com"),
        (3, 32, "✓ environment"),
        (4, 41, "✓ .env"),
        (5, 37, "✗ not set"),
    ]
    assert shown[4][:2] == (6, expiry_column) and re.fullmatch(r"in \d+ days", shown[4][2])
    assert shown[5][:2] == (10, 33) and re.fullmatch(r"expired \d+ days ago", shown[5][2])
    assert len(shown) == 6
    assert all(h.padding_left for h in hints)
    assert hints[4].tooltip == "The access token expires at 2099-01-01 00:00:00 UTC"
    assert "SNOW_HINT_MISSING" in str(hints[3].tooltip)
    for h in hints:
        assert "secret" not in f"{h.label} {h.tooltip}"


async def test_only_the_hints_of_the_range(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "r.snowauth.toml").as_uri()
    editor = Editor(client, negotiated_encoding(client))
    editor.open(uri, TEXT)
    hints = await inlay_hints(client, uri, t.Range(t.Position(3, 0), t.Position(5, 0)))
    assert [str(h.label) for h in hints] == ["✓ environment", "✗ not set"]
    assert await inlay_hints(client, uri, t.Range(t.Position(7, 0), t.Position(9, 0))) == []
    # hints follow edits: the instance renamed on line 2
    editor.replace(uri, TEXT.index("dev12345"), TEXT.index("dev12345") + 8, "dev7")
    hints = await inlay_hints(client, uri, t.Range(t.Position(2, 0), t.Position(3, 0)))
    assert _shown(hints) == [(2, 17, "→ https://dev7.service-now.com")]


async def test_the_client_is_asked_to_refresh_when_a_hint_changes(client: LanguageClient, tmp_path: Path) -> None:
    """A token that expires in 2 s: "in 1 s" becomes "expired …" without an edit; a client
    that declares `workspace.inlayHint.refreshSupport` is asked to ask again, once per
    change, another is never asked."""
    uri = (tmp_path / "t.snowauth.toml").as_uri()
    soon = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    editor = Editor(client, negotiated_encoding(client))
    editor.open(uri, f'[connections.dev.token]\naccess_token = "t"\nexpires_at = {soon}\n')
    whole = t.Range(t.Position(0, 0), t.Position(4, 0))
    first = await inlay_hints(client, uri, whole)
    assert re.fullmatch(r"in \d s", str(first[0].label))
    workspace = client.capabilities.workspace if client.capabilities else None  # type: ignore[union-attr]
    if workspace is not None and workspace.inlay_hint is not None and workspace.inlay_hint.refresh_support:
        await eventually(lambda: "inlayHint" in editor.refreshes, "asked to refresh the inlay hints", timeout=10)
        assert editor.refreshes.count("inlayHint") == 1  # one change shown, one request
        label = str((await inlay_hints(client, uri, whole))[0].label)
        assert label != str(first[0].label)
        await eventually(lambda: editor.refreshes.count("inlayHint") == 2, "asked again", timeout=10)
    else:
        await asyncio.sleep(3)
        assert "inlayHint" not in editor.refreshes
        assert str((await inlay_hints(client, uri, whole))[0].label).startswith("expired ")


async def test_a_dotenv_written_on_disk_turns_not_set_into_set(client: LanguageClient, tmp_path: Path) -> None:
    """The .env changes (a watched file): a client that takes it is asked to refresh its
    hints, and asked again, every client gets the new answer."""
    uri = (tmp_path / "e.snowauth.toml").as_uri()
    editor = Editor(client, negotiated_encoding(client))
    editor.open(uri, '[connections.dev]\npassword = "${env:SNOW_HINT_LATER}"\n')
    whole = t.Range(t.Position(0, 0), t.Position(3, 0))
    assert [str(h.label) for h in await inlay_hints(client, uri, whole)] == ["✗ not set"]
    dotenv = tmp_path / ".env"
    dotenv.write_text("SNOW_HINT_LATER=later-secret\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams([t.FileEvent(dotenv.as_uri(), t.FileChangeType.Created)])
    )
    workspace = client.capabilities.workspace if client.capabilities else None  # type: ignore[union-attr]
    if workspace is not None and workspace.inlay_hint is not None and workspace.inlay_hint.refresh_support:
        await eventually(lambda: "inlayHint" in editor.refreshes, "asked to refresh the inlay hints", timeout=10)
    for _ in range(100):
        labels = [str(h.label) for h in await inlay_hints(client, uri, whole)]
        if labels == ["✓ .env"]:
            break
        await asyncio.sleep(0.1)
    assert labels == ["✓ .env"]
