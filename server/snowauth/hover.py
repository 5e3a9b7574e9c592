"""Hover: the documentation of the key, table or value at an offset, and the state of a
connection's token, as markdown (pure functions of an Analysis)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from snowauth import model
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.navigation import entry_at, env_reference_at
from snowauth.secrets import Environment
from snowauth.syntax import Header
from snowauth.terminal import printable
from snowauth.wording import humanize


@dataclass(slots=True)
class Hover:
    start: int
    end: int
    markdown: str


def hover(a: Analysis, offset: int, now: datetime, env: Environment | None = None) -> Hover | None:
    """``env``: where `${env:NAME}` is looked up, for the hover on such a reference."""
    ref = env_reference_at(a, offset, env) if env is not None else None
    if ref is not None:
        return Hover(ref.start, ref.end, _env_reference_text(ref.name, ref.where, ref.line, ref.refused))
    item = a.item_at(offset)
    if item is None:
        return None
    if isinstance(item, Header):
        for k, part in enumerate(item.key):
            if part.start <= offset <= part.end:
                path = tuple(p.name for p in item.key[: k + 1])
                doc = _path_doc(a, path, now)
                return Hover(part.start, part.end, doc) if doc else None
        return None
    base = a.table_at(item.start)
    if base is None:
        return None
    found = entry_at(item, offset, base)
    if found is None:
        return None
    path, hovered, entry = found
    if hovered is not None:
        doc = _path_doc(a, path, now)
        return Hover(hovered.start, hovered.end, doc) if doc else None
    v = entry.value
    assert v is not None
    key = path[-1]
    spec = model.CONNECTION_KEYS.get(key) if len(path) == 3 and path[0] == "connections" else None
    if spec and spec.values and v.kind == "string" and str(v.data) in spec.values:
        return Hover(v.start, v.end, f"**{v.data}** — {spec.values[str(v.data)]}")
    if (
        len(path) == 4
        and path[2] == "token"
        and key in ("expires_at", "refresh_expires_at")
        and isinstance(v.data, datetime)
    ):
        return Hover(v.start, v.end, _expiry_text(v.data, now))
    return None


def _env_reference_text(name: str, where: str, line: int | None, refused: str | None) -> str:
    """Where a `${env:NAME}` is set (never its value): docs/decisions.md."""
    shown = markdown_code(f"${{env:{name}}}")
    if where == "process":
        over = f" (it wins over line {line} of the .env beside this file)" if line is not None else ""
        return f"{shown}: set in the process environment{over}."
    if where == "dotenv":
        return f"{shown}: set in the .env beside this file (line {line})."
    why = f" The .env beside this file was not read: {refused}." if refused else ""
    return f"{shown}: not set in .env nor in the environment.{why}"


def _expiry_text(dt: datetime, now: datetime) -> str:
    if dt.tzinfo is None:
        return "A local date-time: write it in UTC with `Z`."
    delta = dt - now
    when = dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"Expires in {humanize(delta)} ({when})"
        if delta.total_seconds() > 0
        else f"Expired {humanize(delta)} ago ({when})"
    )


def _path_doc(a: Analysis, path: tuple[str, ...], now: datetime) -> str | None:
    if path == ("default",):
        return model.TOP_KEYS["default"].doc_markdown()
    if not path or path[0] != "connections":
        return None
    if len(path) == 1:
        return model.CONNECTIONS_DOC
    c = a.connection(path[1])
    if len(path) == 2:
        if c is None:
            return None
        return connection_summary(c, now)
    rel = path[2:]
    if rel[0] == "token":
        if len(rel) == 1:
            doc = model.TOKEN_TABLE_DOC
            if c is not None:
                doc += "\n\n" + token_state_text(c, now)
            return doc
        spec = model.TOKEN_KEYS.get(rel[1])
        if spec is None:
            return None
        doc = spec.doc_markdown()
        if rel[1] in ("expires_at", "refresh_expires_at") and c is not None:
            a_ = c.token.get(rel[1])
            if a_ is not None and isinstance(a_.value.data, datetime):
                doc += "\n\n" + _expiry_text(a_.value.data, now)
        return doc
    if rel[0] == model.EXPORT_TABLE:
        export_spec = model.EXPORT_KEYS.get(rel[1]) if len(rel) == 2 else None
        return model.EXPORT_TABLE_DOC if len(rel) == 1 else export_spec.doc_markdown() if export_spec else None
    spec = model.CONNECTION_KEYS.get(rel[0])
    if spec is None:
        return None
    doc = spec.doc_markdown()
    grant, pkce = c.grant_and_pkce() if c is not None else (None, True)
    client = c.client if c is not None else None
    if client is not None and model.is_ignored(rel[0], grant, client):
        doc += f'\n\nNot needed with `client = "{client}"` (ignored).'
    elif grant is not None and rel[0] in model.required_keys(
        grant,
        pkce=pkce,
        client=client,
        jwt_algorithm=c.keys["jwt_algorithm"].value.data if c is not None and "jwt_algorithm" in c.keys else None,
    ):
        doc += f"\n\nRequired for this connection's grant (`{grant}`)."
    return doc


def token_state_text(c: Connection, now: datetime) -> str:
    if not c.has_token:
        return "No token stored."
    exp = c.token_expiry
    if exp is None:
        return "Token stored; its expiry is unknown."
    return _expiry_text(exp, now)


def markdown_code(text: str) -> str:
    """Untrusted ``text`` as an inline code span, the only markdown that shows any text as
    it is: inside it no link, image, autolink or HTML is active. The fence is longer than
    any run of backticks in the text, so the text cannot close it early; control
    characters (a line break would end the paragraph and the span with it) are shown
    escaped (snowauth.terminal)."""
    shown = printable(text)
    if not shown:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def connection_summary(c: Connection, now: datetime) -> str:
    # the name and the instance come from the file: a name such as `x](http://…)![i](…)`
    # must not become a link or an image in the editor's hover
    grant, _ = c.grant_and_pkce()
    inst = c.keys.get("instance")
    lines = [f"**Connection {markdown_code(c.name)}**", ""]
    if inst is not None and inst.value.kind == "string":
        lines.append(f"Instance: {markdown_code(str(inst.value.data))}")
    if c.client is not None:
        lines.append(f"Client: `{c.client}` — {model.CLIENT_VALUES[c.client]}")
    elif grant:
        lines.append(f"Grant: `{grant}` — {model.GRANT_DOCS[grant]}")
    lines.append(token_state_text(c, now))
    return "\n\n".join(lines)
