"""Going to a definition, finding a connection's references, renaming a connection: pure
functions of an ``Analysis`` (offsets in code points; ``lsp/convert.py`` makes them LSP).

- ``definition``: from a `default` value to its connection; from `${env:NAME}` to NAME's
  line in the `.env` beside the file (read as the resolver reads it: ``secrets``); from
  `${file:}` and the key-file paths to the file, when it lies where `${file:}` may read
  (SECURITY.md). Never a value: the hover on `${env:NAME}` says where NAME is set.
- ``references``: every place that names a connection (its headers, dotted keys, inline
  table, `default`), from the connection's own statements (``Analysis.statements_of``).
- ``prepare_rename``/``rename``: those places with the new name, plus the export targets
  that carry it (docs/decisions.md, "Navigation, rename and links").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from snowauth import exports, files, model
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.findings import Edit
from snowauth.secrets import (
    DOTENV,
    Environment,
    ReferenceSyntaxError,
    dotenv_names,
    dotenv_text,
    file_reference_path,
    outside_roots,
    parse_reference,
)
from snowauth.syntax import Entry, Header, KeyPart, Value

_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_DOTENV_ASSIGN = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=", re.MULTILINE)
NOT_A_NAME = "only a connection's name can be renamed here"


@dataclass(frozen=True, slots=True)
class FileSpot:
    """A place in another file: ``text`` is that file's text (the span is in it), empty
    for a file pointed at as a whole (its start)."""

    path: Path
    text: str = ""
    start: int = 0
    end: int = 0


Target = tuple[int, int] | FileSpot  # a span of this document, or a place in another file


@dataclass(frozen=True, slots=True)
class EnvReference:
    """`${env:NAME}` under the cursor and where NAME is set: "process" (the process
    environment, which wins), "dotenv" (the `.env` beside the file, at ``line``) or
    "nowhere"; ``refused`` says why the `.env` was not read. Never the value."""

    start: int
    end: int
    name: str
    where: str
    line: int | None = None
    refused: str | None = None


class RenameError(ValueError):
    """A rename that cannot be done; the message says why."""


@dataclass(slots=True)
class Rename:
    """The edits of a rename: this document's, and other files' (path, their text, edits)."""

    edits: list[Edit] = field(default_factory=list)
    files: list[tuple[Path, str, list[Edit]]] = field(default_factory=list)


# -- what is under the cursor ------------------------------------------------------------------


def entry_at(e: Entry, offset: int, base: tuple[str, ...]) -> tuple[tuple[str, ...], KeyPart | None, Entry] | None:
    """The path at ``offset`` inside the statement ``e`` (under the table ``base``), the
    key part there (None: the offset is in the value) and the innermost statement, inline
    tables entered (hover and navigation)."""
    for k, part in enumerate(e.key):
        if part.start <= offset <= part.end:
            return base + tuple(p.name for p in e.key[: k + 1]), part, e
    v = e.value
    if v is not None and v.start <= offset <= v.end:
        path = base + tuple(p.name for p in e.key)
        if v.kind == "table":
            for member in v.data:  # type: ignore[attr-defined]
                found = entry_at(member, offset, path)
                if found:
                    return found
        return path, None, e
    return None


def _at(a: Analysis, offset: int) -> tuple[tuple[str, ...], KeyPart | None, Value | None] | None:
    item = a.item_at(offset)
    if item is None:
        return None
    if type(item) is Header:
        if item.is_array:
            return None
        for k, part in enumerate(item.key):
            if part.start <= offset <= part.end:
                return tuple(p.name for p in item.key[: k + 1]), part, None
        return None
    base = a.table_at(item.start)
    found = None if base is None else entry_at(item, offset, base)  # type: ignore[arg-type]
    if found is None:
        return None
    path, key_part, entry = found
    return path, key_part, entry.value if key_part is None else None


def _inner(text: str, start: int, end: int) -> tuple[int, int]:
    """A key's or string's span without its quotes."""
    q = 3 if text.startswith(('"""', "'''"), start) and end - start >= 6 else 1 if text[start] in "\"'" else 0
    return start + q, end - q


def name_at(a: Analysis, offset: int) -> tuple[str, int, int] | None:
    """The connection named at ``offset`` and the span of its name there (without quotes):
    a header's or dotted key's `connections.NAME` part, `NAME` under `[connections]`, or the
    `default` value."""
    found = _at(a, offset)
    if found is None:
        return None
    path, part, value = found
    if part is not None and len(path) == 2 and path[0] == "connections":
        if a.connection(path[1]) is None:
            return None
        return (path[1], *_inner(a.text, part.start, part.end))
    if value is not None and path == ("default",) and value.kind == "string":
        name = str(value.data)
        if a.connection(name) is None:
            return None
        return (name, *_inner(a.text, value.start, value.end))
    return None


