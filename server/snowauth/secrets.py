"""Secret references in string values: ``${env:NAME}``, ``${file:path}``, ``${prompt}``.

Parsing and checking are pure; resolution (at fetch time only) reads the process
environment, the connection file's ``.env`` (read, never written) and files. Every file is
read through ``files.read_bytes``: bounded, regular files only, inside the allowed folders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from snowauth import files

_REFERENCE = re.compile(r"\$\{(?:(env):([A-Za-z_][A-Za-z0-9_]*)|(file):([^}]+)|(prompt))\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DQ_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$", "`": "`"}
DOTENV = ".env"


@dataclass(frozen=True, slots=True)
class Reference:
    """A `${env:NAME}`, `${file:PATH}` or `${prompt}` reference."""

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


# -- .env -------------------------------------------------------------------------------------
#
# The parser below is a hand-written scan, linear in the line's length: a .env comes with
# the repository, and a regular expression that backtracks (a value, 100,000 spaces, a
# character) would keep the language server busy for hours.


def parse_dotenv(text: str) -> dict[str, str]:
    """NAME=value lines of a dotenv file; the later of two equal names wins.

    Lines end at CR, LF or CRLF. Blank lines, lines starting with ``#`` and lines that are
    not ``NAME=value`` are skipped; ``export NAME=value`` is ``NAME=value``; spaces around
    the name, the ``=`` and a bare value are dropped. ``'single'`` quotes keep everything
    literally; in ``"double"`` quotes ``\\n \\r \\t \\" \\\\ \\$`` and ``\\``` are escapes
    (another ``\\x`` stays as is). A ``#`` starts a comment after a closing quote, or in a
    bare value after whitespace: ``PASSWORD=pa#ss`` is ``pa#ss`` (as in python-dotenv)."""
    result: dict[str, str] = {}
    for line in _LINE_BREAK.split(text):
        found = _dotenv_line(line)
        if found is not None:
            result[found[0]] = found[1]
    return result


def _dotenv_line(line: str) -> tuple[str, str] | None:
    s = line.lstrip()
    if s.startswith("export"):
        after = s[len("export") :]
        rest = after.lstrip()
        if len(rest) != len(after):  # `export` and whitespace; else `export=1` names `export`
            found = _assignment(rest)
            if found is not None:
                return found
    return _assignment(s)


def _assignment(s: str) -> tuple[str, str] | None:
    m = _NAME.match(s)
    if m is None:
        return None
    rest = s[m.end() :].lstrip()
    if not rest.startswith("="):
        return None
    after = rest[1:]
    value = after.lstrip()
    return m.group(), _dotenv_value(value, spaced=len(value) != len(after))


def _dotenv_value(value: str, *, spaced: bool) -> str:
    """The value of ``value`` (what follows ``=`` and its spaces); ``spaced`` tells whether
    spaces came before it (then a leading ``#`` starts a comment)."""
    if value.startswith("'"):
        end = value.find("'", 1)
        if end != -1 and _comment_or_nothing(value[end + 1 :]):
            return value[1:end]
    elif value.startswith('"'):
        i, n = 1, len(value)
        while i < n and value[i] != '"':
            i += 2 if value[i] == "\\" else 1
        if i < n and _comment_or_nothing(value[i + 1 :]):
            return _DQ_ESCAPE.sub(lambda e: _DQ_ESCAPES.get(e.group(1), e.group(0)), value[1:i])
    # a bare value (or quotes that do not close): up to the first `#` after whitespace
    at = value.find("#")
    while at != -1:
        if value[at - 1].isspace() if at else spaced:
            value = value[:at]
            break
        at = value.find("#", at + 1)
    return value.strip()


def _comment_or_nothing(rest: str) -> bool:
    rest = rest.lstrip()
    return not rest or rest.startswith("#")


