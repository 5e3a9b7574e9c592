"""secrets: ${env:}/${file:}/${prompt} references, .env files, resolution (never leaking a value)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snowauth.secrets import (
    Environment,
    Reference,
    ReferenceSyntaxError,
    SecretUnavailable,
    file_reference_path,
    parse_dotenv,
    parse_reference,
    read_dotenv,
    resolve,
)


@pytest.mark.parametrize(
    ("value", "ref"),
    [
        ("plain", None),
        ("", None),
        ("$env:A", None),
        ("{env:A}", None),
        ("$ {env:A}", None),
        ("${env:A}", Reference("env", "A")),
        ("${env:_SNOW_1}", Reference("env", "_SNOW_1")),
        ("${file:secret.txt}", Reference("file", "secret.txt")),
        ("${file: spaced.txt }", Reference("file", "spaced.txt")),
        ("${file:/abs/path with space}", Reference("file", "/abs/path with space")),
        ("${file:~/pw}", Reference("file", "~/pw")),
        ("${prompt}", Reference("prompt")),
    ],
)
def test_parse_reference(value: str, ref: Reference | None) -> None:
    assert parse_reference(value) == ref


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("${env:1A}", "is not a valid variable name"),
        ("${env:}", "is not a valid variable name"),
        ("${env: A}", "is not a valid variable name"),
        ("${env:A-B}", "is not a valid variable name"),
        ("${env:A}${env:B}", "is not a valid variable name"),
        ("${vault:x}", "Unknown reference `${vault:x}`"),
        ("${file:}", "Unknown reference"),
        ("${prompt }", "Unknown reference"),
        ("${PROMPT}", "Unknown reference"),
        ("${env:A", "A reference must be the whole value"),
        ("x${env:A}", "A reference must be the whole value"),
        ("${env:A} ", "A reference must be the whole value"),
        ("${", "A reference must be the whole value"),
    ],
)
def test_invalid_references(value: str, says: str) -> None:
    with pytest.raises(ReferenceSyntaxError) as info:
        parse_reference(value)
    assert says in str(info.value)


def test_reference_describe() -> None:
    assert Reference("env", "A").describe() == "${env:A}"
    assert Reference("file", "x").describe() == "${file:x}"
    assert Reference("prompt").describe() == "${prompt}"


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("A=1", {"A": "1"}),
        ("A = spaced value ", {"A": "spaced value"}),
        ("  export A=1", {"A": "1"}),
        ("A=", {"A": ""}),
        ("A=value # comment", {"A": "value"}),
        ("A= # only a comment", {"A": ""}),
        ("A=pa#ss", {"A": "pa#ss"}),  # a `#` inside a value is the value's
        ("A=#x", {"A": "#x"}),
        ("A='single # not comment'", {"A": "single # not comment"}),
        ("A='q'#c", {"A": "q"}),
        ("A='raw \\n'", {"A": "raw \\n"}),
        ('A="esc \\n \\t \\" \\\\ \\$ \\q"', {"A": 'esc \n \t " \\ $ \\q'}),
        ('A="q" # c', {"A": "q"}),
        ("A=a=b", {"A": "a=b"}),
        ("# A=1", {}),
        ("not a line", {}),
        ("1A=x", {}),
        ("", {}),
    ],
)
def test_parse_dotenv_lines(line: str, parsed: dict[str, str]) -> None:
    assert parse_dotenv(line) == parsed


def test_parse_dotenv_file_later_wins_and_line_breaks() -> None:
    text = "A=1\r\nB=2\rA=3\n"
    assert parse_dotenv(text) == {"A": "3", "B": "2"}


def test_read_dotenv(tmp_path: Path) -> None:
    assert read_dotenv(None) == {}
    assert read_dotenv(tmp_path) == {}
    (tmp_path / ".env").write_bytes(b"\xef\xbb\xbfA=1\n")
    assert read_dotenv(tmp_path) == {"A": "1"}
    (tmp_path / ".env").write_bytes(b"A=\xff\n")
    assert read_dotenv(tmp_path) == {}
    (tmp_path / ".env").unlink()
    (tmp_path / ".env").mkdir()
    assert read_dotenv(tmp_path) == {}


def test_file_reference_path(tmp_path: Path) -> None:
    assert file_reference_path("x.txt", tmp_path) == tmp_path / "x.txt"
    assert file_reference_path("/abs/x.txt", tmp_path) == Path("/abs/x.txt")
    assert file_reference_path("~/x.txt", tmp_path) == Path(os.path.expanduser("~/x.txt"))
    assert file_reference_path("x.txt", None) == Path("x.txt")


def test_environment_lookup_prefers_the_process_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=from-dotenv\nB=only-dotenv\n")
    env = Environment({"A": "from-env"}, tmp_path)
    assert env.lookup_env("A") == "from-env"
    assert env.lookup_env("B") == "only-dotenv"
    assert env.lookup_env("C") is None
    # an empty value in the environment is set (not missing)
    assert Environment({"A": ""}, tmp_path).lookup_env("A") == ""


def test_environment_of_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWAUTH_TEST_VAR", "1")
    env = Environment.of_process(tmp_path)
    assert env.lookup_env("SNOWAUTH_TEST_VAR") == "1"
    assert env.folder == tmp_path


@pytest.mark.parametrize(
    ("ref", "folder", "problem"),
    [
        (Reference("env", "SET"), False, None),
        (Reference("env", "UNSET"), False, "`${env:UNSET}`: `UNSET` is not set in the environment"),
        (
            Reference("env", "UNSET"),
            True,
            "`${env:UNSET}`: `UNSET` is not set in the environment or the .env file beside this file",
        ),
        (Reference("env", "IN_DOTENV"), True, None),
        (Reference("file", "exists.txt"), True, None),
        (Reference("file", "missing.txt"), True, "`${file:missing.txt}`: no such file `"),
        (Reference("file", "sub"), True, "`${file:sub}`: no such file"),  # a folder is not a file
        (Reference("prompt"), False, None),
    ],
)
def test_environment_problem(tmp_path: Path, ref: Reference, folder: bool, problem: str | None) -> None:
    (tmp_path / ".env").write_text("IN_DOTENV=1\n")
    (tmp_path / "exists.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    env = Environment({"SET": "1"}, tmp_path if folder else None)
    got = env.problem(ref)
    if problem is None:
        assert got is None
    else:
        assert got is not None and got.startswith(problem)


# -- resolution --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "secret"),
    [
        ("pw\n", "pw"),
        ("pw\r\n", "pw"),
        ("pw", "pw"),
        ("pw\n\n", "pw\n"),  # only one trailing newline is stripped
        (" pw \n", " pw "),
        ("", ""),
        ("pé😀\n", "pé😀"),
    ],
)
def test_resolve_file(tmp_path: Path, content: str, secret: str) -> None:
    (tmp_path / "pw.txt").write_bytes(content.encode())
    env = Environment({}, tmp_path)
    assert resolve("${file:pw.txt}", "password", env) == secret


def test_resolve_literal_env_and_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FROM_DOTENV=d\n")
    env = Environment({"FROM_ENV": "e"}, tmp_path)
    assert resolve("literal", "password", env) == "literal"
    assert resolve("${env:FROM_ENV}", "password", env) == "e"
    assert resolve("${env:FROM_DOTENV}", "password", env) == "d"


def test_resolve_prompt() -> None:
    env = Environment({}, None)
    asked: list[str] = []

    def prompt(key: str) -> str | None:
        asked.append(key)
        return "typed"

    assert resolve("${prompt}", "password", env, prompt) == "typed"
    assert asked == ["password"]
    with pytest.raises(SecretUnavailable) as info:
        resolve("${prompt}", "password", env, lambda key: None)
    assert "No value was entered for `password`" in str(info.value)
    with pytest.raises(SecretUnavailable) as info:
        resolve("${prompt}", "client_secret", env)
    assert info.value.key == "client_secret"
    assert "cannot ask for secrets" in str(info.value) and "${env:NAME}" in str(info.value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("${env:NOPE}", "`password` refers to `${env:NOPE}`, but `NOPE` is not set"),
        ("${file:nope.txt}", "`password` refers to `${file:nope.txt}`: No such file or directory"),
        ("${file:bad.txt}", "`password` refers to `${file:bad.txt}`: not readable as UTF-8 text"),
        ("${file:dir}", "`password` refers to `${file:dir}`: Is a directory"),
        ("${vault:x}", "`password`: Unknown reference"),
        ("pw${env:X}", "`password`: A reference must be the whole value"),
    ],
)
def test_resolve_failures_name_the_reference_never_a_value(tmp_path: Path, value: str, says: str) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe SECRET-BYTES")
    (tmp_path / "dir").mkdir()
    (tmp_path / ".env").write_text("OTHER=SECRET-IN-DOTENV\n")
    env = Environment({"OTHER_ENV": "SECRET-IN-ENV"}, tmp_path)
    with pytest.raises(SecretUnavailable) as info:
        resolve(value, "password", env)
    message = str(info.value)
    assert says in message
    assert info.value.key == "password"
    for secret in ("SECRET-BYTES", "SECRET-IN-DOTENV", "SECRET-IN-ENV"):
        assert secret not in message