# -- definition --------------------------------------------------------------------------------


def definition(a: Analysis, offset: int, env: Environment) -> list[Target]:
    found = _at(a, offset)
    if found is None:
        return []
    path, _part, value = found
    if value is None or value.kind != "string":
        return []
    if path == ("default",):
        c = a.connection(str(value.data))
        return [c.header] if c is not None else []
    ref = _env_reference(a, value, offset)
    if ref is not None:
        spot = _dotenv_spot(env, ref[2])
        return [spot] if spot is not None else []
    if len(path) != 3 or path[0] != "connections":
        return []
    target = file_target(path[2], str(value.data), env)
    return [FileSpot(target)] if target is not None else []


def file_target(key: str, data: str, env: Environment) -> Path | None:
    """The file a `${file:}` value, or the path of a key-file key (`jwt_key_file`,
    `ca_bundle`, `client_cert`, `client_key`), names: only an existing file where
    `${file:}` may read (symbolic links resolved, SECURITY.md); else None."""
    try:
        ref = parse_reference(data)
    except ReferenceSyntaxError:
        return None
    if ref is not None:
        if ref.kind != "file":
            return None
        argument = ref.argument
    elif key in model.FILE_KEYS and data.strip():
        argument = data
    else:
        return None
    if env.folder is None:
        return None
    path = file_reference_path(argument, env.folder)
    if not path.is_absolute() or outside_roots(path, env.roots) or not path.is_file():
        return None
    return path


def _env_reference(a: Analysis, value: Value, offset: int) -> tuple[int, int, str] | None:
    """The `${env:NAME}` of a string value that holds ``offset``, as written in the text."""
    for m in _ENV_REFERENCE.finditer(a.text, value.start, value.end):
        if m.start() <= offset <= m.end():
            return m.start(), m.end(), m.group(1)
    return None


def _dotenv_spot(env: Environment, name: str) -> FileSpot | None:
    if env.folder is None:
        return None
    text, _refused = dotenv_text(env.folder, env.roots)
    span = dotenv_names(text).get(name) if text is not None else None
    return FileSpot(env.folder / DOTENV, text or "", *span) if span is not None else None


def env_reference_at(a: Analysis, offset: int, env: Environment) -> EnvReference | None:
    """The `${env:NAME}` at ``offset`` in a string value, and where NAME is set."""
    found = _at(a, offset)
    if found is None or found[2] is None or found[2].kind != "string":
        return None
    ref = _env_reference(a, found[2], offset)
    if ref is None:
        return None
    start, end, name = ref
    spot = _dotenv_spot(env, name)
    line = spot.text.count("\n", 0, spot.start) + 1 if spot is not None else None
    refused = env.dotenv_refused if env.folder is not None else None
    if name in env.env:
        return EnvReference(start, end, name, "process", line, refused)
    if spot is not None:
        return EnvReference(start, end, name, "dotenv", line)
    return EnvReference(start, end, name, "nowhere", None, refused)


# -- references ---------------------------------------------------------------------------------


def references(a: Analysis, name: str, *, include_declaration: bool) -> list[tuple[int, int]]:
    """Every place that names connection ``name`` (names without their quotes), in order."""
    return [_inner(a.text, s, e) for s, e, decl, _ in _occurrences(a, name) if include_declaration or not decl]


def _occurrences(a: Analysis, name: str) -> list[tuple[int, int, bool, bool]]:
    """(start, end, is the declaration, is the `default` value) of every key part naming
    the connection and of the `default` value naming it, quotes included."""
    c = a.connection(name)
    if c is None:
        return []
    out: list[tuple[int, int, bool, bool]] = []
    for gov, it in a.statements_of(name):
        if type(it) is Header:
            part, decl = it.key[1], it.start == c.header[0]
        elif gov is None:
            part, decl = it.key[1], it.key[0].start == c.header[0]
        elif len(gov.key) == 1:  # under [connections]
            part, decl = it.key[0], it.key[0].start == c.header[0]
        else:
            continue
        out.append((part.start, part.end, decl, False))
    d = a.default
    if d is not None and d[1].kind == "string" and d[1].data == name:
        out.append((d[1].start, d[1].end, False, True))
    out.sort()
    return out


# -- rename ---------------------------------------------------------------------------------


