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

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain

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

# A line of the new text: its content, its line break (None: the file's) and the line of
# the old text it comes from (None: a new blank line). The edits come from these.
_Line = tuple[str, str | None, int | None]
_Comment = tuple[str, int]  # a comment line (or "" for a blank one), stripped; its line


@dataclass(slots=True)
class _Unit:
    """One ``key = value`` statement and the comment lines above it."""

    above: Sequence[_Comment]  # comment lines (and one blank line between paragraphs)
    key: str  # the key as written
    value: str  # the value as written
    name: str | None  # the key's name when it is not dotted
    line: int  # the line the statement starts on
    gap: str = ""  # the spaces between the value and its trailing comment
    comment: str = ""  # the trailing comment (``# …``), if any
    column: int = -1  # where the comment started on a one-line statement, to keep it there


@dataclass(slots=True)
class _Section:
    """A table: the comments right above its header, the header line, its statements and
    the comment lines after them. The file's top level is a section without a header."""

    path: tuple[str, ...]
    header: _Comment | None
    is_array: bool = False
    above: Sequence[_Comment] = ()
    units: Sequence[_Unit] = ()  # made when it is rendered (``_fill``)
    tail: Sequence[_Comment] = ()
    first: int = -1  # the old text's lines of the section (comments above through its tail)
    last: int = -2
    entries: tuple[int, int] = (0, 0)  # its statements: parsed.items[a:b]
    body: int = 0  # the first line after its header


class _Text:
    """The old text's lines split at LF (a CR before it stays with the line), kept as
    their starts only: a line is sliced from the text when it is read. ``lo``, ``end``: a
    part of the text that starts at a line start (a table, ``formatting_cache.py``), its
    lines numbered from 0 and its offsets those of the whole text."""

    __slots__ = ("count", "end", "lo", "starts", "text")

    def __init__(self, text: str, lo: int = 0, end: int = -1) -> None:
        self.text = text
        self.lo = lo
        self.end = end = len(text) if end < 0 else end
        part = text if lo == 0 and end == len(text) else text[lo:end]
        self.starts = starts = array("q", accumulate((n + 1 for n in map(len, part.split("\n")[:-1])), initial=lo))
        self.count = len(starts)  # the number of lines (the last one may be empty)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def raw(self, line: int) -> str:
        """Line ``line`` without its LF (a CR stays)."""
        starts = self.starts
        return self.text[starts[line] : starts[line + 1] - 1 if line + 1 < self.count else self.end]

    def content(self, line: int) -> str:
        s = self.raw(line)
        s = s[:-1] if s.endswith("\r") else s
        return s[1:] if line == 0 and self.lo == 0 and s.startswith(_BOM) else s

    def end_of(self, line: int) -> int:
        """The offset where the content of ``line`` ends."""
        starts = self.starts
        end = starts[line + 1] - 1 if line + 1 < self.count else self.end
        return end - 1 if end > starts[line] and self.text[end - 1] == "\r" else end


def _tidy(lines: list[_Comment], *, keep_last_blank: bool, keep_first_blank: bool = False) -> list[_Comment]:
    """Comment lines with at most one blank line in a row, none first unless
    ``keep_first_blank`` (comments set apart after a table's keys) and none last unless
    ``keep_last_blank`` (the blank line between a comment and its key)."""
    out: list[_Comment] = []
    for c in lines:
        if c[0] or (out and out[-1][0]) or (keep_first_blank and not out):
            out.append(c)
    if out and not out[-1][0] and not keep_last_blank:
        out.pop()
    return out


def _sections(old: _Text, parsed: Parsed, *, followed: bool = False) -> list[_Section]:
    """The tables in the text's order, with their comments; their statements are read
    when each is rendered (``_fill``), so that a long file's are not all held at once.
    Only the headers are looked at here, and the statement before each. ``followed``: a
    header starts the line after ``old`` (a part of the text); the comments right above it
    come last, as a section without header or statements."""
    text = old.text
    top = _Section((), None)
    sections = [top]
    cur = top
    nxt = 0  # the first line after the last statement
    starts = old.starts
    items = parsed.items

    def close(sec: _Section, stop: int) -> int:
        """End ``sec``'s statements before item ``stop``; the first line after them."""
        a = sec.entries[0]
        sec.entries = (a, stop)
        if stop == a:
            return sec.body
        if sec.first < 0:  # the file's first key
            first = bisect_right(starts, items[a].start, sec.body) - 1
            sec.first = next((k for k in range(sec.body, first) if old.content(k).strip()), first)
        sec.last = old.line_of(items[stop - 1].end)
        return sec.last + 1

    for i, item in enumerate(items):
        if type(item) is not Header:
            continue
        nxt = close(cur, i)
        first = bisect_right(starts, item.start, nxt) - 1
        last = old.line_of(item.end)
        gap = [(old.content(k).strip(), k) for k in range(nxt, first)] if first > nxt else []
        k = len(gap)
        while k > 0 and gap[k - 1][0]:
            k -= 1
        _add_tail(cur, gap[:k])
        header = text[item.start : old.end_of(last)].rstrip()
        sec = _Section(tuple(p.name for p in item.key), (header, first), item.is_array, gap[k:])
        sec.first = gap[k][1] if k < len(gap) else first
        sec.last = first
        sec.entries, sec.body = (i + 1, i + 1), last + 1
        sections.append(sec)
        cur = sec
    nxt = close(cur, len(items))
    gap = [(old.content(k).strip(), k) for k in range(nxt, old.count - 1 if followed else old.count)]
    k = len(gap)
    while followed and k > 0 and gap[k - 1][0]:
        k -= 1
    _add_tail(cur, gap[:k])
    if followed:
        sections.append(_Section((), None, above=gap[k:]))
    return sections


