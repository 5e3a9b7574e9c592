"""The token written where other tools read it: `[connections.<name>.export]`.

Three formats (docs/reference.md), each changing only its own entries in the target:

- ``dotenv``: the lines ``SNOWAUTH_<NAME>_ACCESS_TOKEN=…`` and
  ``SNOWAUTH_<NAME>_INSTANCE_URL=…`` replaced where they are, else appended; every other
  line, comment, order and line ending kept byte for byte;
- ``http_client``: an ``http-client.private.env.json`` (JetBrains HTTP Client, httpYac):
  ``{"<name>": {"instance_url": …, "access_token": …}}`` merged in, the other
  environments and keys kept in their order, the file's indentation kept;
- ``postman``: a Postman environment whose ``instance_url`` (type default) and
  ``access_token`` (type secret) values are set, the other values kept.

Clearing (after a revoke) removes the dotenv lines, the environment's two keys (and the
environment when nothing else is left in it), and empties the Postman token's value.

Paths are relative to the connection file's folder and confined like `${file:}`
(SECURITY.md). A write holds an exclusive lock on the target's folder while it reads,
merges and replaces the file (a temporary file in the same folder, then ``os.replace``),
so two processes exporting at once each leave a complete, valid file. A new file gets
mode 0600; an existing one keeps its mode. A target that is not valid for its format is
never overwritten: the message names the file and what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowauth import files, model
from snowauth.document import Connection
from snowauth.secrets import dotenv_quote, file_reference_path, outside_roots

FORMATS = tuple(model.EXPORT_KEYS)
MAX_BYTES = files.SECRET_MAX_BYTES
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_INDENT = re.compile(r"[\r\n]([ \t]+)\S")


class ExportError(Exception):
    """A target that cannot be written; the message names it and says what to do."""


@dataclass(frozen=True)
class Values:
    """What a target receives: the instance URL and the access token."""

    instance_url: str
    access_token: str


@dataclass(frozen=True)
class Target:
    """One declared export: its format, the path as written, and where it leads."""

    format: str
    argument: str
    path: Path


def declared(c: Connection) -> list[tuple[str, str]]:
    """The connection's exports as written: (format, path) for each string value."""
    return [(k, str(a.value.data)) for k, a in c.export.items() if a.value.kind == "string" and a.value.data]


def outside_message(key: str, argument: str, roots: tuple[Path, ...]) -> str:
    shown = ", ".join(f"`{r}`" for r in roots) or "none"
    return (
        f"`export.{key}` writes `{argument}`, which is outside the folders snowauth may write ({shown}): "
        "use a path inside this file's folder (nothing is written there)"
    )


def target(key: str, argument: str, folder: Path | None, roots: tuple[Path, ...]) -> Target:
    """The target ``argument`` names (relative to ``folder``); ExportError when it leads
    outside ``roots`` (symbolic links resolved), as `${file:}` is refused."""
    path = file_reference_path(argument, folder)
    if folder is None or outside_roots(path, roots):
        raise ExportError(outside_message(key, argument, roots))
    return Target(key, argument, path)


def env_prefix(connection: str) -> str:
    """`SNOWAUTH_<NAME>_`: the connection's name in capitals, other characters as `_`."""
    clean = re.sub(r"[^A-Za-z0-9]", "_", connection).upper() or "CONNECTION"
    return f"SNOWAUTH_{clean}_"


# -- the formats (text in, text out) ---------------------------------------------------------


def render_dotenv(old: str | None, connection: str, values: Values | None) -> str:
    prefix = env_prefix(connection)
    wanted = {} if values is None else {"ACCESS_TOKEN": values.access_token, "INSTANCE_URL": values.instance_url}
    owned = {prefix + "ACCESS_TOKEN", prefix + "INSTANCE_URL"}
    return merge_dotenv(old, owned, {prefix + k: v for k, v in wanted.items()})


