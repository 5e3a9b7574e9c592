"""A lossless, error-tolerant TOML 1.0.0 scanner that keeps the exact span of everything.

One pass over the text, statement by statement (a statement is a header or a
``key = value`` line, which may span lines for arrays and multi-line strings). A
syntax error is recorded and the scanner resumes at the next line, so one typo never
hides the rest of the file. Offsets are indices into the Python string (code points);
``positions`` turns them into lines and columns. What TOML 1.0.0 accepts, and nothing
else, scans without an error (the table rules are ``document``'s): docs/decisions.md.
Every pass is linear in the text, with no backtracking state (a 10 MB string included).

One cohesive module, large on purpose: the whole lexical grammar of TOML and the
incremental rescan that depends on its details.

Why not tree-sitter: see ``docs/decisions.md`` (recovery and speed, both measured).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NoReturn


class _Lazy:
    """A regular expression compiled at its first use, when the module's name is made to
    point at the compiled pattern: most files never need most of the scanner's patterns,
    and compiling them all costs ~4 ms at every start (docs/performance.md)."""

    __slots__ = ("_args", "_name")

    def __init__(self, name: str, pattern: str, flags: int = 0) -> None:
        self._name = name
        self._args = (pattern, flags)

    def __getattr__(self, attr: str) -> object:
        compiled = re.compile(*self._args)
        globals()[self._name] = compiled
        return getattr(compiled, attr)


def _lazy(name: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    return _Lazy(name, pattern, flags)  # type: ignore[return-value]


_WS = re.compile(r"[ \t]*")
# TOML's line breaks are LF and CRLF only: a lone CR is a control character, reported
# wherever it is (between statements the scanner reads on after it, as after a break)
_EOL = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\r?\n|$)")
_NEWLINE = _lazy("_NEWLINE", r"\r?\n")
_CONTROL = _lazy("_CONTROL", r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+|\r(?!\n)")
# the bytes of UTF-8 text that are not control characters (no byte of a multi-byte
# sequence is one): deleting them is the fast way to see whether any control is there
_NOT_CONTROL = bytes(b for b in range(256) if not ((b < 0x20 and b not in (9, 10, 13)) or b == 0x7F))
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# The string patterns are "unrolled" (a run of plain characters, then an escape and a run
# again, ...) with possessive repeats: a 10 MB string is one linear pass that keeps no
# backtracking state (an alternation per character kept ~100 bytes for each one).
_BASIC = _lazy("_BASIC", r'"([^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+)"')
_BASIC_UNTERMINATED = _lazy("_BASIC_UNTERMINATED", r'"[^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+\\?')
_LITERAL = _lazy("_LITERAL", r"'([^'\n]*)'")
_ML_BASIC = _lazy("_ML_BASIC", r'"""([^"\\]*+(?:(?:\\[\s\S]|""?(?!"))[^"\\]*+)*+)"""("{0,2})')
_ML_LITERAL = _lazy("_ML_LITERAL", r"'''([^']*+(?:''?(?!')[^']*+)*+)'''('{0,2})")
# A run of text whose escapes are all valid (a line-ending backslash too, when multi-line):
# where it stops, an invalid escape starts. A Unicode escape must name a scalar value.
_VALID_ESCAPE = (
    r'\\(?:[btnfr"\\]|u(?![dD][89a-fA-F])[0-9A-Fa-f]{4}'
    r"|U(?!0000[dD][89a-fA-F])(?:000[0-9A-Fa-f]|0010)[0-9A-Fa-f]{4}"
)
_ESCAPED_RUN = _lazy("_ESCAPED_RUN", rf"[^\\]*+(?:{_VALID_ESCAPE})[^\\]*+)*+")
_ESCAPED_RUN_ML = _lazy("_ESCAPED_RUN_ML", rf"[^\\]*+(?:{_VALID_ESCAPE}|[ \t]*+\r?\n)[^\\]*+)*+")
# the strings again, matched only when every escape is valid (one pass does it all then)
_BASIC_VALID = _lazy("_BASIC_VALID", rf'"([^"\\\n]*+(?:{_VALID_ESCAPE})[^"\\\n]*+)*+)"')
_ML_BASIC_VALID = _lazy(
    "_ML_BASIC_VALID", rf'"""([^"\\]*+(?:(?:{_VALID_ESCAPE})|\\[ \t]*+\r?\n|""?(?!"))[^"\\]*+)*+)"""("{{0,2}})'
)
_BAD_ESCAPE = _lazy("_BAD_ESCAPE", r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.?)", re.DOTALL)
# a line-ending backslash with the whitespace and newlines after it (when it is not the
# second one of an escaped backslash, `\\`: ``_decode`` looks)
_LINE_END_BACKSLASH = _lazy("_LINE_END_BACKSLASH", r"\\[ \t]*\r?\n[ \t\r\n]*")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?(?![0-9A-Za-z:.+-])"
)
_TIME = _lazy("_TIME", r"([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(?![0-9A-Za-z:.+-])")
_TOKEN = _lazy("_TOKEN", r"[0-9A-Za-z_+.\-:]+")
_INT = _lazy("_INT", r"[+-]?(?:0|[1-9](?:_?[0-9])*)")
_HEX = _lazy("_HEX", r"0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*")
_OCT = _lazy("_OCT", r"0o[0-7](?:_?[0-7])*")
_BIN = _lazy("_BIN", r"0b[01](?:_?[01])*")
_FLOAT = _lazy(
    "_FLOAT",
    r"[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|[eE][+-]?[0-9](?:_?[0-9])*)",
)
_SPECIAL_FLOAT = _lazy("_SPECIAL_FLOAT", r"[+-]?(?:inf|nan)")
# inside a value nested too deep: what the skip passes over without a look (a backslash
# stops it: `\"""` would open a string there that no earlier string sees as its end, and
# every such line would then read to the end of the text again)
_DEEP_SKIP = _lazy("_DEEP_SKIP", r"[^\[\]{}\"'#\n\\]+")
# a line that starts a statement (`key =`, `[table]`), which no array holds
_STATEMENT_START = _lazy(
    "_STATEMENT_START",
    r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\r\n]|\\[^\r\n])*"|'[^'\r\n]*')"""
    r"""(?:[ \t]*\.[ \t]*(?:[A-Za-z0-9_-]+|"(?:[^"\\\r\n]|\\[^\r\n])*"|'[^'\r\n]*'))*[ \t]*="""
    r"|\[\[?[ \t]*(?!(?:true|false|inf|nan)[ \t]*[.\]])[A-Za-z_][A-Za-z0-9_-]*[ \t]*[.\]]",
)


