"""TOML 1.0.0 conformance: the toml-lang corpus (tests/data/toml-test, see its README)
through the real `snowauth check`. Every invalid file gets a TOML-validity finding, no
valid file gets one, and what snowauth reads from the valid ones is what tomllib reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from snowauth.document import TOML_VALIDITY_CODES
from snowauth.files import read_text
from snowauth.syntax import parse
from tests.kit.toml_values import data_of, same

CORPUS = Path(__file__).resolve().parents[1] / "data" / "toml-test"
NAMES = (CORPUS / "files-toml-1.0.0").read_text(encoding="utf-8").split()
INVALID = [n for n in NAMES if n.startswith("invalid/")]
VALID = [n for n in NAMES if n.startswith("valid/")]


def test_the_corpus_is_all_there() -> None:
    assert (len(INVALID), len(VALID)) == (499, 210)
    assert all((CORPUS / n).is_file() for n in NAMES)


@pytest.fixture(scope="module")
def checked() -> dict[str, list[dict[str, object]]]:
    """`snowauth check --format json` of every corpus file at once: rows by file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOW")}
    env["PYTHONIOENCODING"] = "utf-8"
    r = subprocess.run(
        [sys.executable, "-m", "snowauth", "check", "--format", "json", *NAMES],
        cwd=CORPUS,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert r.returncode in (0, 1), r.stderr
    rows: dict[str, list[dict[str, object]]] = {n: [] for n in NAMES}
    for row in json.loads(r.stdout):
        rows[str(row["path"])].append(row)
    return rows


def test_every_invalid_file_gets_a_toml_validity_error(checked: dict[str, list[dict[str, object]]]) -> None:
    missed = {
        n: sorted({str(r["code"]) for r in checked[n]})
        for n in INVALID
        if not any(r["code"] in TOML_VALIDITY_CODES and r["severity"] == "error" for r in checked[n])
    }
    assert missed == {}


def test_no_valid_file_gets_a_toml_validity_finding(checked: dict[str, list[dict[str, object]]]) -> None:
    flagged = {
        n: [(r["line"], r["code"], r["message"]) for r in checked[n] if r["code"] in TOML_VALIDITY_CODES] for n in VALID
    }
    assert {n: f for n, f in flagged.items() if f} == {}
    # and snowauth did read them: the format's own findings are there (no file is a
    # connection file), so a check that silently skipped them would fail here
    assert sum(1 for n in VALID if checked[n]) > len(VALID) // 2


@pytest.mark.parametrize("name", VALID)
def test_valid_file_values_equal_tomllibs(name: str) -> None:
    text, problem = read_text(CORPUS / name)
    assert problem is None
    ours = data_of(parse(text))
    theirs = tomllib.loads(text.removeprefix("\ufeff"))
    assert same(ours, theirs), (ours, theirs)