def dotenv_quote(value: str) -> str:
    """``value`` written for a .env so that our reader, python-dotenv, docker compose and
    a shell's ``source`` all read it back without running anything in it.

    A value that a repository's author chose ends up in a file shells source (`set -a;
    source .env`): inside double quotes, `$(…)` and backticks would run. So: bare when
    only harmless characters; in single quotes (literal for shells and dotenv readers
    alike) when it has no `'`, backslash or line break; else in double quotes with `\\`,
    `"`, `$` and backticks escaped and line breaks as `\\n`/`\\r` (a shell reads those
    two as written)."""
    if re.fullmatch(r"[A-Za-z0-9_./+:@-]*", value):
        return value
    if not any(c in value for c in "'\\\n\r"):
        return f"'{value}'"
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def load_dotenv(folder: Path | None, roots: tuple[Path, ...]) -> tuple[dict[str, str], str | None]:
    """The ``.env`` beside a connection file, and why it was not read (None when it was
    read, or is absent): ``dotenv_text``'s text, parsed."""
    text, refused = dotenv_text(folder, roots)
    return (parse_dotenv(text) if text is not None else {}), refused


def dotenv_names(text: str) -> dict[str, tuple[int, int]]:
    """Where each variable of a dotenv text is set: the span (code points) of its name on
    the line that wins (the later one, as ``parse_dotenv`` reads it)."""
    out: dict[str, tuple[int, int]] = {}
    at = 0
    for m in (*_LINE_BREAK.finditer(text), None):
        end = m.start() if m is not None else len(text)
        line = text[at:end]
        found = _dotenv_line(line)
        if found is not None:
            name = found[0]
            s = line.lstrip()
            lead = len(line) - len(s)
            if not (s.startswith(name) and s[len(name) :].lstrip().startswith("=")):
                after = s[len("export") :]  # `export NAME=…`
                lead += len("export") + len(after) - len(after.lstrip())
            out[name] = (at + lead, at + lead + len(name))
        if m is None:
            break
        at = m.end()
    return out


def dotenv_text(folder: Path | None, roots: tuple[Path, ...]) -> tuple[str | None, str | None]:
    """The text of the ``.env`` beside a connection file (None when absent or refused),
    and why it was not read (None when it was read, or is absent).

    The .env comes with the repository like the connection file: a symbolic link to
    `~/.aws/credentials` would otherwise send the user's keys as `client_secret`, and a
    link to `/dev/zero` or a FIFO would hang every reader. So it is read only when it is
    (or links to) a regular file inside ``roots``, of at most files.SECRET_MAX_BYTES."""
    if folder is None:
        return None, None
    path = folder / DOTENV
    try:
        linked = path.is_symlink()
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return None, None  # absent (or a link to nothing): nothing to read
    except (OSError, RuntimeError):
        return None, "it is a symbolic link that leads nowhere (a loop): make .env a regular file here"
    if linked and outside_roots(real, roots):
        return None, (
            f"it is a symbolic link to `{real}`, outside this folder and ${ROOTS_VARIABLE}: "
            "make .env a regular file here"
        )
    try:
        data = files.read_bytes(real, files.SECRET_MAX_BYTES, follow_links=False)
    except files.RefusedFile as exc:
        advice = "keep .env smaller" if "larger" in exc.reason else "make .env a regular file here"
        return None, f"{exc.reason}: {advice}"
    except OSError as exc:
        return None, f"it could not be read ({exc.strerror or exc})"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "it is not valid UTF-8: save .env as UTF-8"
    return text, None


