"""`snowauth --help`, `snowauth --version` and every command's help page, run as a user runs
them: each page explains the command and every option, ends with EXAMPLES that run that
command, says its exit statuses, and fits an 80-column terminal. The commands are found in
the parser, so a new one gets the same checks."""

from __future__ import annotations

import argparse
import os
from importlib.metadata import version

import pytest

import snowauth
from snowauth.cli import build_parser
from snowauth.emulator.cli import _parser as emulator_parser
from tests.kit.cli import run_snowauth

# commands that only print something generated: no exit status worth a sentence
PRINT_ONLY = {"schema", "reference"}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


COMMANDS = sorted(_subparsers())


def _page(*args: str) -> str:
    done = run_snowauth(*args, "--help", env=_env())
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "COLUMNS": "80"}


def test_the_commands_are_found() -> None:
    assert {"check", "lsp", "token", "exec", "emulator"} <= set(COMMANDS)


def test_version_prints_the_package_version() -> None:
    done = run_snowauth("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"snowauth {version('snowauth')}\n", "")
    assert version("snowauth") == snowauth.__version__


def test_the_main_page_lists_every_command_with_examples() -> None:
    page = _page()
    assert page.startswith("usage: snowauth [-h] [--version] COMMAND ...")
    for command in COMMANDS:
        assert f"\n    {command} " in page or f"\n    {command}\n" in page, command
    examples = page.split("\nExamples:\n", 1)[1]
    assert examples.count("\n  snowauth ") >= 5
    assert "Exit status:" in page
    assert max(len(line) for line in page.splitlines()) <= 80


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_a_manual_page(command: str) -> None:
    page = _page(command)
    assert page.startswith(f"usage: snowauth {command}")
    head, _, examples = page.partition("\nExamples:\n")
    assert examples, f"`snowauth {command} --help` has no Examples section"
    ran = [line.strip() for line in examples.splitlines() if line.strip().startswith(f"snowauth {command}")]
    assert ran, f"no example runs `snowauth {command}`"
    # a description between the usage and the options
    description = head.split("\n\n")[1]
    assert len(description.split()) >= 10, description
    if command not in PRINT_ONLY:
        assert "Exit status:" in " ".join(page.split())
    # every option explained
    parser = emulator_parser() if command == "emulator" else _subparsers()[command]
    for action in parser._actions:
        assert action.help and action.help != argparse.SUPPRESS, (command, action.option_strings or action.dest)
    for line in examples.splitlines():
        assert len(line) <= 80, line
    if command != "emulator":  # its page lists the demo instance's values as written
        assert max(len(line) for line in page.splitlines()) <= 80


def test_prose_is_filled_to_the_terminal_but_examples_are_kept() -> None:
    wide = run_snowauth("token", "--help", env={**_env(), "COLUMNS": "200"}).stdout
    narrow = _page("token")
    assert len(wide.splitlines()) < len(narrow.splitlines())  # the description takes fewer lines
    assert wide.split("\nExamples:\n")[1] == narrow.split("\nExamples:\n")[1]
