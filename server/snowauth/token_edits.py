"""Minimal text edits that write or remove a connection's token (pure).

Writing updates the token keys where they already are (a ``[connections.<name>.token]``
table, an inline ``token = {…}``, or dotted ``token.*`` keys, keeping their form), or
inserts a ``[connections.<name>.token]`` table after the last key line of the
connection's table. Removing what writing inserted gives back the original bytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from snowauth.analysis import Analysis
from snowauth.document import Assign, Connection
from snowauth.findings import Edit
from snowauth.positions import newline_of
from snowauth.terminal import UNSAFE_CHARACTERS
from snowauth.tokens import TokenSet

ORDER = ("access_token", "refresh_token", "token_type", "scope", "expires_at", "refresh_expires_at")


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
# what a TOML basic string may not hold as it is (", \\, the C0 controls, DEL), and what
# should not sit in the file invisibly either (C1 controls, reordering characters)
_MUST_ESCAPE = re.compile(f'["\\\\{UNSAFE_CHARACTERS}]')


def _toml_escape(m: re.Match[str]) -> str:
    ch = m.group()
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate has no TOML (nor UTF-8) form
        return "\\uFFFD"
    return f"\\u{code:04X}"


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string that any TOML parser reads back as ``value`` (but a
    lone surrogate, which has no form in TOML, becomes U+FFFD).

    Tokens and names come from an instance or a file: a DEL or control character written
    raw would make the whole file invalid TOML, a line break would add lines to it."""
    return '"' + _MUST_ESCAPE.sub(_toml_escape, value) + '"'


def toml_datetime(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_values(tokens: TokenSet) -> dict[str, str]:
    """The token keys to write, in order, as TOML value text."""
    raw: dict[str, str | datetime | None] = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type,
        "scope": tokens.scope,
        "expires_at": tokens.expires_at,
        "refresh_expires_at": tokens.refresh_expires_at,
    }
    out: dict[str, str] = {}
    for key in ORDER:
        v = raw[key]
        if v is None:
            continue
        out[key] = toml_datetime(v) if isinstance(v, datetime) else toml_string(v)
    return out


def _quote_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else toml_string(name)