def _fill(old: _Text, parsed: Parsed, sec: _Section) -> None:
    """Read the section's statements (``_Unit``) from the text."""
    text = old.text
    starts = old.starts
    count = old.count
    nxt = sec.body
    units: list[_Unit] = []
    sec.units = units
    append = units.append
    a, b = sec.entries
    for item in parsed.items[a:b]:
        assert type(item) is Entry and item.value is not None
        first = bisect_right(starts, item.start, nxt) - 1
        gap = [(old.content(k).strip(), k) for k in range(nxt, first)] if first > nxt else []
        last = first if first + 1 >= count or item.end < starts[first + 1] else old.line_of(item.end)
        nxt = last + 1
        eol = old.end_of(last)
        ve = item.value.end
        after = text[ve:eol].rstrip()
        comment = after.lstrip(" \t")
        line_start = starts[first] + (1 if first == 0 and text.startswith(_BOM) else 0)
        column = -1 if last > first else ve + len(after) - len(comment) - line_start
        append(
            _Unit(
                _tidy(gap, keep_last_blank=True) if gap else (),  # (no empty list per key)
                text[item.key_start : item.key_end],
                text[item.value.start : ve],
                item.key[0].name if len(item.key) == 1 else None,
                first,
                after[: len(after) - len(comment)],
                comment,
                column,
            )
        )


def _add_tail(sec: _Section, gap: list[_Comment]) -> None:
    comments = [k for c, k in gap if c]
    if comments:
        if sec.first < 0:
            sec.first = comments[0]
        has_units = sec.entries[1] > sec.entries[0]
        sec.tail = _tidy(gap, keep_last_blank=False, keep_first_blank=has_units or sec.header is not None)
        sec.last = comments[-1]


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


_RANKS: dict[int, dict[str, int]] = {}


def _render(sec: _Section, align: bool) -> list[_Line]:
    order = _order_of(sec)
    units = sec.units
    if order is not None and len(units) > 1:
        rank = _RANKS.get(id(order))
        if rank is None:
            rank = _RANKS[id(order)] = {name: i for i, name in enumerate(order)}
        last = len(rank)
        units = sorted(units, key=lambda u: rank.get(u.name, last) if u.name is not None else last)
    width = max((len(u.key) for u in units), default=0) if align else 0
    out: list[_Line] = [(c, None, k) for c, k in sec.above]
    if sec.header is not None:
        out.append((sec.header[0], None, sec.header[1]))
    for u in units:
        out.extend((c, None, k) for c, k in u.above)
        pieces = f"{u.key.ljust(width)} = {u.value}".split("\n")
        for k, piece in enumerate(pieces[:-1]):  # a value over lines keeps its own breaks
            out.append((piece[:-1], "\r\n", u.line + k) if piece.endswith("\r") else (piece, "\n", u.line + k))
        line = pieces[-1]
        if u.comment:
            # a comment set apart by more than a space keeps its column where it can
            gap = u.gap if len(u.gap) <= 1 or u.column < 0 else " " * max(1, u.column - len(line))
            line = f"{line}{gap}{u.comment}"
        out.append((line, None, u.line + len(pieces) - 1))
    out.extend((c, None, k) for c, k in sec.tail)
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


_BLANK: list[_Line] = [("", None, None)]


def _formatted(old: _Text, parsed: Parsed, align: bool) -> Iterator[list[_Line]]:
    """The new lines, a table at a time: a table's statements are read when it is
    rendered and freed after, and no list of the file's new lines is made
    (docs/performance.md)."""
    sections = _sections(old, parsed)
    order: list[_Section | None] = [sections[0], *_group_order(sections[1:])]
    del sections
    yield from _rendered(old, parsed, order, align)