@dataclass(slots=True)
class KeyPart:
    """One part of a key (dotted keys have several): its name, unquoted, and its span."""

    name: str
    start: int
    end: int


@dataclass(slots=True)
class Value:
    """A value. ``kind`` is string, integer, float, boolean, datetime, date, time,
    array, table (an inline table) or invalid. ``data`` is the Python value of a
    scalar, a list of Value for an array, a list of Entry for an inline table."""

    kind: str
    start: int
    end: int
    data: object = None


@dataclass(slots=True)
class Entry:
    """``key = value``; ``value`` is None when the line stops before a value."""

    key: list[KeyPart]
    value: Value | None
    start: int
    end: int

    @property
    def key_start(self) -> int:
        return self.key[0].start

    @property
    def key_end(self) -> int:
        return self.key[-1].end


@dataclass(slots=True)
class Header:
    """A ``[table]`` or ``[[array]]`` header: its key's parts and its span."""

    key: list[KeyPart]
    is_array: bool
    start: int
    end: int


@dataclass(slots=True)
class Problem:
    """A syntax error: its span, its message and its code."""

    start: int
    end: int
    message: str
    code: str = "toml-syntax"


# How deep a statement may nest: each part of a dotted key or header, each array and each
# inline table is one level. A connection file needs four or five; a hostile one nests
# thousands deep (`a = [[[[…]]]]`), which would exhaust the recursion of every pass over
# the values and make path building quadratic. Past the limit the scanner reports
# NESTING_CODE once, skips the deeper part without looking into it, and carries on.
MAX_DEPTH = 100
NESTING_CODE = "nesting-too-deep"
NESTING_MESSAGE = (
    f"Nested more than {MAX_DEPTH} levels deep (each dotted key part, array and inline table is a level): "
    "snowauth does not read deeper. A connection file needs only a few levels: remove the extra nesting"
)


INF = 1 << 62  # the reach of a scan that read to the end of the text
CHUNK_STATEMENTS = 16  # statements per chunk at most (a header always starts a new chunk)


@dataclass(slots=True, eq=False)
class Chunk:
    """A run of consecutive statements: the unit the incremental scan reuses.

    A chunk starts at a line start where the scanner is between statements, runs to the
    next chunk's start and holds at most ``CHUNK_STATEMENTS`` statements; a header is
    always the first item of its chunk. ``reach`` (relative to ``start``) is how far
    scanning it looked: an edit before ``start + reach`` may change it.

    ``start`` is kept current as the text is edited; the offsets of its items and errors
    are right for ``origin`` and move with ``rebase()``. The other fields belong to the
    layers above (``document``, ``analysis``)."""

    start: int
    items: list[Header | Entry] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    reach: int = 0
    origin: int = 0
    gov: Header | None = None  # the header whose table holds the chunk's entries
    owners: frozenset[str | None] = frozenset()  # connections (None: the file level) with items here
    sorted_errors: bool = False  # control characters were found: errors are sorted by start

    def rebase(self) -> None:
        """Move the items' and errors' offsets to the chunk's current place."""
        d = self.start - self.origin
        if d:
            for it in self.items:
                if type(it) is Entry:
                    _shift_entry(it, d)
                else:
                    it.start += d
                    it.end += d
                    for p in it.key:
                        p.start += d
                        p.end += d
            for e in self.errors:
                e.start += d
                e.end += d
            self.origin = self.start


def _shift_entry(e: Entry, d: int) -> None:
    e.start += d
    e.end += d
    for p in e.key:
        p.start += d
        p.end += d
    if e.value is not None:
        _shift_value(e.value, d)