def merge_dotenv(old: str | None, owned: set[str], wanted: dict[str, str]) -> str:
    """``old`` with the variables in ``owned`` set to their ``wanted`` values where they
    are (the first line of each), else appended; the owned ones not wanted (and second
    copies) dropped; every other line kept byte for byte."""
    lines = _LINE.findall(old or "")
    newline = next((m.group(0) for m in map(re.compile(r"\r\n|\r|\n").search, lines) if m), "\n")
    out: list[str] = []
    done: set[str] = set()
    for line in lines:
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", line)
        which = m.group(1) if m and m.group(1) in owned else None
        if which is None:
            out.append(line)
        elif which in wanted and which not in done:
            ending = line[len(line.rstrip("\r\n")) :]
            out.append(f"{which}={dotenv_quote(wanted[which])}{ending}")
            done.add(which)
        # else: ours, cleared (or a second copy): dropped
    if any(k not in done for k in wanted) and out and not out[-1].endswith(("\n", "\r")):
        out[-1] += newline
    out += [f"{k}={dotenv_quote(v)}{newline}" for k, v in wanted.items() if k not in done]
    return "".join(out)


def _load_json(old: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(old)
    except ValueError as exc:
        raise ExportError(f"it is not valid JSON ({exc}): fix it, or delete it to let snowauth create it") from None
    if not isinstance(data, dict):
        raise ExportError(f"it is not {what} (a JSON object): fix it, or delete it to let snowauth create it")
    return data


def _dump_json(data: Any, old: str | None) -> str:
    """JSON laid out as ``old`` was (its indentation and line ending), 2 spaces when new."""
    indent: str | int | None = 2
    newline = "\n"
    if old is not None:
        m = _INDENT.search(old)
        indent = m.group(1) if m else (None if "\n" not in old.strip() and "\r" not in old.strip() else 2)
        if "\r\n" in old:
            newline = "\r\n"
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    if newline != "\n":
        text = text.replace("\n", newline)
    ends = old is None or old.endswith(("\n", "\r"))
    return text + (newline if ends else "")


def render_http_client(old: str | None, connection: str, values: Values | None) -> str:
    from snowauth.export_shapes import http_client_environment  # pydantic: not on the start path

    data = _load_json(old, "an http-client environment file") if old is not None and old.strip() else {}
    env = data.get(connection)
    if env is not None and http_client_environment(env) is not None:
        raise ExportError(
            f"its environment `{connection}` is not a JSON object: fix it, or remove it to let snowauth write it"
        )
    env = dict(env or {})
    if values is None:
        env.pop("instance_url", None)
        env.pop("access_token", None)
        if env:
            data[connection] = env
        else:
            data.pop(connection, None)
    else:
        env["instance_url"] = values.instance_url
        env["access_token"] = values.access_token
        data[connection] = env
    return _dump_json(data, old if old is not None and old.strip() else None)


def render_postman(old: str | None, connection: str, values: Values | None) -> str:
    from snowauth.export_shapes import postman_environment  # pydantic: not on the start path

    fresh = old is None or not old.strip()
    if fresh:
        import uuid  # only a new environment needs it

        data: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": f"snowauth {connection}",
            "values": [],
            "_postman_variable_scope": "environment",
        }
    else:
        assert old is not None
        data = _load_json(old, "a Postman environment")
    wrong = postman_environment(data)
    if wrong is not None:
        raise ExportError(
            f"its `values` is not a list of Postman variables ({wrong}): fix it, or delete it to let snowauth create it"
        )
    items = data.setdefault("values", [])
    wanted = {"instance_url": ("default", values.instance_url if values else None)}
    wanted["access_token"] = ("secret", values.access_token if values else "")
    for key, (kind, value) in wanted.items():
        if value is None:
            continue  # cleared: the instance URL stays, it is no secret
        item = next((i for i in items if i.get("key") == key), None)
        if item is None:
            items.append({"key": key, "value": value, "type": kind, "enabled": True})
        else:
            item["value"] = value
            item["type"] = kind
    return _dump_json(data, None if fresh else old)


