"""The editor and the command line agree on fuzzed files, and incremental edits agree
with a fresh open.

- A sample of generated files is checked by ``snowauth check --format json`` (one
  subprocess) and opened in the language server (pushed diagnostics): same codes,
  severities, messages and ranges, the CLI's 1-based character columns converted to LSP
  positions in the negotiated encoding (UTF-16 for VS Code, UTF-8 for Neovim).
- Random series of incremental edits (several changes per didChange, now and then a
  whole-document replacement) end with the diagnostics of the final text opened fresh.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from snowauth import workspace
from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex
from tests.kit.corpus import BASES, ENV_VARS, LONG, STATS, apply_edit, random_edit, random_file, span
from tests.kit.lsp import (
    SERVER,
    SEVERITY,
    capabilities,
    change_event,
    diag_key,
    did_change,
    make_client,
    open_doc,
    wait_published,
)

SEED = int(os.environ.get("SNOWAUTH_FUZZ_SEED", "0" if not LONG else str(random.randrange(1 << 30))))
SAMPLE = 400 if LONG else 40
SEQUENCES = 150 if LONG else 12
PROCESS_ENV = {**os.environ, **ENV_VARS}


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env=PROCESS_ENV, client_factory=make_client),
    params=["utf-16", "utf-8"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    result = await lsp_client.initialize_session(t.InitializeParams(capabilities=capabilities(request.param)))
    assert result.capabilities.position_encoding in (request.param, None)
    lsp_client.encoding = request.param  # type: ignore[attr-defined]
    yield lsp_client
    await lsp_client.shutdown_session()


#: the findings that compare one file with the others given to `snowauth check`
CROSS_FILE = {workspace.DUPLICATE_ACROSS_FILES, workspace.DEFAULT_ACROSS_FILES}


def sample(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    # an editor drops a file's BOM before the text reaches the server, as check does
    return [random_file(rng).lstrip("\ufeff") for _ in range(n)]


def cli_rows(folder: Path) -> dict[str, list[dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, "-m", "snowauth", "check", "--format", "json", str(folder)],
        capture_output=True,
        env=PROCESS_ENV,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr.decode()
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in json.loads(done.stdout):
        if row["code"] in CROSS_FILE:
            continue  # across the files of one run: the server here has no workspace (tests/lsp/test_workspace_*)
        rows.setdefault(row["path"], []).append(row)
    return rows


def cli_key(text: str, conv: Converter, row: dict[str, Any]) -> tuple[Any, ...]:
    """A CLI row as an LSP diagnostic key: line/column count code points from 1."""
    idx = conv.index
    start = idx.starts[row["line"] - 1] + row["column"] - 1
    end = idx.starts[row["end_line"] - 1] + row["end_column"] - 1
    assert 0 <= start <= end <= len(text), row
    r = conv.range(start, end)
    key = (r.start.line, r.start.character, r.end.line, r.end.character, row["code"], SEVERITY[row["severity"]])
    return (*key, row["message"])


async def test_fuzz_check_and_server_report_the_same_findings(client: LanguageClient, tmp_path: Path) -> None:
    encoding: str = client.encoding  # type: ignore[attr-defined]
    texts = sample(SEED, SAMPLE)
    folder = tmp_path / "fuzzed"
    folder.mkdir()
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"f{i:04d}.snowauth.toml"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    rows = cli_rows(folder)
    for path, text in zip(paths, texts, strict=True):
        open_doc(client, path.as_uri(), text)
    mismatches = []
    for path, text in zip(paths, texts, strict=True):
        pushed = await wait_published(client, path.as_uri(), 1)
        conv = Converter(LineIndex(text), encoding)
        expected = sorted(cli_key(text, conv, row) for row in rows.get(str(path), []))
        got = sorted(diag_key(d, message=True) for d in pushed)
        if got != expected:
            mismatches.append((path.name, text, expected, got))
    STATS.add(f"check vs server ({encoding}): files compared", len(texts))
    STATS.add(f"check vs server ({encoding}): findings compared", sum(len(v) for v in rows.values()))
    assert not mismatches, f"seed {SEED}: {mismatches[:2]!r}"


async def test_fuzz_incremental_edits_equal_a_fresh_open(client: LanguageClient, tmp_path: Path) -> None:
    encoding: str = client.encoding  # type: ignore[attr-defined]
    rng = random.Random(SEED + 1)
    failures = []
    sent = 0
    for n in range(SEQUENCES):
        uri = (tmp_path / f"edited{n}.snowauth.toml").as_uri()
        fresh_uri = (tmp_path / f"fresh{n}.snowauth.toml").as_uri()
        text = rng.choice(BASES)
        open_doc(client, uri, text)
        version = 1
        for _ in range(rng.randint(1, 40)):
            changes: list[Any] = []
            if rng.random() < 0.05:
                text = random_file(rng)
                changes.append(t.TextDocumentContentChangeWholeDocument(text=text))
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                edit = random_edit(rng)
                start, end, new = span(text, edit)
                changes.append(change_event(text, start, end, new, encoding))
                text = apply_edit(text, edit)
            version += 1
            did_change(client, uri, version, changes)
            sent += len(changes)
            if rng.random() < 0.3:
                await asyncio.sleep(0.002)  # now and then the server catches up
        edited = await wait_published(client, uri, version)
        open_doc(client, fresh_uri, text)
        fresh = await wait_published(client, fresh_uri, 1)
        if [diag_key(d, message=True) for d in edited] != [diag_key(d, message=True) for d in fresh]:
            failures.append((n, text))
    STATS.add(f"server ({encoding}): edit sequences", SEQUENCES)
    STATS.add(f"server ({encoding}): incremental changes sent", sent)
    assert not failures, f"seed {SEED}: {failures[:2]!r}"