def _line_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the whole lines holding [start, end), line break included."""
    ls = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    i = end
    n = len(text)
    while i < n and text[i] not in "\r\n":
        i += 1
    if text.startswith("\r\n", i):
        i += 2
    elif i < n:
        i += 1
    return ls, i


def _after_line(text: str, offset: int) -> int:
    return _line_of(text, offset, offset)[1]


def _insert_lines(text: str, offset: int, lines: list[str], *, blank_before: bool = False) -> Edit:
    """Insert whole lines after the line holding ``offset``."""
    nl = newline_of(text)
    at = _after_line(text, offset)
    body = nl.join(lines)
    lead = nl if blank_before else ""
    if at == len(text) and text and text[-1] not in "\r\n":
        return Edit(at, at, nl + lead + body)  # the file ends without a line break: keep it so
    return Edit(at, at, lead + body + nl)


def write_edits(a: Analysis, c: Connection, tokens: TokenSet) -> list[Edit]:
    text = a.text
    values = token_values(tokens)
    if c.token_inline is not None:
        inner = ", ".join(f"{k} = {v}" for k, v in values.items())
        return [Edit(c.token_inline.start, c.token_inline.end, "{ " + inner + " }")]
    if c.token_header is not None or c.token:
        return _update_in_place(text, c, values)
    if c.table_header is not None:
        at = c.table_body_end if c.table_body_end is not None else c.table_header.end
        header = f"[connections.{_quote_key(c.name)}.token]"
        return [_insert_lines(text, at, [header, *(f"{k} = {v}" for k, v in values.items())], blank_before=True)]
    if c.inline is not None:
        inner = ", ".join(f"{k} = {v}" for k, v in values.items())
        close = c.inline.end - 1
        before = text[c.inline.start + 1 : close].strip()
        pad = " " if text[close - 1 : close] == " " else ""
        return [Edit(close, close, (", " if before else " ") + f"token = {{ {inner} }}" + (" " if not pad else ""))]
    if c.dotted_entries:
        last = c.dotted_entries[-1]
        prefix = text[last.key[0].start : last.key[-1].start] + "token."
        return [_insert_lines(text, last.end, [f"{prefix}{k} = {v}" for k, v in values.items()])]
    return []


def _update_in_place(text: str, c: Connection, values: dict[str, str]) -> list[Edit]:
    edits: list[Edit] = []
    for key, assign in c.token.items():
        if key in values:
            if text[assign.value.start : assign.value.end] != values[key]:
                edits.append(Edit(assign.value.start, assign.value.end, values[key]))
        else:
            edits.append(_remove_line(text, assign))
    missing = [k for k in values if k not in c.token]
    if missing:
        if c.token:
            last = max(c.token.values(), key=lambda x: x.line_entry.end)
            prefix = text[last.line_entry.key[0].start : last.key.start]
            at = last.line_entry.end
        else:
            assert c.token_header is not None
            prefix, at = "", c.token_header.end
        edits.append(_insert_lines(text, at, [f"{prefix}{k} = {values[k]}" for k in missing]))
    return edits


def _remove_line(text: str, assign: Assign) -> Edit:
    start, end = _line_of(text, assign.line_entry.start, assign.line_entry.end)
    return Edit(start, end, "")


def remove_edits(a: Analysis, c: Connection) -> list[Edit]:
    """Edits that remove the connection's stored token (nothing when there is none)."""
    text = a.text
    if c.token_inline is not None and c.token_inline_entry is not None:
        entry = c.token_inline_entry
        if c.inline is not None and c.inline.start < entry.start < c.inline.end:
            # a member of an inline connection table: remove it and one separating comma
            comma = text.rfind(",", c.inline.start, entry.start)
            if comma >= 0:
                return [Edit(comma, entry.end, "")]
            after = text.find(",", entry.end, c.inline.end)
            end = after + 1 if after >= 0 else entry.end
            while end < c.inline.end - 1 and text[end] == " ":
                end += 1
            return [Edit(entry.start, end, "")]
        start, end = _line_of(text, entry.start, entry.end)
        return [Edit(start, end, "")]
    if c.token_header is not None:
        h = c.token_header
        last_end = max([h.end, *(x.line_entry.end for x in c.token.values())])
        start, end = _line_of(text, h.start, last_end)
        nl = newline_of(text)
        before = text[:start]
        if before.endswith(nl + nl) or before == nl:
            start -= len(nl)  # the blank line that writing put before the header
        if end == len(text) and text[end - 1 : end] not in ("\n", "\r") and start >= len(nl):
            start -= len(nl) if text[:start].endswith(nl) else 0
        return [Edit(start, end, "")]
    edits = []
    seen: set[int] = set()
    for assign in c.token.values():
        if id(assign.line_entry) in seen:
            continue
        seen.add(id(assign.line_entry))
        edits.append(_remove_line(text, assign))
    merged: list[Edit] = []
    for e in sorted(edits, key=lambda e: e.start):
        if merged and merged[-1].end == e.start:
            merged[-1].end = e.end
        else:
            merged.append(e)
    edits = merged
    nl = newline_of(text)
    for e in edits:
        if e.end == len(text) and not text.endswith(("\n", "\r")) and text[: e.start].endswith(nl):
            e.start -= len(nl)  # the line break that writing put before a last line
    return edits


def apply(text: str, edits: list[Edit]) -> str:
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: e.start] + e.text + text[e.end :]
    return text


def key_edits(a: Analysis, c: Connection, values: dict[str, str]) -> list[Edit]:
    """Edits that set keys of the connection itself (``values``: key -> TOML value text):
    a key already there gets its value replaced; the others are inserted in the
    connection's own form (after the last key line of its table, inside its inline table,
    or as more dotted keys). Register OAuth client writes ``client_id`` this way."""
    text = a.text
    edits: list[Edit] = []
    missing: dict[str, str] = {}
    for key, value in values.items():
        assign = c.keys.get(key)
        if assign is None:
            missing[key] = value
        elif text[assign.value.start : assign.value.end] != value:
            edits.append(Edit(assign.value.start, assign.value.end, value))
    if not missing:
        return edits
    lines = [f"{k} = {v}" for k, v in missing.items()]
    if c.table_header is not None:
        at = c.table_body_end if c.table_body_end is not None else c.table_header.end
        edits.append(_insert_lines(text, at, lines))
    elif c.inline is not None:
        close = c.inline.end - 1
        at = c.inline.start + 1 + len(text[c.inline.start + 1 : close].rstrip())
        inner = ", ".join(lines)
        edits.append(Edit(at, at, f", {inner}" if at > c.inline.start + 1 else f" {inner} "))
    elif c.dotted_entries:
        last = c.dotted_entries[-1]
        prefix = text[last.key[0].start : last.key[-1].start]
        edits.append(_insert_lines(text, last.end, [prefix + line for line in lines]))
    return edits
