"""`snowauth check` reads its usual arguments without argparse (cli._check_arguments):
whatever it accepts, argparse reads the same way; whatever argparse would answer with a
page or an error (help, a bad value, an abbreviation, `--`), it leaves to argparse, so the
pages and the messages are argparse's own, run as a user runs them."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path

import pytest

from snowauth.cli import _check_arguments, build_parser
from tests.kit.cli import run_snowauth

TOKENS = [
    "a.snowauth.toml", "b", "-", "--format", "json", "--format=sarif", "--fail-on", "tokens-in-git",
    "--fail-on=", "--form", "--", "-h", "--format=", "-x", "--fail-on=x", "text",
]  # fmt: skip


def test_what_it_reads_argparse_reads_the_same_way() -> None:
    parser = build_parser()
    read = 0
    for k in range(5):
        for combo in itertools.product(TOKENS, repeat=k):
            fast = _check_arguments(list(combo))
            if fast is None:
                continue
            read += 1
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                ns = parser.parse_args(["check", *combo])
            assert (ns.paths, ns.format, ns.fail_on) == fast, combo
    assert read > 1000  # the reader is not a stub that leaves everything to argparse


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["f"], (["f"], "text", [])),
        (["f", "g", "--format", "sarif"], (["f", "g"], "sarif", [])),
        (["--fail-on=tokens-in-git", "--format=github", "f"], (["f"], "github", ["tokens-in-git"])),
        (["--fail-on", "a", "--fail-on", "b", "f"], (["f"], "text", ["a", "b"])),
        (["f", "--format", "json", "g"], None),  # argparse: unrecognized arguments: g
        (["--format", "yaml", "f"], None),
        (["--form", "json", "f"], None),
        (["--help"], None),
        (["--", "-f"], None),
        ([], None),
    ],
)
def test_the_usual_forms_are_read_and_the_rest_left_to_argparse(
    args: list[str], expected: tuple[list[str], str, list[str]] | None
) -> None:
    assert _check_arguments(args) == expected


def test_argparse_still_answers_what_the_reader_leaves(tmp_path: Path) -> None:
    path = tmp_path / "dev.snowauth.toml"
    path.write_text("# caf\u00e9 \u2713 \U0001f600\n[connections.dev]\n", encoding="utf-8")
    bad = run_snowauth("check", str(path), "--format", "yaml")
    assert bad.returncode == 2
    assert "usage: snowauth check [-h]" in bad.stderr
    assert "argument --format: invalid choice: 'yaml'" in bad.stderr
    split = run_snowauth("check", str(path), "--format", "json", str(path))
    assert split.returncode == 2
    assert "unrecognized arguments" in split.stderr
    page = run_snowauth("check", "--help")
    assert page.returncode == 0
    assert page.stdout.startswith("usage: snowauth check [-h]")
    read = run_snowauth("check", "--format=json", str(path))
    assert read.returncode == 1, read.stderr  # a connection without its keys: errors
    assert read.stdout.startswith("[")