def _shift_value(v: Value, d: int) -> None:
    v.start += d
    v.end += d
    if v.kind == "array":
        for x in v.data:  # type: ignore[attr-defined]
            _shift_value(x, d)
    elif v.kind == "table":
        for e in v.data:  # type: ignore[attr-defined]
            _shift_entry(e, d)


@dataclass(slots=True)
class Parsed:
    """A scanned text: its statements in order, its syntax errors and its chunks."""

    text: str
    items: list[Header | Entry] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


def _line_end(text: str, i: int) -> int:
    """The offset of the line break (or end of text) at or after ``i``."""
    j = text.find("\n", i)
    if j < 0:
        return len(text)
    return j - 1 if j > i and text[j - 1] == "\r" else j


def _line_rest(text: str, i: int) -> int:
    """Where the next line starts when only blanks and a comment are left on the line at
    ``i`` (``_EOL``), else -1. A line feed at once is the common case, looked at without
    the pattern."""
    if text.startswith("\n", i):
        return i + 1
    m = _EOL.match(text, i)
    return -1 if m is None else m.end()


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _error_end(text: str, i: int, j: int) -> int:
    """The end of an error that starts at ``i`` on a line ending at ``j``: the rest of
    the line, or when nothing is left the whole line break (never half of a CRLF)."""
    if j > i:
        return j
    if text.startswith("\r\n", i):
        return i + 2
    return min(i + 1, len(text))


class _Fail(Exception):
    """A statement cannot be read. Scanning resumes at the line after ``start``, or at
    ``resume`` (a line start) when given."""

    def __init__(
        self, start: int, end: int, message: str, code: str = "toml-syntax", resume: int | None = None
    ) -> None:
        self.start, self.end, self.message, self.code, self.resume = start, end, message, code, resume


def parse(text: str) -> Parsed:
    """Scan ``text``; never raises."""
    chunks, _ = scan(text)
    return flatten(text, chunks)


def flatten(text: str, chunks: list[Chunk]) -> Parsed:
    """The statements and errors of ``chunks`` (all rebased) as one ``Parsed``."""
    items: list[Header | Entry] = []
    errors: list[Problem] = []
    resort = False
    for c in chunks:
        c.rebase()
        items.extend(c.items)
        errors.extend(c.errors)
        resort = resort or c.sorted_errors
    if resort:
        errors.sort(key=lambda p: p.start)
    return Parsed(text, items, errors, chunks)


