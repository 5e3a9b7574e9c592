"""What the checks report: findings, their severities and tags, and their quick fixes as
plain text edits (no LSP types; ``lsp/convert.py`` turns them into diagnostics and code
actions). The codes are listed in docs/decisions.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ERROR, WARNING, INFORMATION, HINT = 1, 2, 3, 4
SEVERITY_NAMES = {ERROR: "error", WARNING: "warning", INFORMATION: "information", HINT: "hint"}
TAG_UNNECESSARY = 1
#: what a quick fix or a lens runs on its connection (the language server maps each to
#: its command id in ``lsp/ext.py``)
TokenAction = Literal["fetch", "refresh", "revoke", "test", "insert", "register", "diagnose"]


@dataclass(slots=True)
class Edit:
    """Replace ``[start, end)`` of the document with ``text``."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class FileAppend:
    """Append ``text`` to a file beside the document (created when missing)."""

    name: str
    text: str


@dataclass(slots=True)
class Fix:
    """A quick fix: its title, its edits and appends, or a token action on ``connection``."""

    title: str
    edits: list[Edit] = field(default_factory=list)
    appends: list[FileAppend] = field(default_factory=list)
    action: TokenAction | None = None  # a token action run on ``connection``
    connection: str | None = None
    preferred: bool = False


@dataclass(slots=True)
class Finding:
    """A diagnostic: its span, severity, code and message, related places, quick fixes and tags."""

    start: int
    end: int
    severity: int
    code: str
    message: str
    related: list[tuple[int, int, str]] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    tags: tuple[int, ...] = ()
    connection: str | None = None
    #: who reports it, when not the file's checks (e.g. "snowauth doctor")
    source: str | None = None