RENDER = {"dotenv": render_dotenv, "http_client": render_http_client, "postman": render_postman}


# -- writing ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (flock on the folder itself: no lock file left
    behind), held while a target in it is read, merged and replaced."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): write-then-rename still keeps the file whole
        yield
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _replace(path: Path, text: str, mode: int | None) -> None:
    import tempfile  # only a write needs it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".snowauth.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600 if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(t: Target, connection: str, values: Values | None, roots: tuple[Path, ...]) -> bool:
    """Write (``values``) or clear (None) the connection's entries in ``t``; False when
    nothing had to change (clearing a file that is absent). ExportError says why not."""
    shown = f"`{t.argument}` (export.{t.format} of `{connection}`)"
    if outside_roots(t.path, roots):  # checked again now: the folder may have changed
        raise ExportError(outside_message(t.format, t.argument, roots))
    real = t.path.resolve()
    if not real.parent.is_dir():
        raise ExportError(f"{shown} cannot be written: its folder `{real.parent}` does not exist")
    try:
        with _folder_lock(real.parent):
            try:
                data = files.read_bytes(real, MAX_BYTES, follow_links=False)
                mode: int | None = stat.S_IMODE(real.stat().st_mode)
                old: str | None = data.decode("utf-8")
            except FileNotFoundError:
                if values is None:
                    return False
                old, mode = None, None
            except UnicodeDecodeError:
                raise ExportError(f"{shown} is not UTF-8: fix it, or delete it to let snowauth create it") from None
            except files.RefusedFile as exc:
                raise ExportError(f"{shown} is not written: {exc.reason}") from None
            try:
                text = RENDER[t.format](old, connection, values)
            except ExportError as exc:
                raise ExportError(f"{shown} was not changed: {exc}") from None
            if text != old:
                _replace(real, text, mode)
            return text != old
    except OSError as exc:
        raise ExportError(f"{shown} cannot be written: {exc.strerror or exc}") from None


def set_dotenv_variable(path: Path, name: str, value: str) -> None:
    """Set one variable in the `.env` file at ``path`` (its line replaced where it is,
    else appended), as an export is written: locked, atomic, a new file 0600, an existing
    one keeps its mode; never through a link. ExportError says why not."""
    try:
        if path.is_symlink():
            raise ExportError(f"`{path}` is a symbolic link: snowauth writes no secret through it")
        with _folder_lock(path.parent):
            try:
                data = files.read_bytes(path, MAX_BYTES, follow_links=False)
                mode: int | None = stat.S_IMODE(path.stat().st_mode)
                old: str | None = data.decode("utf-8")
            except FileNotFoundError:
                old, mode = None, None
            except UnicodeDecodeError:
                raise ExportError(f"`{path}` is not UTF-8: fix it, or delete it to let snowauth create it") from None
            except files.RefusedFile as exc:
                raise ExportError(f"`{path}` is not written: {exc.reason}") from None
            text = merge_dotenv(old, {name}, {name: value})
            if text != old:
                _replace(path, text, mode)
    except OSError as exc:
        raise ExportError(f"`{path}` cannot be written: {exc.strerror or exc}") from None


def export(
    c: Connection, folder: Path | None, roots: tuple[Path, ...], values: Values | None
) -> tuple[list[Target], list[str]]:
    """Write (or clear) every declared target of ``c``: the targets written and a message
    for each that failed (a failure never stops the others)."""
    written: list[Target] = []
    problems: list[str] = []
    for key, argument in declared(c):
        try:
            t = target(key, argument, folder, roots)
            if write(t, c.name, values, roots):
                written.append(t)
        except ExportError as exc:
            problems.append(str(exc))
    return written, problems


def confined(c: Connection, folder: Path | None, roots: tuple[Path, ...]) -> list[Target]:
    """The declared targets of ``c`` that lie inside ``roots`` (for the git checks)."""
    out: list[Target] = []
    for key, argument in declared(c):
        with contextlib.suppress(ExportError):
            out.append(target(key, argument, folder, roots))
    return out
