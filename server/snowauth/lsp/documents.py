"""Open documents: their text (ours, not pygls'), version and cached analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lsprotocol import types as t
from pygls.uris import to_fs_path

from snowauth.analysis import Analysis, Finding, analyze
from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex
from snowauth.secrets import Environment


def uri_path(uri: str) -> Path | None:
    try:
        path = to_fs_path(uri)
    except Exception:
        return None
    return Path(path) if path else None


@dataclass
class Document:
    uri: str
    text: str
    version: int | None
    path: Path | None = None
    extra: list[Finding] = field(default_factory=list)  # e.g. the last failed fetch
    git: str = "safe"  # gitstate.git_state of the file, refreshed on open, save and token writes
    analysed_at: datetime | None = None
    _analysis: Analysis | None = None
    _converter: Converter | None = None

    def __post_init__(self) -> None:
        self.path = uri_path(self.uri)

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path else None

    def set_text(self, text: str, version: int | None) -> None:
        self.text = text
        self.version = version
        self._analysis = None
        self._converter = None

    def converter(self, encoding: str) -> Converter:
        if self._converter is None or self._converter.encoding != encoding:
            index = self._analysis.index if self._analysis is not None else LineIndex(self.text)
            self._converter = Converter(index, encoding)
        return self._converter

    def invalidate(self) -> None:
        """Analyse again on next use (time passed: a token may have expired)."""
        self._analysis = None

    def apply(self, changes: list[t.TextDocumentContentChangeEvent], version: int, encoding: str) -> None:
        text = self.text
        for change in changes:
            if isinstance(change, t.TextDocumentContentChangePartial):
                conv = Converter(LineIndex(text), encoding)
                start = conv.offset(change.range.start)
                end = max(start, conv.offset(change.range.end))
                text = text[:start] + change.text + text[end:]
            else:
                text = change.text
        self.set_text(text, version)
        self.extra = []

    def analysis(self, env: dict[str, str], now: datetime | None = None) -> Analysis:
        if self._analysis is None:
            self.analysed_at = now or datetime.now(UTC)
            self._analysis = analyze(self.text, Environment(env, self.folder), self.analysed_at)
            if self._converter is not None:
                self._converter = Converter(self._analysis.index, self._converter.encoding)
        return self._analysis