def read_dotenv(folder: Path | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of the ``.env`` beside a connection file ({} when absent or refused)."""
    return load_dotenv(folder, allowed_roots(folder, env))[0]


def dotenv_append_refusal(folder: Path) -> str | None:
    """Why the quick fix must not append to ``folder/.env`` (None when it may): the client
    writes where the path leads, so a link (to `~/.bashrc`, say) is never written through."""
    return files.append_refusal(folder / DOTENV, files.SECRET_MAX_BYTES)


# -- files ------------------------------------------------------------------------------------


def file_reference_path(argument: str, folder: Path | None) -> Path:
    path = Path(os.path.expanduser(argument))
    if not path.is_absolute() and folder is not None:
        path = folder / path
    return path


ROOTS_VARIABLE = "SNOWAUTH_FILE_ROOTS"


def allowed_roots(folder: Path | None, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Where `${file:}`, `jwt_key_file`, `ca_bundle` and `.env` may read: the connection
    file's folder (and below), and the folders listed in $SNOWAUTH_FILE_ROOTS
    (os.pathsep-separated).

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


def read_confined(key: str, argument: str, folder: Path | None, roots: tuple[Path, ...], label: str) -> bytes:
    """The bytes of the file ``argument`` names (relative to ``folder``) for ``key``.

    SecretUnavailable, its message starting with ``label`` and naming the file (never its
    content), when the file lies outside ``roots`` (links resolved), is not a regular
    file, is over files.SECRET_MAX_BYTES or cannot be read. The resolved path is opened
    without following a link, so what is read is what was checked."""
    path = file_reference_path(argument, folder)
    if outside_roots(path, roots):
        raise SecretUnavailable(outside_message(key, argument, roots), key)
    try:
        return files.read_bytes(path.resolve(), files.SECRET_MAX_BYTES, follow_links=False)
    except files.RefusedFile as exc:
        raise SecretUnavailable(f"{label}: {exc.reason}", key) from None
    except OSError as exc:
        raise SecretUnavailable(f"{label}: {exc.strerror or 'unreadable'}", key) from None


@dataclass
class Environment:
    """What the checks and the resolver may look at: injected so tests stay pure."""

    env: Mapping[str, str]
    folder: Path | None
    _dotenv: dict[str, str] | None = None
    _dotenv_refused: str | None = None

    @classmethod
    def of_process(cls, folder: Path | None) -> Environment:
        return cls(dict(os.environ), folder)

    @property
    def roots(self) -> tuple[Path, ...]:
        return allowed_roots(self.folder, self.env)

    @property
    def dotenv(self) -> dict[str, str]:
        """The .env's values; {} when it is absent or was refused (see dotenv_refused)."""
        if self._dotenv is None:
            self._dotenv, self._dotenv_refused = load_dotenv(self.folder, self.roots)
        return self._dotenv

    @property
    def dotenv_refused(self) -> str | None:
        """Why the .env beside the file was not read, or None."""
        _ = self.dotenv
        return self._dotenv_refused

    def lookup_env(self, name: str) -> str | None:
        value = self.env.get(name)
        return value if value is not None else self.dotenv.get(name)

    def problem(self, ref: Reference) -> str | None:
        """Why ``ref`` cannot be resolved here, or None when it can (prompt always can)."""
        if ref.kind == "env":
            if self.lookup_env(ref.argument) is None:
                name = ref.argument
                if self.folder is None:
                    return f"`${{env:{name}}}`: `{name}` is not set in the environment"
                refused = self.dotenv_refused
                if refused is not None:
                    return (
                        f"`${{env:{name}}}`: `{name}` is not set in the environment, and the .env "
                        f"beside this file was not read ({refused}, or set `{name}` in the environment)"
                    )
                return f"`${{env:{name}}}`: `{name}` is not set in the environment or the .env file beside this file"
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
            name = ref.argument
            refused = environment.dotenv_refused if environment.folder is not None else None
            if refused is not None:
                raise SecretUnavailable(
                    f"`{key}` refers to `${{env:{name}}}`, but `{name}` is not set in the environment of "
                    f"the snowauth process, and the .env file beside the connection file was not read "
                    f"({refused}, or set `{name}` in the environment)",
                    key,
                )
            raise SecretUnavailable(
                f"`{key}` refers to `${{env:{name}}}`, but `{name}` is not set in the "
                "environment of the snowauth process or in the .env file beside the connection file",
                key,
            )
        return found
    if ref.kind == "file":
        label = f"`{key}` refers to `${{file:{ref.argument}}}`"
        data = read_confined(key, ref.argument, environment.folder, environment.roots, label)
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretUnavailable(f"{label}: not readable as UTF-8 text", key) from None
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


def env_name(connection: str, key: str) -> str:
    """The variable a connection's secret is named as in `${env:}` (the move-to-.env quick
    fix, completion's examples): `SNOW_<CONNECTION>_<KEY>`."""
    clean = re.sub(r"[^A-Za-z0-9]+", "_", connection).strip("_").upper() or "CONNECTION"
    return f"SNOW_{clean}_{key.upper()}"