def prepare_rename(a: Analysis, offset: int) -> tuple[int, int, str]:
    """The span of the connection name at ``offset`` and the name; RenameError elsewhere."""
    found = name_at(a, offset)
    if found is None:
        raise RenameError(NOT_A_NAME)
    name, start, end = found
    return start, end, name


def toml_key(name: str) -> str:
    """``name`` as a TOML key: bare when it can be, else a basic string."""
    return name if _BARE_KEY.fullmatch(name) else _basic(name)


def _basic(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_new_name(a: Analysis, old: str, new: str) -> None:
    if not new:
        raise RenameError("A connection's name cannot be empty")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in new):
        raise RenameError("A connection's name cannot hold control characters or line breaks")
    if new != old and a.connection(new) is not None:
        raise RenameError(f"A connection named {json.dumps(new, ensure_ascii=False)} already exists in this file")


def rename(a: Analysis, offset: int, new: str, env: Environment) -> Rename:
    """The edits that rename the connection named at ``offset`` to ``new``: every place
    that names it here, and its entries in its export targets (``dotenv``, ``http_client``)
    that exist. RenameError when there is no connection name at ``offset``, or ``new``
    cannot be used."""
    old = prepare_rename(a, offset)[2]
    check_new_name(a, old, new)
    out = Rename()
    if new == old:
        return out
    text = a.text
    for s, e, _decl, is_default in _occurrences(a, old):
        if is_default:  # a literal string stays one when it can
            literal = text[s] == "'" and "'" not in new and not text.startswith("'''", s)
            out.edits.append(Edit(s, e, f"'{new}'" if literal else _basic(new)))
        else:
            out.edits.append(Edit(s, e, toml_key(new)))
    c = a.connection(old)
    assert c is not None
    out.files = export_edits(c, old, new, env)
    return out


def export_edits(c: Connection, old: str, new: str, env: Environment) -> list[tuple[Path, str, list[Edit]]]:
    """The connection's entries in its existing `dotenv` and `http_client` targets, renamed
    (``exports`` names them after the connection); targets outside the folders snowauth
    may write, missing or unreadable are left alone."""
    out: list[tuple[Path, str, list[Edit]]] = []
    for key, argument in exports.declared(c):
        if key not in ("dotenv", "http_client"):
            continue
        try:
            t = exports.target(key, argument, env.folder, env.roots)
            content = files.read_bytes(t.path.resolve(), exports.MAX_BYTES, follow_links=False).decode("utf-8")
        except (exports.ExportError, OSError, UnicodeDecodeError):
            continue
        edits = _dotenv_renames(content, old, new) if key == "dotenv" else _json_key_renames(content, old, new)
        if edits:
            out.append((t.path, content, edits))
    return out


def _dotenv_renames(text: str, old: str, new: str) -> list[Edit]:
    before, after = exports.env_prefix(old), exports.env_prefix(new)
    if before == after:
        return []
    owned = {before + "ACCESS_TOKEN": after + "ACCESS_TOKEN", before + "INSTANCE_URL": after + "INSTANCE_URL"}
    present = {m.group(1) for m in _DOTENV_ASSIGN.finditer(text)}
    edits = [Edit(m.start(1), m.end(1), owned[m[1]]) for m in _DOTENV_ASSIGN.finditer(text) if m[1] in owned]
    if edits and present & set(owned.values()):
        raise RenameError(f"The export file already sets {after}ACCESS_TOKEN or {after}INSTANCE_URL")
    return edits


def _json_key_renames(text: str, old: str, new: str) -> list[Edit]:
    """The top-level key ``old`` of a JSON object text renamed (its span found by reading
    the object member by member); none when the text is not such an object."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\r\n]*")
    i = ws.match(text, 0).end()  # type: ignore[union-attr]
    if text[i : i + 1] != "{":
        return []
    i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
    found: tuple[int, int] | None = None
    keys: set[str] = set()
    try:
        while text[i : i + 1] == '"':
            key, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            keys.add(key)
            if key == old and found is None:
                found = (i, end)
            i = ws.match(text, end).end()  # type: ignore[union-attr]
            if text[i : i + 1] != ":":
                return []
            _, i = decoder.raw_decode(text, ws.match(text, i + 1).end())  # type: ignore[union-attr]
            i = ws.match(text, i).end()  # type: ignore[union-attr]
            if text[i : i + 1] != ",":
                break
            i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
    except ValueError:
        return []
    if found is None:
        return []
    if new in keys:
        shown = json.dumps(new, ensure_ascii=False)
        raise RenameError(f"The http_client export file already has an environment {shown}")
    return [Edit(found[0], found[1], json.dumps(new, ensure_ascii=False))]