def _rendered(
    old: _Text, parsed: Parsed, order: list[_Section | None], align: bool
) -> Generator[list[_Line], None, bool]:
    """Each section's new lines in ``order``, a blank line between two that have any; a
    section is read when it is rendered and freed after. Returns whether any had lines."""
    started = False
    for i, s in enumerate(order):
        assert s is not None
        order[i] = None  # rendered, a table is freed while the rest is rendered
        _fill(old, parsed, s)
        lines = _render(s, align)
        del s
        if lines:
            if started:
                yield _BLANK
            started = True
            yield lines
    return started


def _joined(lines: Iterable[_Line], nl: str, bom: bool) -> str:
    body = "".join(c + (nl if e is None else e) for c, e, _ in lines)
    return _BOM + body if bom else body


def format_text(text: str, *, align_values: bool = False, parsed: Parsed | None = None) -> str | None:
    """The canonical layout of ``text``; None when it has a syntax error (``parsed``: its
    scan, when the caller has it)."""
    p = _parsed(text, parsed)
    if p is None:
        return None
    lines = chain.from_iterable(_formatted(_Text(text), p, align_values))
    return _joined(lines, newline_of(text), text.startswith(_BOM))


def format_edits(text: str, *, align_values: bool = False, parsed: Parsed | None = None) -> list[Edit] | None:
    """The edits that give ``text`` its canonical layout (few and small: changed lines
    only); None when it has a syntax error."""
    p = _parsed(text, parsed)
    if p is None:
        return None
    old = _Text(text)
    return _edits(old, _formatted(old, p, align_values), newline_of(text))


def range_edits(
    text: str, start: int, end: int, *, align_values: bool = False, parsed: Parsed | None = None
) -> list[Edit] | None:
    """Format the tables that [start, end] touches, and nothing else (the tables stay
    where they are); None when the text has a syntax error."""
    p = _parsed(text, parsed)
    if p is None:
        return None
    old = _Text(text)
    first, last = old.line_of(start), old.line_of(end)
    sections = [s for s in _sections(old, p) if s.first >= 0]
    count = old.count
    new: list[_Line] = []
    at = 0  # the first old line not yet in ``new``
    for k, s in enumerate(sections):
        stop = sections[k + 1].first - 1 if k + 1 < len(sections) else count - 1
        if s.first <= last and first <= stop:
            new.extend(_keep(old, at, s.first))
            _fill(old, p, s)
            lines = _render(s, align_values)
            if s.last == count - 1:  # the last line of a file without a final newline
                lines[-1] = (lines[-1][0], "", lines[-1][2])
            new.extend(lines)
            at = s.last + 1
    new.extend(_keep(old, at, count))
    return _edits(old, [new], newline_of(text))


def _keep(old: _Text, a: int, b: int) -> list[_Line]:
    """Old lines [a, b) as they are (a line's content never holds the BOM: ``_edits``
    puts it back)."""
    out: list[_Line] = []
    for k in range(a, b):
        s = old.raw(k).removeprefix(_BOM) if k == 0 else old.raw(k)
        if k == old.count - 1:
            if s:
                out.append((s, "", k))
        elif s.endswith("\r"):
            out.append((s[:-1], "\r\n", k))
        else:
            out.append((s, "\n", k))
    return out


def _edits(old: _Text, new: Iterable[list[_Line]], nl: str) -> list[Edit]:
    """Edits turning the old text into ``new``: the new lines that are an old line
    unchanged and in order (the longest such run, found in n log n) stay; between two of
    them the lines that changed become one edit, cut down to the characters that differ
    (so that an editor keeps its cursor and the undo step is small)."""
    same, gaps = _gaps(old, new, nl)
    if same:
        return []
    text = old.text
    edits: list[Edit] = []
    for lo, hi, now in gaps:
        edits.extend(_trimmed(lo, text[lo:hi], now))
    return settled(edits, text, nl)


Gap = tuple[int, int, str]  # the old text [lo, hi) between two kept lines, and the new text there


