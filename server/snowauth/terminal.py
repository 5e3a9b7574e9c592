"""Text from a connection file (or from a server) made safe to show on a terminal or in
a one-line message.

A connection file is untrusted input. A connection name, a key, an instance value or
an error description may carry control characters: ESC sequences that move the cursor
or rewrite a line (a `[y/N]` question can be made to name another host), OSC 52 (which
writes the user's clipboard), BEL, backspaces, C1 controls (U+0080–U+009F, which some
terminals read as ESC sequences), and bidirectional overrides that display text in
another order than it is read. A file name that is not valid UTF-8 reaches Python as
lone surrogates (U+DC80–U+DCFF), which are written back as the raw bytes, C1 included.
Everything printed from such text goes through :func:`printable`, which shows each such
character as a visible escape (`\\x1b`, `\\u202e`, `\\udc9b`) instead.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide
# text: bidirectional embeddings/overrides/isolates and marks, zero-width characters, the
# line and paragraph separators, the BOM used as a zero-width no-break space; and lone
# surrogates (undecodable bytes of a file name, which would be written back raw).
UNSAFE_CHARACTERS = "\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff"
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
_UNSAFE_KEEP_LINES = re.compile(f"(?![\n\t])[{UNSAFE_CHARACTERS}]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control and reordering character shown as a visible escape.

    ``keep_lines`` leaves line feeds and tabs alone (for multi-line output whose lines
    are ours, with untrusted text inside them already made printable)."""
    return (_UNSAFE_KEEP_LINES if keep_lines else _UNSAFE).sub(_escape, text)


def has_unsafe(text: str) -> bool:
    """True when :func:`printable` would change ``text``."""
    return _UNSAFE.search(text) is not None


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def json_printable(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with every character
    :func:`printable` would escape written as a JSON ``\\uXXXX`` escape instead: the same
    JSON value, safe to print. Line feeds and tabs are left alone (outside strings they
    are the indentation; inside strings json.dumps has already escaped them)."""
    return _UNSAFE_KEEP_LINES.sub(_json_escape, dumped)
