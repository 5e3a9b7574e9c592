"""The canonical layout of a connection file (``snowauth fmt``, the editor's Format
Document and Format Selection): docs/decisions.md, "Formatting".

What it does: within a table, keys in the model's order (``model.py``: unknown keys after
the known ones, in their order), ``key = value`` with single spaces (or the values of a
table aligned in a column), no indentation, no trailing whitespace, no blank line inside
a table except one kept between a comment and its key; one blank line between tables; a
connection's tables together, its own first and its ``export`` and ``token`` tables last;
the file's newline; one final newline.

What it never touches: a value's text (strings are never re-quoted, arrays and inline
tables stay as written, whatever lines they span), a comment's text, a key's or header's
spelling. A comment line above a key moves with the key, a comment right above a header
moves with the table, a trailing comment stays on its line. A text with a syntax error is
not formatted at all (None): what the scanner could not read could be lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from snowauth.findings import Edit
from snowauth.model import (
    CONNECTION_KEYS,
    CONNECTIONS_TABLE,
    EXPORT_KEYS,
    EXPORT_TABLE,
    TOKEN_KEYS,
    TOKEN_TABLE,
    TOP_KEYS,
)
from snowauth.positions import newline_of
from snowauth.syntax import Entry, Header, Parsed, parse

_BOM = "\ufeff"


@dataclass(slots=True)
class _Unit:
    """One ``key = value`` statement and the comment lines above it."""

    above: list[str]  # comment lines (and one blank line between paragraphs), stripped
    key: str  # the key as written
    value: str  # the value as written
    name: str | None  # the key's name when it is not dotted
    gap: str = ""  # the spaces between the value and its trailing comment
    comment: str = ""  # the trailing comment (``# …``), if any
    column: int = -1  # where the comment started on a one-line statement, to keep it there


@dataclass(slots=True)
class _Section:
    """A table: the comments right above its header, the header line, its statements and
    the comment lines after them. The file's top level is a section without a header."""

    path: tuple[str, ...]
    header: str | None
    is_array: bool = False
    above: list[str] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    start: int = 0  # the old text's span of the section (comments above through its tail)
    end: int = 0


def _lines(text: str, a: int, b: int) -> list[tuple[int, int, str]]:
    """The lines of text[a:b] (``b`` a line start or the end): (start, content end, content)."""
    out = []
    i = a
    while i < b:
        j = text.find("\n", i, b)
        nxt = b if j < 0 else j + 1
        if j < 0:
            j = b
        end = j - 1 if j > i and text[j - 1] == "\r" else j
        out.append((i, end, text[i:end]))
        i = nxt
    return out


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    if j < 0:
        return len(text)
    return j - 1 if j > i and text[j - 1] == "\r" else j


def _tidy(lines: list[str], *, keep_last_blank: bool, keep_first_blank: bool = False) -> list[str]:
    """Comment lines with at most one blank line in a row, none first unless
    ``keep_first_blank`` (comments set apart after a table's keys) and none last unless
    ``keep_last_blank`` (the blank line between a comment and its key)."""
    out: list[str] = []
    for s in lines:
        if s or (out and out[-1]) or (keep_first_blank and not out):
            out.append(s)
    if out and not out[-1] and not keep_last_blank:
        out.pop()
    return out


def _sections(text: str, parsed: Parsed) -> list[_Section]:
    base = 1 if text.startswith(_BOM) else 0
    top = _Section((), None, start=base, end=base)
    sections = [top]
    cur = top
    pos = base
    for item in parsed.items:
        ls = max(base, text.rfind("\n", 0, item.start) + 1)
        gap = _lines(text, pos, ls)
        eol = _line_end(text, item.end)
        pos = min(len(text), eol + 1 if text.startswith("\n", eol) else eol + 2)
        if type(item) is Header:
            k = len(gap)
            while k > 0 and gap[k - 1][2].strip():
                k -= 1
            _add_tail(cur, gap[:k])
            sec = _Section(
                tuple(p.name for p in item.key),
                text[item.start : eol].rstrip(),
                item.is_array,
                [g[2].strip() for g in gap[k:]],
                start=gap[k][0] if k < len(gap) else ls,
                end=eol,
            )
            sections.append(sec)
            cur = sec
        else:
            assert type(item) is Entry and item.value is not None
            if cur.header is None and not cur.units:  # the file's first key
                cur.start = next((g[0] for g in gap if g[2].strip()), ls)
            ve = item.value.end
            after = text[ve:eol].rstrip()
            comment = after.lstrip(" \t")
            multi_line = text.find("\n", item.start, ve) >= 0
            cur.units.append(
                _Unit(
                    _tidy([g[2].strip() for g in gap], keep_last_blank=True),
                    text[item.key_start : item.key_end],
                    text[item.value.start : ve],
                    item.key[0].name if len(item.key) == 1 else None,
                    after[: len(after) - len(comment)],
                    comment,
                    -1 if multi_line else ve + len(after) - len(comment) - ls,
                )
            )
            cur.end = eol
    _add_tail(cur, _lines(text, pos, len(text)))
    return sections


def _add_tail(sec: _Section, gap: Sequence[tuple[int, int, str]]) -> None:
    comments = [g for g in gap if g[2].strip()]
    if comments:
        if sec.header is None and not sec.units:
            sec.start = comments[0][0]
        sec.tail = _tidy(
            [g[2].strip() for g in gap],
            keep_last_blank=False,
            keep_first_blank=bool(sec.units) or sec.header is not None,
        )
        sec.end = comments[-1][1]


