"""Secret references in string values: ``${env:NAME}``, ``${file:path}``, ``${prompt}``.

Parsing and checking are pure; resolution (at fetch time only) reads the process
environment, the connection file's ``.env`` (read, never written) and files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_REFERENCE = re.compile(r"\$\{(?:(env):([A-Za-z_][A-Za-z0-9_]*)|(file):([^}]+)|(prompt))\}")
# a `#` starts a comment only after whitespace: `PASSWORD=pa#ss` is `pa#ss` (as in python-dotenv)
_DOTENV_LINE = re.compile(
    r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"
    r"(?:'([^']*)'\s*(?:#.*)?|\"((?:[^\"\\]|\\.)*)\"\s*(?:#.*)?|([^\r\n]*?)\s*(?:(?<=\s)#.*)?)$"
)
_DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True, slots=True)
class Reference:
    kind: str  # "env" | "file" | "prompt"
    argument: str = ""

    def describe(self) -> str:
        return "${prompt}" if self.kind == "prompt" else f"${{{self.kind}:{self.argument}}}"


class ReferenceSyntaxError(ValueError):
    pass


class SecretUnavailable(Exception):
    """A reference could not be resolved. The message names the reference, never a value."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def parse_reference(value: str) -> Reference | None:
    """The reference a whole string value is, None for a literal, or ReferenceSyntaxError."""
    if "${" not in value:
        return None
    m = _REFERENCE.fullmatch(value)
    if m:
        if m.group(1):
            return Reference("env", m.group(2))
        if m.group(3):
            return Reference("file", m.group(4).strip())
        return Reference("prompt")
    if value.startswith("${env:") and value.endswith("}"):
        raise ReferenceSyntaxError(
            f"`{value}` is not a valid variable name: use letters, digits and `_`, e.g. `${{env:SNOW_PASSWORD}}`"
        )
    if value.startswith("${") and value.endswith("}"):
        raise ReferenceSyntaxError(
            f"Unknown reference `{value}`: use `${{env:NAME}}`, `${{file:path}}` or `${{prompt}}`"
        )
    raise ReferenceSyntaxError(
        'A reference must be the whole value, e.g. `"${env:SNOW_PASSWORD}"`; '
        "to write a literal `${`, this value cannot be used as a reference"
    )


def parse_dotenv(text: str) -> dict[str, str]:
    """NAME=value lines of a dotenv file (comments, ``export``, quotes)."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        m = _DOTENV_LINE.match(line)
        if not m:
            continue
        name, single, double, bare = m.groups()
        if single is not None:
            result[name] = single
        elif double is not None:
            result[name] = re.sub(r"\\(.)", lambda e: _DQ_ESCAPES.get(e.group(1), "\\" + e.group(1)), double)
        else:
            result[name] = (bare or "").strip()
    return result


def read_dotenv(folder: Path | None) -> dict[str, str]:
    if folder is None:
        return {}
    try:
        return parse_dotenv((folder / ".env").read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return {}


def file_reference_path(argument: str, folder: Path | None) -> Path:
    path = Path(os.path.expanduser(argument))
    if not path.is_absolute() and folder is not None:
        path = folder / path
    return path


ROOTS_VARIABLE = "SNOWAUTH_FILE_ROOTS"


def allowed_roots(folder: Path | None, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Where `${file:}` and `jwt_key_file` may read: the connection file's folder (and
    below), and the folders listed in $SNOWAUTH_FILE_ROOTS (os.pathsep-separated).

    A connection file is untrusted input: without this, one could send
    `${file:~/.ssh/id_rsa}` to any host it names."""
    roots = [p for p in (folder,) if p is not None]
    listed = (env if env is not None else os.environ).get(ROOTS_VARIABLE, "")
    roots += [Path(os.path.expanduser(p)) for p in listed.split(os.pathsep) if p.strip()]
    return tuple(roots)


def outside_roots(path: Path, roots: tuple[Path, ...]) -> bool:
    """True when ``path`` (symbolic links resolved) lies below none of ``roots``."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return True
    for root in roots:
        try:
            if real.is_relative_to(root.resolve()):
                return False
        except (OSError, RuntimeError):
            continue
    return True


def outside_message(key: str, argument: str, roots: tuple[Path, ...]) -> str:
    shown = ", ".join(f"`{r}`" for r in roots) or "none"
    return (
        f"`{key}` reads `{argument}`, which is outside the folders snowauth may read ({shown}): "
        f"move the file there, or add its folder to ${ROOTS_VARIABLE}"
    )


@dataclass
class Environment:
    """What the checks and the resolver may look at: injected so tests stay pure."""

    env: Mapping[str, str]
    folder: Path | None
    _dotenv: dict[str, str] | None = None

    @classmethod
    def of_process(cls, folder: Path | None) -> Environment:
        return cls(dict(os.environ), folder)

    @property
    def roots(self) -> tuple[Path, ...]:
        return allowed_roots(self.folder, self.env)

    @property
    def dotenv(self) -> dict[str, str]:
        if self._dotenv is None:
            self._dotenv = read_dotenv(self.folder)
        return self._dotenv

    def lookup_env(self, name: str) -> str | None:
        value = self.env.get(name)
        return value if value is not None else self.dotenv.get(name)

    def problem(self, ref: Reference) -> str | None:
        """Why ``ref`` cannot be resolved here, or None when it can (prompt always can)."""
        if ref.kind == "env":
            if self.lookup_env(ref.argument) is None:
                where = "the environment" + (" or the .env file beside this file" if self.folder else "")
                return f"`${{env:{ref.argument}}}`: `{ref.argument}` is not set in {where}"
            return None
        if ref.kind == "file":
            path = file_reference_path(ref.argument, self.folder)
            if not path.is_file():
                return f"`${{file:{ref.argument}}}`: no such file `{path}`"
            if outside_roots(path, self.roots):
                return outside_message(f"${{file:{ref.argument}}}", ref.argument, self.roots)
        return None


Prompt = Callable[[str], str | None]


def resolve(value: str, key: str, environment: Environment, prompt: Prompt | None = None) -> str:
    """The secret a value stands for; SecretUnavailable names what is missing."""
    try:
        ref = parse_reference(value)
    except ReferenceSyntaxError as exc:
        raise SecretUnavailable(f"`{key}`: {exc}", key) from None
    if ref is None:
        return value
    if ref.kind == "env":
        found = environment.lookup_env(ref.argument)
        if found is None:
            raise SecretUnavailable(
                f"`{key}` refers to `${{env:{ref.argument}}}`, but `{ref.argument}` is not set in the "
                "environment of the snowauth process or in the .env file beside the connection file",
                key,
            )
        return found
    if ref.kind == "file":
        path = file_reference_path(ref.argument, environment.folder)
        if outside_roots(path, environment.roots):
            raise SecretUnavailable(outside_message(key, ref.argument, environment.roots), key)
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable as UTF-8 text"
            raise SecretUnavailable(f"`{key}` refers to `${{file:{ref.argument}}}`: {reason}", key) from None
        if content.endswith("\r\n"):
            return content[:-2]
        return content[:-1] if content.endswith("\n") else content
    if prompt is None:
        raise SecretUnavailable(
            f"`{key}` is `${{prompt}}`, but this client cannot ask for secrets: "
            f"use `${{env:NAME}}` or `${{file:path}}` for `{key}` instead",
            key,
        )
    answer = prompt(key)
    if answer is None:
        raise SecretUnavailable(f"No value was entered for `{key}`; nothing was sent", key)
    return answer