class Chunks:
    """The chunks of a text, brought up to date edit by edit: only the statements an
    edit can change are scanned again (up to the next chunk that starts past the edit);
    the others keep their objects and move (``Chunk.start``; ``rebase`` when read)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.list, _ = scan(text)
        self.long: set[Chunk] = set()  # chunks whose scan looked past their own end
        self._mark_long(self.list, len(text))

    def _mark_long(self, new: list[Chunk], end: int) -> None:
        for k, c in enumerate(new):
            extent = (new[k + 1].start if k + 1 < len(new) else end) - c.start
            if c.reach > extent + 1:
                self.long.add(c)

    def edit(self, text: str, start: int, end: int, inserted: int) -> tuple[int, list[Chunk], list[Chunk]]:
        """[start, end) of the previous text became ``inserted`` characters, giving
        ``text``. Returns the index of the first new chunk, the chunks removed and those
        added in their place (the chunks after them moved by the difference in length)."""
        chunks = self.list
        delta = inserted - (end - start)
        k = bisect_right(chunks, start, key=_chunk_start) - 1
        if k > 0 and chunks[k - 1].start + chunks[k - 1].reach > start:
            k -= 1
        for c in self.long:
            if c.start < chunks[k].start and c.start + c.reach > start:
                k = min(k, bisect_right(chunks, c.start, key=_chunk_start) - 1)
        # the first chunk wholly after the edit: where the new scan may meet the old one
        j = max(k + 1, bisect_left(chunks, end, key=_chunk_start))

        def resync(at: int) -> bool:
            nonlocal j
            while j < len(chunks) and chunks[j].start + delta < at:
                j += 1
            return j < len(chunks) and chunks[j].start + delta == at

        new, stop = scan(text, chunks[k].start, resync)
        if stop >= len(text):  # scanned to the end: nothing old is left
            j = len(chunks)
        removed = chunks[k:j]
        chunks[k:j] = new
        if delta:
            for c in chunks[k + len(new) :]:
                c.start += delta
        self.long.difference_update(removed)
        self._mark_long(new, stop)
        self.text = text
        return k, removed, new


def _chunk_start(c: Chunk) -> int:
    return c.start


def scan(text: str, start: int = 0, resync: Callable[[int], bool] | None = None) -> tuple[list[Chunk], int]:
    """Scan from ``start`` (a line start between two statements) into chunks.

    Stops at the first statement whose line start ``resync`` accepts (that position is
    returned; the text from there on is the caller's to reuse), else at the end."""
    return _Scanner(text).run(start, resync)


# a `key = "plain string"` line and a `[plain.header]` line, the bulk of every file
# (the rest of the line, `_EOL`, is looked at apart: at a line feed without the pattern,
# which takes longer than the whole line before it)
_FAST_ENTRY = re.compile(r'([A-Za-z0-9_-]+)[ \t]*=[ \t]*"([^"\\\r\n]*)"')
_FAST_MEMBER = re.compile(r'([A-Za-z0-9_-]+)[ \t]*=[ \t]*"([^"\\\r\n]*)"[ \t]*')
_FAST_HEADER = re.compile(r"\[([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\]")
# `key = {` and the members of a plain inline table on one line: a string or a UTC date-time
# (a stored token's `expires_at`) followed by `,` or the closing `}`
_FAST_INLINE = re.compile(r"([A-Za-z0-9_-]+)[ \t]*=[ \t]*(\{)[ \t]*")
_FAST_INLINE_MEMBER = re.compile(
    r'([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:"([^"\\\r\n]*)"|([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z))'
    r"[ \t]*(?:,[ \t]*|(\}))"
)
SHARED_LENGTH = 64  # a string value up to this long is kept once however often it is written


def _shared(body: str) -> str:
    """One object for a short string written many times (key names, grant types, client
    IDs, `${env:…}` references): a 10,000-line file holds each ~2,000 times over."""
    return sys.intern(body) if len(body) <= SHARED_LENGTH else body


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.items: list[Header | Entry] = []
        self.errors: list[Problem] = []
        self.hi = 0  # the furthest offset a value scan started at (for the reach)

    def run(self, start: int, resync: Callable[[int], bool] | None) -> tuple[list[Chunk], int]:
        text, n = self.text, self.n
        fast_entry, fast_header = _FAST_ENTRY.match, _FAST_HEADER.match
        fast_inline = _FAST_INLINE.match
        intern = sys.intern
        i = 1 if start == 0 and text.startswith("\ufeff") else start
        chunk = Chunk(start, origin=start)
        chunks = [chunk]
        self.items, self.errors = chunk.items, chunk.errors
        count = 0
        line_start = start
        reach = start
        stop = n
        stopped = False
        items = self.items
        while i < n:
            c = text[i]
            if c == " " or c == "\t":
                i = _skip_ws(text, i)
                if i >= n:
                    break
                c = text[i]
            if c == "\n" or c == "\r":
                # a lone CR is no line break (the control pass reports it), but reading
                # on after it as after one recovers best
                i += 2 if c == "\r" and text.startswith("\n", i + 1) else 1
                line_start = i
                continue
            if c == "#":
                i = _line_end(text, i)
                continue
            # a statement at i, on the line that starts at line_start
            if resync is not None and resync(line_start):
                stop, stopped = line_start, True
                break
            if (c == "[" or count >= CHUNK_STATEMENTS) and (items or self.errors):
                chunk.reach = max(reach, line_start + 1) - chunk.start
                chunk = Chunk(line_start, origin=line_start)
                chunks.append(chunk)
                items = chunk.items
                self.items, self.errors = items, chunk.errors
                count = 0
            count += 1
            if c == "[":
                m = fast_header(text, i)
                if m is not None and (e := _line_rest(text, m.end())) >= 0 and m.group(1).count(".") < MAX_DEPTH:
                    parts = []
                    at = i + 1
                    for name in m.group(1).split("."):
                        parts.append(KeyPart(intern(name), at, at + len(name)))
                        at += len(name) + 1
                    items.append(Header(parts, False, i, at))
                    i = line_start = e
                    if i >= reach:
                        reach = i + 1
                    continue
            else:
                m = fast_entry(text, i)
                if m is not None and (e := _line_rest(text, m.end())) >= 0:
                    while True:
                        name, body = m.groups()
                        vs, ve = m.span(2)
                        ve += 1
                        value = Value("string", vs - 1, ve, _shared(body))
                        items.append(Entry([KeyPart(intern(name), i, i + len(name))], value, i, ve))
                        i = e
                        # the next line is one too, in this chunk (what the loop would find)
                        if resync is not None or count >= CHUNK_STATEMENTS or (m := fast_entry(text, i)) is None:
                            break
                        if text.startswith("\n", me := m.end()):
                            e = me + 1
                        elif (e := _line_rest(text, me)) < 0:
                            break
                        count += 1
                    line_start = i
                    if i >= reach:
                        reach = i + 1
                    continue
                m = fast_inline(text, i)
                if m is not None and (end := self._plain_inline_line(i, m)) is not None:
                    i = line_start = end
                    if i >= reach:
                        reach = i + 1
                    continue
            self.hi = i
            try:
                i = self._header(i) if c == "[" else self._entry(i)
                reach = max(reach, i + 1)
            except _Fail as fail:
                # a failure at the end of the text may point one past it: clamp
                self._error(fail.start, min(max(fail.end, fail.start), n), fail.message, fail.code)
                far = max(self.hi, fail.start, fail.end)
                reach = max(reach, INF if far >= n else _line_end(text, far) + 2)
                i = self._skip_line(fail.start) if fail.resume is None else fail.resume
            line_start = i
        chunk.reach = max(reach, stop + 1) - chunk.start
        if stopped and len(chunks) == 1 and chunk.start == stop:
            return [], stop  # stopped at once: nothing changed here
        if _has_control(text, start, stop):  # (the common case: none, and one look at the whole)
            for k, ch in enumerate(chunks):
                self._control_characters(ch, chunks[k + 1].start if k + 1 < len(chunks) else stop)
        return chunks, stop

    def _plain_inline_line(self, start: int, m: re.Match[str]) -> int | None:
        """`key = { k = "string", k = 2026-11-28T09:00:00Z, … }` alone on its line (an
        inline connection, a stored token), read in one loop: the statement is added and
        the next line's start returned; None (nothing added) when the line is anything
        else, for the full path to read (``tests/hardening/test_scanner_fast_paths.py``)."""
        text = self.text
        member = _FAST_INLINE_MEMBER.match
        intern = sys.intern
        entries: list[Entry] = []
        j = m.end()
        while True:
            mm = member(text, j)
            if mm is None:
                return None
            kname, body, stamp, close = mm.groups()
            if body is not None:
                ve = mm.end(2) + 1
                value = Value("string", mm.start(2) - 1, ve, _shared(body))
            else:
                vs = mm.start(3)
                dm = _DATETIME.match(text, vs)
                if dm is None or dm.end() != vs + len(stamp):
                    return None
                try:
                    value = self._datetime(dm, vs)
                except _Fail:
                    return None
                ve = value.end
            entries.append(Entry([KeyPart(intern(kname), j, j + len(kname))], value, j, ve))
            j = mm.end()
            if close is not None:
                break
        end = _line_rest(text, j)
        if end < 0:
            return None
        name = m.group(1)
        table = Value("table", m.start(2), j, entries)
        self.items.append(Entry([KeyPart(intern(name), start, start + len(name))], table, start, j))
        return end

    def _control_characters(self, chunk: Chunk, end: int) -> None:
        """TOML allows no control character but tab and line breaks (LF, CRLF), even in
        strings and comments; report those the statements did not already fail on."""
        found = False
        spans: list[tuple[int, int]] | None = None
        starts: list[int] = []
        reach: list[int] = []  # the furthest end of the errors up to each one
        errors = chunk.errors
        text = self.text
        if not _has_control(text, chunk.start, end):
            return
        for m in _CONTROL.finditer(text, chunk.start, end):
            if spans is None:
                spans = sorted((p.start, max(p.end, p.start + 1)) for p in errors)
                starts = [s for s, _ in spans]
                furthest = 0
                for _, e in spans:
                    furthest = max(furthest, e)
                    reach.append(furthest)
            k = bisect_right(starts, m.start()) - 1
            if k >= 0 and reach[k] > m.start():
                continue
            if m.group() == "\r":
                message = "A carriage return (U+000D) without a line feed is not a line break in TOML: use LF or CRLF"
            else:
                message = f"Control character U+{ord(m.group()[0]):04X} is not allowed in TOML: remove it"
            errors.append(Problem(m.start(), m.end(), message))
            found = True
        if found:
            errors.sort(key=lambda p: p.start)
            chunk.sorted_errors = True

    # -- statements -----------------------------------------------------------------

    def _error(self, start: int, end: int, message: str, code: str = "toml-syntax") -> None:
        errors = self.errors
        if errors and errors[-1].start == start and errors[-1].message == message:
            return
        errors.append(Problem(start, end, message, code))

    def _skip_line(self, i: int) -> int:
        i = _line_end(self.text, i)
        m = _NEWLINE.match(self.text, i)
        return m.end() if m else i

    def _end_of_statement(self, i: int, what: str) -> int:
        m = _EOL.match(self.text, i)
        if m is None:
            j = _skip_ws(self.text, i)
            if self.text.startswith("\r", j):  # a lone CR (reported by the control pass)
                return j + 1
            j = _line_end(self.text, i)
            raise _Fail(i, j, f"Unexpected text after {what}: put each key or header on its own line")
        return m.end()

    def _header(self, start: int) -> int:
        text = self.text
        is_array = text.startswith("[[", start)
        i = _skip_ws(text, start + (2 if is_array else 1))
        key, i = self._key(i, "a table name after `[`")
        i = _skip_ws(text, i)  # `[ connections . dev ]` is valid TOML
        closing = "]]" if is_array else "]"
        if not text.startswith(closing, i):
            j = _line_end(text, i)
            self.items.append(Header(key, is_array, start, j))
            raise _Fail(start if i >= j else i, j, f"Expected `{closing}` to close the table header")
        i += len(closing)
        self.items.append(Header(key, is_array, start, i))
        return self._end_of_statement(i, "the table header")

    def _entry(self, start: int) -> int:
        text = self.text
        key, i = self._key(start, "a key (`name = value`), a `[table]` header or a comment")
        i = _skip_ws(text, i)
        if not text.startswith("=", i):
            entry = Entry(key, None, start, key[-1].end)
            self.items.append(entry)
            j = _line_end(text, i)
            name = text[start : key[-1].end]
            if i >= j:
                raise _Fail(key[0].start, key[-1].end, f"Expected `=` and a value after `{name}`")
            raise _Fail(i, j, f"Expected `=` after the key `{name}`")
        i = _skip_ws(text, i + 1)
        entry = Entry(key, None, start, i)
        self.items.append(entry)
        if i >= self.n or text[i] in "\r\n#":
            raise _Fail(start, i, "Missing value after `=`")
        value = self._value(i, len(key))
        entry.value = value
        entry.end = value.end
        return self._end_of_statement(value.end, "the value")

    # -- keys -----------------------------------------------------------------------

    def _key(self, i: int, expected: str, depth: int = 0) -> tuple[list[KeyPart], int]:
        """A (dotted) key whose first part is at level ``depth + 1``."""
        text = self.text
        parts: list[KeyPart] = []
        while True:
            part, i = self._key_part(i, expected if not parts else "a key after `.`")
            if depth + len(parts) >= MAX_DEPTH:
                raise _Fail(part.start, part.end, NESTING_MESSAGE, NESTING_CODE)
            parts.append(part)
            j = _skip_ws(text, i)
            if not text.startswith(".", j):
                return parts, i
            i = _skip_ws(text, j + 1)

    def _key_part(self, i: int, expected: str) -> tuple[KeyPart, int]:
        text = self.text
        m = _BARE_KEY.match(text, i)
        if m:
            return KeyPart(sys.intern(m.group()), i, m.end()), m.end()
        if text.startswith('"', i):
            if text.startswith('"""', i):
                raise _Fail(i, i + 3, "A key cannot be a multi-line string")
            m = _BASIC.match(text, i)
            if m is None:
                j = _line_end(text, i)
                raise _Fail(i, j, 'Unterminated quoted key: add the closing `"`')
            return KeyPart(self._unescape(m.group(1), i + 1), i, m.end()), m.end()
        if text.startswith("'", i):
            m = _LITERAL.match(text, i)
            if m is None:
                j = _line_end(text, i)
                raise _Fail(i, j, "Unterminated quoted key: add the closing `'`")
            return KeyPart(m.group(1), i, m.end()), m.end()
        j = _line_end(text, i)
        found = text[i:j].strip()
        end = i + max(1, len(found.split()[0]) if found else 0) if i < j else i
        raise _Fail(i, min(end, j) if j > i else i, f"Expected {expected}")

    # -- values ---------------------------------------------------------------------

    def _value(self, i: int, depth: int) -> Value:
        """The value at ``i``, inside ``depth`` levels (key parts, arrays, inline tables)."""
        text = self.text
        if i > self.hi:
            self.hi = i
        c = text[i] if i < self.n else ""
        if c == '"':
            if text.startswith('"""', i):
                m = _ML_BASIC_VALID.match(text, i)
                valid = m is not None
                if m is None:
                    m = _ML_BASIC.match(text, i)
                if m is None:
                    self.hi = self.n  # the pattern looked to the end of the text
                    raise _Fail(i, i + 3, 'Unterminated multi-line string: add the closing `"""`')
                body = m.group(1)
                if body.startswith("\r\n"):
                    body, off = body[2:], 5
                elif body.startswith("\n"):
                    body, off = body[1:], 4
                else:
                    off = 3
                value = _decode(body, True) if valid else self._unescape(body, i + off, True)
                return Value("string", i, m.end(), value + m.group(2))
            m = _BASIC_VALID.match(text, i)
            if m is not None:
                return Value("string", i, m.end(), _decode(m.group(1), False))
            m = _BASIC.match(text, i)
            if m is None:
                um = _BASIC_UNTERMINATED.match(text, i)
                end = um.end() if um else i + 1
                if text.startswith("\r\n", end - 1):
                    end -= 1  # not half of the line break
                raise _Fail(i, end, 'Unterminated string: add the closing `"`')
            return Value("string", i, m.end(), self._unescape(m.group(1), i + 1))
        if c == "'":
            if text.startswith("'''", i):
                m = _ML_LITERAL.match(text, i)
                if m is None:
                    self.hi = self.n  # the pattern looked to the end of the text
                    raise _Fail(i, i + 3, "Unterminated multi-line string: add the closing `'''`")
                body = m.group(1)
                if body.startswith("\r\n"):
                    body = body[2:]
                elif body.startswith("\n"):
                    body = body[1:]
                return Value("string", i, m.end(), body + m.group(2))
            m = _LITERAL.match(text, i)
            if m is None:
                raise _Fail(i, _line_end(text, i), "Unterminated string: add the closing `'`")
            return Value("string", i, m.end(), m.group(1))
        if c == "[" or c == "{":
            if depth >= MAX_DEPTH:
                return self._too_deep(i)
            return self._array(i, depth + 1) if c == "[" else self._inline_table(i, depth + 1)
        m = _DATETIME.match(text, i)
        if m:
            return self._datetime(m, i)
        m = _TIME.match(text, i)
        if m:
            return self._time(m, i)
        m = _TOKEN.match(text, i)
        if m is None:
            j = _line_end(text, i)
            raise _Fail(
                i,
                _error_end(text, i, j),
                'Expected a value (a "string", number, true/false, date, [array] or {table})',
            )
        tok, end = m.group(), m.end()
        if tok in ("true", "false"):
            return Value("boolean", i, end, tok == "true")
        if _INT.fullmatch(tok):
            return Value("integer", i, end, int(tok.replace("_", "")))
        for pattern, base in ((_HEX, 16), (_OCT, 8), (_BIN, 2)):
            if pattern.fullmatch(tok):
                return Value("integer", i, end, int(tok[2:].replace("_", ""), base))
        if _FLOAT.fullmatch(tok) or _SPECIAL_FLOAT.fullmatch(tok):
            return Value("float", i, end, float(tok.replace("_", "")))
        if _BARE_KEY.fullmatch(tok):
            hint = f'write "{tok}" with quotes' if tok.isidentifier() or "-" in tok else "check it"
            raise _Fail(i, end, f"`{tok}` is not a valid value: strings need quotes ({hint})")
        raise _Fail(i, end, f"`{tok}` is not a valid number, date or boolean")

    def _datetime(self, m: re.Match[str], i: int) -> Value:
        y, mo, d, hh, mi, ss, frac, tz = m.groups()
        try:
            day = date(int(y), int(mo), int(d))
            if hh is None:
                return Value("date", i, m.end(), day)
            micro = int((frac[1:] + "000000")[:6]) if frac else 0
            tzinfo: timezone | None = None
            if tz:
                if tz in "Zz":
                    tzinfo = UTC
                else:
                    sign = -1 if tz[0] == "-" else 1
                    hours, minutes = int(tz[1:3]), int(tz[4:6])
                    if hours > 23 or minutes > 59:
                        raise ValueError("the offset's hours must be 00 to 23 and its minutes 00 to 59")
                    tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
            dt = datetime(day.year, day.month, day.day, int(hh), int(mi), int(ss), micro, tzinfo)
        except ValueError as exc:
            raise _Fail(i, m.end(), f"Invalid date or time: {exc}") from None
        return Value("datetime", i, m.end(), dt)

    def _time(self, m: re.Match[str], i: int) -> Value:
        hh, mi, ss, frac = m.groups()
        try:
            micro = int((frac[1:] + "000000")[:6]) if frac else 0
            value = time(int(hh), int(mi), int(ss), micro)
        except ValueError as exc:
            raise _Fail(i, m.end(), f"Invalid time: {exc}") from None
        return Value("time", i, m.end(), value)

    def _skip_ws_comments_newlines(self, i: int) -> int:
        text, n = self.text, self.n
        while i < n:
            c = text[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                i = _line_end(text, i)
            else:
                break
        return i

    def _array(self, start: int, depth: int) -> Value:
        text = self.text
        items: list[Value] = []
        i = self._skip_ws_comments_newlines(start + 1)
        while True:
            if i > self.hi:
                self.hi = i
            if i >= self.n:
                raise _Fail(start, start + 1, "Unterminated array: add the closing `]`")
            if text[i] == "]":
                return Value("array", start, i + 1, items)
            items.append(self._value(i, depth))
            i = self._skip_ws_comments_newlines(items[-1].end)
            if i < self.n and text[i] == ",":
                i = self._skip_ws_comments_newlines(i + 1)
            elif i >= self.n or text[i] != "]":
                j = _line_end(text, i)
                raise _Fail(i, _error_end(text, i, j), "Expected `,` or `]` in the array")

    def _inline_table(self, start: int, depth: int) -> Value:
        text = self.text
        entries: list[Entry] = []
        i = _skip_ws(text, start + 1)
        if text.startswith("}", i):
            return Value("table", start, i + 1, entries)
        fast = _FAST_MEMBER.match
        while True:
            m = fast(text, i)
            if m is not None and depth < MAX_DEPTH and text.startswith((",", "}"), m.end()):
                # `key = "plain string"` followed by `,` or `}`
                name, body = m.groups()
                vs = m.start(2) - 1
                ve = vs + len(body) + 2
                value = Value("string", vs, ve, _shared(body))
                entries.append(Entry([KeyPart(sys.intern(name), i, i + len(name))], value, i, ve))
                i = m.end()
            else:
                try:
                    key, i = self._key(i, "a key in the inline table", depth)
                except _Fail as fail:
                    if fail.code != NESTING_CODE:
                        raise
                    # a member's dotted key passes the limit: skip the whole table
                    return self._too_deep(start, fail.start, fail.end)
                i = _skip_ws(text, i)
                if not text.startswith("=", i):
                    j = _line_end(text, i)
                    name = text[key[0].start : key[-1].end]
                    raise _Fail(i, _error_end(text, i, j), f"Expected `=` after the key `{name}`")
                i = _skip_ws(text, i + 1)
                if i >= self.n or text[i] in "\r\n,}":
                    raise _Fail(key[0].start, i, "Missing value after `=`")
                value = self._value(i, depth + len(key))
                entries.append(Entry(key, value, key[0].start, value.end))
                i = _skip_ws(text, value.end)
            if text.startswith(",", i):
                i = _skip_ws(text, i + 1)
                if text.startswith("}", i):
                    raise _Fail(i - 1, i, "TOML does not allow a trailing comma in an inline table")
                continue
            if text.startswith("}", i):
                return Value("table", start, i + 1, entries)
            j = _line_end(text, i)
            what = "a line break" if j == i else "text"
            raise _Fail(i, _error_end(text, i, j), f"Expected `,` or `}}` in the inline table, found {what}")

    def _too_deep(self, start: int, at: int | None = None, at_end: int | None = None) -> Value:
        """The array or inline table at ``start``, past ``MAX_DEPTH`` (at the bracket, or
        at the key part [at, at_end) in it): report it and skip to its closing bracket
        without looking into it (no recursion, no values).

        When it does not close, scanning resumes where the skip stopped (never at the line
        after ``start``, which it already read): so no text is skipped twice, and a file of
        such statements still takes linear time. The skip stops at a line break in an
        inline table (TOML keeps them on one line) and, in an array, before a line that
        starts a statement (`key =` or `[table]`), which an array cannot hold."""
        text, n = self.text, self.n
        if at is None or at_end is None:
            at, at_end = start, start + 1
        self._error(at, at_end, NESTING_MESSAGE, NESTING_CODE)
        closers: list[str] = []
        i = start
        while i < n:
            m = _DEEP_SKIP.match(text, i)
            if m is not None:
                i = m.end()
                if i >= n:
                    break
            c = text[i]
            if c == "[" or c == "{":
                closers.append("]" if c == "[" else "}")
                i += 1
            elif c == "]" or c == "}":
                if c != closers[-1]:
                    self.hi = max(self.hi, i)
                    what = "array" if closers[-1] == "]" else "inline table"
                    raise _Fail(i, i + 1, f"Expected `{closers[-1]}` to close the {what}, found `{c}`")
                closers.pop()
                i += 1
                if not closers:
                    self.hi = max(self.hi, i)
                    return Value("array" if c == "]" else "table", start, i, [])
            elif c == "#":
                i = _line_end(text, i)
            elif c == "\\":
                self.hi = max(self.hi, i)
                raise _Fail(i, i + 1, 'A backslash belongs inside a "string": remove it or quote the value')
            elif c == "\n":
                i += 1
                self.hi = max(self.hi, i)
                if closers[-1] == "}":
                    self._unclosed(start, i)
                j = _skip_ws(text, i)
                if _STATEMENT_START.match(text, j):
                    self.hi = max(self.hi, _line_end(text, j))
                    self._unclosed(start, i)
            else:  # a quote
                triple = text.startswith(c * 3, i)
                pattern = (_ML_BASIC if triple else _BASIC) if c == '"' else (_ML_LITERAL if triple else _LITERAL)
                m = pattern.match(text, i)
                if m is None:
                    self.hi = n if triple else max(self.hi, _line_end(text, i))
                    quote = c * 3 if triple else c
                    raise _Fail(i, i + len(quote), f"Unterminated string: add the closing `{quote}`")
                i = m.end()
        self.hi = n
        self._unclosed(start, n)

    def _unclosed(self, start: int, resume: int) -> NoReturn:
        """The value nested too deep at ``start`` does not close before ``resume``."""
        what, closer = ("array", "]") if self.text[start] == "[" else ("inline table", "}")
        raise _Fail(start, start + 1, f"Unterminated {what}: add the closing `{closer}`", resume=resume)

    def _unescape(self, body: str, offset: int, multiline: bool = False) -> str:
        """The value of a basic string's ``body`` (at ``offset``): invalid escapes are
        reported and kept as their character. Linear, with the work done by ``re`` and
        the codec: no Python call per escape (a 10 MB string of escapes takes ~0.1 s)."""
        if "\\" not in body:
            return body
        run = (_ESCAPED_RUN_ML if multiline else _ESCAPED_RUN).match
        n = len(body)
        pieces: list[str] = []
        i = 0
        while True:
            m = run(body, i)
            j = m.end() if m else i
            if j > i:
                pieces.append(_decode(body[i:j], multiline))
            if j >= n:
                break
            bad = _BAD_ESCAPE.match(body, j)
            k = bad.end() if bad else j + 1
            if k - j > 2:
                self._error(offset + j, offset + k, "Invalid Unicode escape")
                pieces.append("\ufffd")
            else:
                found = body[j + 1 : k]
                self._error(offset + j, offset + k, f"Invalid escape `\\{found}`: use `\\\\` for a backslash")
                pieces.append(found)
            i = k
        return "".join(pieces)


def _has_control(text: str, start: int, end: int) -> bool:
    """A control character (or a carriage return) in [start, end): at the speed of a copy
    (the pattern is 20 times slower)."""
    part = text[start:end]
    return "\r" in part or bool(part.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL))


def _decode(run: str, multiline: bool) -> str:
    """A run of text whose escapes are all valid TOML escapes, unescaped."""
    if "\\" not in run:
        return run
    if multiline and "\n" in run:
        kept: list[str] = []
        last = 0
        for m in _LINE_END_BACKSLASH.finditer(run):
            at = k = m.start()
            while k > 0 and run[k - 1] == "\\":
                k -= 1
            if (at - k) % 2 == 0:  # an even run of backslashes before it: it is not escaped
                kept.append(run[last:at])
                last = m.end()
        if kept:
            run = "".join(kept) + run[last:]
    # TOML's escapes are a subset of Python's: characters past Latin-1 become escapes
    # themselves on the way to bytes, and the codec turns everything back
    return run.encode("latin-1", "backslashreplace").decode("unicode_escape")