def _gaps(old: _Text, new: Iterable[list[_Line]], nl: str, *, always: bool = False) -> tuple[bool, list[Gap]]:
    """Whether ``new`` is the old text (``old``: the text or a part of it), and the gaps
    between the new lines that are an old line unchanged and in order (none when it is,
    unless ``always``). The first gap (before the first kept line) and the last (after the
    last one) are always there, empty or not: a part's are joined to its neighbours'
    (``formatting_cache.py``).

    ``new`` (the new lines, a block at a time) is read once: what is kept of it is, per new line, the old
    line it equals (an int in an array) or, for a line that changed, its text — a long
    file's formatting holds no list of its new lines (docs/performance.md)."""
    text = old.text
    bom = old.lo == 0 and text.startswith(_BOM)
    starts, count = old.starts, old.count
    size = old.end
    # old line k with its break is text[starts[k]:ends[k]]; the last line counts when not empty
    n_olds = count if starts[-1] < size else count - 1

    kept_at = array("q")  # per new line: the old line it equals (with its break), else -1
    changed: dict[int, str] = {}  # per new line that equals none: its text with its break
    at = old.lo  # while the new text equals the old one so far: where it has reached
    j = -1
    last_line = count - 1
    for c, e, k in chain.from_iterable(new):
        j += 1
        if e is None:
            e = nl
        if bom and j == 0:
            c = _BOM + c
        if k is not None and k < n_olds:
            lo = starts[k]
            if k < last_line:  # old line k ends with its LF
                hi = starts[k + 1]
                if e == "\n":
                    same = hi - lo == len(c) + 1 and text.startswith(c, lo)
                else:
                    same = (
                        e.endswith("\n")
                        and hi - lo == len(c) + len(e)
                        and text.startswith(c, lo)
                        and text.startswith(e, hi - len(e))
                    )
            else:
                hi = size
                same = hi - lo == len(c) + len(e) and text.startswith(c + e, lo)
            if same:
                kept_at.append(k)
                if at >= 0:
                    at = hi if lo == at else -1
                continue
        line = c + e
        kept_at.append(-1)
        changed[j] = line
        if at >= 0:
            at = at + len(line) if text.startswith(line, at, size) else -1
    n_new = j + 1
    if at == size and not always:
        return True, []

    def full(j: int) -> str:  # new line j with its break
        k = kept_at[j]
        if k < 0:
            return changed[j]
        return text[starts[k] : starts[k + 1] if k + 1 < count else size]

    run = _longest_run(kept_at)
    gaps: list[Gap] = []
    pi, pj = -1, -1
    last = len(run)
    for r in range(last + 1):
        if r < last:
            j = run[r]
            i = kept_at[j]
            if i == pi + 1 and j == pj + 1 and r:  # (the usual case: the next line, kept)
                pi, pj = i, j
                continue
        else:
            j, i = n_new, n_olds
        lo = starts[pi + 1] if pi + 1 < count else size
        hi = starts[i] if i < count else size
        gaps.append((lo, hi, "".join(map(full, range(pj + 1, j)))))
        pi, pj = i, j
    return at == size, gaps


def _longest_run(kept_at: array[int]) -> array[int]:
    """The new lines (indexes of ``kept_at``) of the longest run of kept lines whose old
    line numbers increase, in order: patience sorting, n log n; at once when every kept
    line is in order (the usual case)."""
    prev = -1
    for k in kept_at:
        if k >= 0:
            if k <= prev:
                break
            prev = k
    else:
        return array("q", [j for j, k in enumerate(kept_at) if k >= 0])
    tails = array("q")  # the smallest last old line of a run of each length
    tail_at = array("q")  # and the candidate it is
    before = array("q")  # per candidate: the candidate before it in its run
    cand_j = array("q")  # per candidate: its new line
    for j, k in enumerate(kept_at):
        if k < 0:
            continue
        cand = len(cand_j)
        cand_j.append(j)
        if not tails or k > tails[-1]:
            n = len(tails)
            tails.append(k)
            tail_at.append(cand)
        else:
            n = bisect_left(tails, k)
            tails[n], tail_at[n] = k, cand
        before.append(tail_at[n - 1] if n else -1)
    run = array("q")  # the run's candidates, last first
    cand = tail_at[-1] if tail_at else -1
    while cand >= 0:
        run.append(cand_j[cand])
        cand = before[cand]
    run.reverse()
    return run


def settled(edits: list[Edit], text: str, nl: str) -> list[Edit]:
    """``edits`` with an insertion after the final line break put before it (Neovim
    appends an extra empty line for text inserted past the last line)."""
    last = edits[-1] if edits else None
    size = len(text)
    if last is not None and last.start == size and text.endswith(nl) and last.text.endswith(nl):
        edits[-1] = Edit(last.start - len(nl), last.start - len(nl), nl + last.text[: -len(nl)])
    return edits


def _trimmed(lo: int, was: str, now: str) -> list[Edit]:
    n = min(len(was), len(now))
    pre = 0
    while pre < n and was[pre] == now[pre]:
        pre += 1
    suf = 0
    while suf < n - pre and was[len(was) - 1 - suf] == now[len(now) - 1 - suf]:
        suf += 1
    if pre + suf == len(was) == len(now):
        return []
    return [Edit(lo + pre, lo + len(was) - suf, now[pre : len(now) - suf])]


def diff_edits(old: str, new: str) -> list[Edit]:
    """The edits turning ``old`` into ``new`` (one, cut down to what differs)."""
    return _trimmed(0, old, new)


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