def _order_of(sec: _Section) -> Mapping[str, object] | None:
    p = sec.path
    if sec.is_array:
        return None
    if not p:
        return TOP_KEYS
    if p[0] != CONNECTIONS_TABLE:
        return None
    if len(p) == 2:
        return CONNECTION_KEYS
    if len(p) == 3 and p[2] == TOKEN_TABLE:
        return TOKEN_KEYS
    if len(p) == 3 and p[2] == EXPORT_TABLE:
        return EXPORT_KEYS
    return None


def _render(sec: _Section, align: bool) -> list[str]:
    order = _order_of(sec)
    units = sec.units
    if order is not None:
        rank = {name: i for i, name in enumerate(order)}
        last = len(rank)
        units = sorted(units, key=lambda u: rank.get(u.name, last) if u.name is not None else last)
    width = max((len(u.key) for u in units), default=0) if align else 0
    out = list(sec.above)
    if sec.header is not None:
        out.append(sec.header)
    for u in units:
        out.extend(u.above)
        line = f"{u.key.ljust(width)} = {u.value}"
        if u.comment:
            # a comment set apart by more than a space keeps its column where it can
            gap = u.gap if len(u.gap) <= 1 or u.column < 0 else " " * max(1, u.column - len(line))
            line = f"{line}{gap}{u.comment}"
        out.append(line)
    out.extend(sec.tail)
    return out


def _group_order(sections: list[_Section]) -> list[_Section]:
    """A connection's tables together where its first one is: its own table, its other
    tables, ``export``, ``token``. Tables of arrays (``[[…]]``) pin every table in place."""
    if any(s.is_array for s in sections):
        return sections
    groups: dict[object, list[_Section]] = {}
    for i, s in enumerate(sections):
        p = s.path
        key: object = p[1] if len(p) >= 2 and p[0] == CONNECTIONS_TABLE else i
        groups.setdefault(key, []).append(s)

    def rank(s: _Section) -> int:
        p = s.path
        if len(p) == 2:
            return 0
        return {EXPORT_TABLE: 2, TOKEN_TABLE: 3}.get(p[2], 1)

    out: list[_Section] = []
    for i, s in enumerate(sections):
        p = s.path
        name: object = p[1] if len(p) >= 2 and p[0] == CONNECTIONS_TABLE else i
        members = groups.pop(name, None)
        if members is not None:
            out.extend(sorted(members, key=rank) if name != i else members)
    return out


def _parsed(text: str, parsed: Parsed | None) -> Parsed | None:
    p = parse(text) if parsed is None else parsed
    return None if p.errors else p


def format_text(text: str, *, align_values: bool = False, parsed: Parsed | None = None) -> str | None:
    """The canonical layout of ``text``; None when it has a syntax error (``parsed``: its
    scan, when the caller has it)."""
    p = _parsed(text, parsed)
    if p is None:
        return None
    sections = _sections(text, p)
    nl = newline_of(text)
    blocks = [lines for s in [sections[0], *_group_order(sections[1:])] if (lines := _render(s, align_values))]
    if not blocks:
        return _BOM if text.startswith(_BOM) else ""
    body = (nl + nl).join(nl.join(b) for b in blocks) + nl
    return (_BOM + body) if text.startswith(_BOM) else body


def format_edits(text: str, *, align_values: bool = False, parsed: Parsed | None = None) -> list[Edit] | None:
    """The edits that give ``text`` its canonical layout (few and small: changed lines
    only); None when it has a syntax error."""
    new = format_text(text, align_values=align_values, parsed=parsed)
    return None if new is None else diff_edits(text, new)


def range_edits(
    text: str, start: int, end: int, *, align_values: bool = False, parsed: Parsed | None = None
) -> list[Edit] | None:
    """Format the tables that [start, end] touches, and nothing else (the tables stay
    where they are); None when the text has a syntax error."""
    p = _parsed(text, parsed)
    if p is None:
        return None
    sections = _sections(text, p)
    nl = newline_of(text)
    new = []
    at = 0
    for k, s in enumerate(sections):
        stop = sections[k + 1].start if k + 1 < len(sections) else len(text)
        if s.start <= end and start <= max(s.end, stop - 1) and s.end > s.start:
            new.append(text[at : s.start])
            new.append(nl.join(_render(s, align_values)))
            at = s.end
    new.append(text[at:])
    return diff_edits(text, "".join(new))


def _split(text: str) -> list[str]:
    lines = text.split("\n")
    last = lines.pop()
    out = [s + "\n" for s in lines]
    if last:
        out.append(last)
    return out


def diff_edits(old: str, new: str) -> list[Edit]:
    """Edits turning ``old`` into ``new``: one per run of changed lines, each cut down to
    the characters that differ (so that an editor keeps its cursor and a short undo)."""
    if old == new:
        return []
    a, b = _split(old), _split(new)
    starts = [0]
    for s in a:
        starts.append(starts[-1] + len(s))
    edits = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        lo, hi = starts[i1], starts[i2]
        was, now = old[lo:hi], "".join(b[j1:j2])
        n = min(len(was), len(now))
        pre = 0
        while pre < n and was[pre] == now[pre]:
            pre += 1
        suf = 0
        while suf < n - pre and was[len(was) - 1 - suf] == now[len(now) - 1 - suf]:
            suf += 1
        edits.append(Edit(lo + pre, hi - suf, now[pre : len(now) - suf]))
    return edits


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` (sorted, not overlapping) applied."""
    out = []
    at = 0
    for e in sorted(edits, key=lambda e: e.start):
        out.append(text[at : e.start])
        out.append(e.text)
        at = e.end
    out.append(text[at:])
    return "".join(out)
