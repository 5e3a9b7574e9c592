"""Semantic tokens: what each part of a connection file is, for editors without a TOML
grammar (the legend is in README.md), computed chunk by chunk and kept between edits.

A token is ``(start, end, type, modifiers)`` in code points, from the legend below:
table headers are namespaces (the connection's name a declaration), keys properties (the
parts before the last of a dotted key namespaces), values strings, numbers (date-times
too) and keywords (booleans), comments comments; a secret reference inside a string
(`${env:…}`, `${file:…}`, `${prompt}`) is a macro with the ``secret`` modifier; a key
or table snowauth does not know carries ``unknown``.

The text is read in the incremental analysis' chunks (``syntax.Chunk``: the statements
of a few lines, starting at a line start, kept as objects while no edit touches them).
``Tokens`` keeps each chunk's tokens, already encoded by the caller (the language
server encodes them in the client's units), so an edit encodes again only the chunks it
changed; ``delta`` is the one edit from the previous result to the new one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from snowauth.analysis import Analysis
from snowauth.model import CONNECTION_KEYS, CONNECTIONS_TABLE, EXPORT_KEYS, EXPORT_TABLE, TOKEN_KEYS, TOP_KEYS
from snowauth.positions import LineIndex
from snowauth.syntax import Chunk, Entry, Header, KeyPart, Value

TOKEN_TYPES = ("namespace", "property", "string", "number", "keyword", "comment", "macro")
TOKEN_MODIFIERS = ("declaration", "unknown", "secret")
NAMESPACE, PROPERTY, STRING, NUMBER, KEYWORD, COMMENT, MACRO = range(len(TOKEN_TYPES))
DECLARATION, UNKNOWN, SECRET = (1 << i for i in range(len(TOKEN_MODIFIERS)))

Token = tuple[int, int, int, int]  # start, end (code points), type, modifier bits
Names = tuple[str, ...]

_REFERENCE = re.compile(r"\$\{(?:env:[A-Za-z_][A-Za-z0-9_]*|file:[^}\n]+|prompt)\}")
_VALUE_TYPES = {
    "string": STRING,
    "integer": NUMBER,
    "float": NUMBER,
    "boolean": KEYWORD,
    "datetime": NUMBER,
    "date": NUMBER,
    "time": NUMBER,
}


# -- what a path is ------------------------------------------------------------------------


def known(path: Names) -> bool:
    """Whether snowauth knows the table or key at ``path``."""
    n = len(path)
    if n == 0:
        return True
    if path[0] != CONNECTIONS_TABLE:
        return n == 1 and path[0] in TOP_KEYS
    if n <= 2:
        return True
    if n == 3:
        return path[2] in CONNECTION_KEYS or path[2] in (EXPORT_TABLE, "token")
    if n == 4:
        return (path[2] == "token" and path[3] in TOKEN_KEYS) or (path[2] == EXPORT_TABLE and path[3] in EXPORT_KEYS)
    return False


def _modifiers(path: Names) -> int:
    if len(path) == 2 and path[0] == CONNECTIONS_TABLE:
        return DECLARATION
    return 0 if known(path) else UNKNOWN


# -- the tokens of one chunk ---------------------------------------------------------------


def chunk_tokens(chunk: Chunk, region: str, gov: Header | None) -> list[Token]:
    """The tokens of ``chunk`` (rebased), whose text is ``region`` and whose entries before
    any header of its own belong to the table of ``gov``; offsets relative to the chunk."""
    base = chunk.start
    out: list[Token] = []
    table: Names | None = _table(gov)
    for it in chunk.items:
        if type(it) is Header:
            table = _table(it)
            _key(out, it.key, (), NAMESPACE, base, last=NAMESPACE, unknown=it.is_array)
        else:
            _entry(out, cast(Entry, it), table, base, region)
    out.sort()
    return _with_comments(out, region)


def _table(h: Header | None) -> Names | None:
    """The path of the table a header opens (None: an element of an array of tables)."""
    if h is None:
        return ()
    return None if h.is_array else tuple(p.name for p in h.key)


def _key(
    out: list[Token], parts: list[KeyPart], base_path: Names | None, kind: int, base: int, *, last: int, unknown: bool
) -> Names | None:
    path = base_path
    for i, p in enumerate(parts):
        path = (*path, p.name) if path is not None else None
        mods = UNKNOWN if unknown or path is None else _modifiers(path)
        out.append((p.start - base, p.end - base, last if i == len(parts) - 1 else kind, mods))
    return path


def _entry(out: list[Token], e: Entry, table: Names | None, base: int, region: str) -> None:
    path = _key(out, e.key, table, NAMESPACE, base, last=PROPERTY, unknown=False)
    if e.value is not None:
        _value(out, e.value, path, base, region)


def _value(out: list[Token], v: Value, path: Names | None, base: int, region: str) -> None:
    if v.kind == "array":
        for x in cast(list[Value], v.data):
            _value(out, x, path, base, region)
        return
    if v.kind == "table":
        for e in cast(list[Entry], v.data):
            _entry(out, e, path, base, region)
        return
    kind = _VALUE_TYPES.get(v.kind)
    if kind is None:
        return  # an invalid value: the diagnostic marks it
    start, end = v.start - base, v.end - base
    if kind == STRING and "${" in region[start:end]:
        for m in _REFERENCE.finditer(region, start, end):
            if m.start() > start:
                out.append((start, m.start(), STRING, 0))
            out.append((m.start(), m.end(), MACRO, SECRET))
            start = m.end()
        if start < end:
            out.append((start, end, STRING, 0))
        return
    out.append((start, end, kind, 0))


def _with_comments(tokens: list[Token], region: str) -> list[Token]:
    """``tokens`` with the comments between them (a `#` outside every token runs to the
    end of its line)."""
    if "#" not in region:
        return tokens
    out: list[Token] = []
    at = 0
    for tok in [*tokens, (len(region), len(region), -1, 0)]:
        while (hash_at := region.find("#", at, tok[0])) >= 0:
            end = _line_end(region, hash_at, tok[0])
            out.append((hash_at, end, COMMENT, 0))
            at = end
        if tok[2] >= 0:
            out.append(tok)
            at = max(at, tok[1])
    return out


def _line_end(text: str, i: int, limit: int) -> int:
    """Where the line of ``i`` ends (its break), at most ``limit``."""
    j = text.find("\n", i, limit)
    j = limit if j < 0 else j
    cr = text.find("\r", i, j)
    return j if cr < 0 else cr


# -- per document, kept between edits ----------------------------------------------------------


@dataclass(slots=True)
class Encoded:
    """A chunk's tokens as the client takes them: ``data`` in the relative form of LSP
    (five numbers a token), its first ``delta line`` counted from the chunk's first line;
    ``first``/``last``: the lines of its first and last token (relative to the chunk)."""

    data: Sequence[int]  # the language server's encoder: an array of C ints (docs/performance.md)
    first: int = 0
    last: int = 0


#: encodes one chunk's tokens: (region, tokens) -> Encoded (the language server's units)
Encoder = Callable[[str, list[Token]], Encoded]
#: one chunk's part of a result: the delta line of its first token, its encoding, the chunk
Segment = tuple[int, Encoded, Chunk]


@dataclass(slots=True, eq=False)
class Tokens:
    """A document's tokens, kept current edit by edit: one segment per chunk with
    tokens (``count[i]``: the segments of the chunks before chunk ``i``), and the result
    sent last (for a delta).

    After an edit, the chunks the previous state and the current text start and end with
    (the same objects: the incremental scan keeps them, and their text with them) keep
    their segments; only the chunks between are encoded again, and the first segment
    after them gets its delta line again. The chunks after the edit up to the next
    header are between too: their table (hence their `unknown` keys) may have changed."""

    encode: Encoder
    _chunks: list[Chunk] = field(default_factory=list)
    _segments: list[Segment] = field(default_factory=list)
    _count: list[int] = field(default_factory=lambda: [0])
    last: list[Segment] | None = None
    last_id: str | None = None

    def segments(self, a: Analysis, index: LineIndex, start: int = 0, end: int | None = None) -> list[Segment]:
        """The document's segments; with ``end``, those of the chunks that hold
        [start, end] (the first one's delta line counted from line 0)."""
        self._update(a, index)
        if end is None:
            return self._segments
        chunks, starts = self._chunks, index.starts
        i = max(0, bisect_right(chunks, start, key=_chunk_start) - 1)
        j = bisect_right(chunks, end, key=_chunk_start)
        found = self._segments[self._count[i] : self._count[j]]
        if found:
            _, enc, c = found[0]
            found[0] = (_line_of(starts, c.start) + enc.first, enc, c)
        return found

    def _update(self, a: Analysis, index: LineIndex) -> None:
        chunks = a.chunks
        old, segs, count = self._chunks, self._segments, self._count
        n_old, n = len(old), len(chunks)
        limit = min(n_old, n)
        p = 0
        while p < limit and old[p] is chunks[p]:
            p += 1
        s = 0
        while s < limit - p and old[n_old - 1 - s] is chunks[n - 1 - s]:
            s += 1
        while s and not _opens_table(chunks[n - s]):
            s -= 1  # under a header the edit may have changed
        if p == n and s == 0 and n == n_old:
            return  # nothing changed
        starts, text = index.starts, a.text
        a_seg, b_seg = count[p], count[n_old - s]
        line = 0  # of the last token so far
        if a_seg:
            _, enc, c = segs[a_seg - 1]
            line = _line_of(starts, c.start) + enc.last
        gov: Header | None = None
        for k in range(p - 1, -1, -1):
            if _opens_table(chunks[k]):
                gov = cast(Header, chunks[k].items[0])
                break
        middle: list[Segment] = []
        counts: list[int] = []
        for k in range(p, n - s):
            c = chunks[k]
            own = c.items[0] if c.items and type(c.items[0]) is Header else None
            if own is not None:
                gov = own
            c.rebase()
            region = text[c.start : chunks[k + 1].start if k + 1 < n else len(text)]
            enc = self.encode(region, chunk_tokens(c, region, None if own is not None else gov))
            if enc.data:
                chunk_line = _line_of(starts, c.start)
                middle.append((chunk_line + enc.first - line, enc, c))
                line = chunk_line + enc.last
            counts.append(a_seg + len(middle))
        after = segs[b_seg:]
        if after:
            _, enc, c = after[0]
            after[0] = (_line_of(starts, c.start) + enc.first - line, enc, c)
        shift = a_seg + len(middle) - b_seg
        tail = count[n_old - s + 1 :]
        self._segments = segs[:a_seg] + middle + after
        self._count = count[: p + 1] + counts + ([x + shift for x in tail] if shift else tail)
        self._chunks = list(chunks)

    def full(self, a: Analysis, index: LineIndex, result_id: str) -> list[int]:
        return flatten(self._sent(a, index, result_id))

    def full_json(self, a: Analysis, index: LineIndex, result_id: str) -> list[bytes]:
        """``full`` as JSON text, a piece per segment (``json_pieces``)."""
        return json_pieces(self._sent(a, index, result_id))

    def _sent(self, a: Analysis, index: LineIndex, result_id: str) -> list[Segment]:
        """The segments of a whole answer, remembered as the last one sent (``delta``)."""
        segments = self.segments(a, index)
        self.last, self.last_id = segments, result_id
        return segments

    def delta(self, a: Analysis, index: LineIndex, previous: str, result_id: str) -> tuple[int, int, list[int]] | None:
        """The edit (start, delete count, data) from the result ``previous`` to the
        current one; None when ``previous`` is not the one sent last (send it all)."""
        if self.last is None or previous != self.last_id:
            return None
        old = self.last
        new = self.segments(a, index)
        self.last, self.last_id = new, result_id
        return delta(old, new)


def _line_of(starts: list[int], offset: int) -> int:
    return bisect_right(starts, offset) - 1


def _chunk_start(c: Chunk) -> int:
    return c.start


def _opens_table(c: Chunk) -> bool:
    return bool(c.items) and type(c.items[0]) is Header


def flatten(segments: list[Segment]) -> list[int]:
    out: list[int] = []
    for first, enc, _ in segments:
        at = len(out)
        out.extend(enc.data)
        out[at] = first
    return out


def json_pieces(segments: list[Segment]) -> list[bytes]:
    """The numbers of ``flatten(segments)`` as JSON text (without the brackets), a piece
    per segment, to be joined with commas: a long file's answer is written without a
    list of all its numbers, nor that list serialized again (docs/performance.md)."""
    out: list[bytes] = []
    append = out.append
    for first, enc, _ in segments:
        data = enc.data
        append((f"{first}," + ",".join(map(str, data[1:]))).encode())
    return out


def delta(old: list[Segment], new: list[Segment]) -> tuple[int, int, list[int]]:
    """The one edit that turns the numbers of ``old`` into those of ``new``: the
    segments both start with and end with stay, and of the ones between, the numbers
    that differ are replaced."""
    p = 0
    limit = min(len(old), len(new))
    while p < limit and (old[p] is new[p] or _same(old[p], new[p])):
        p += 1
    s = 0
    while s < limit - p and (old[-1 - s] is new[-1 - s] or _same(old[-1 - s], new[-1 - s])):
        s += 1
    start = sum(len(seg[1].data) for seg in old[:p])
    removed, added = flatten(old[p : len(old) - s]), flatten(new[p : len(new) - s])
    # then the numbers both middles start and end with (a token's length, say, is one)
    i, limit = 0, min(len(removed), len(added))
    while i < limit and removed[i] == added[i]:
        i += 1
    j = 0
    while j < limit - i and removed[-1 - j] == added[-1 - j]:
        j += 1
    return start + i, len(removed) - i - j, added[i : len(added) - j]


def _same(a: Segment, b: Segment) -> bool:
    return a[0] == b[0] and (a[1] is b[1] or a[1].data == b[1].data)
