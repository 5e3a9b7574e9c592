"""Open documents: their text (ours, not pygls'), version and cached analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lsprotocol import types as t
from pygls.uris import to_fs_path

from snowauth.analysis import Analysis, analyze
from snowauth.findings import Finding
from snowauth.incremental import Incremental
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
    """An open document (or, with no version, a file read from disk once).

    Edits are applied to the text and its line index where they happen; an open
    document's analysis is kept up to date by an ``Incremental`` that is shown each edit
    (``analysis()`` catches up), so that typing in a long file costs little."""

    uri: str
    text: str
    version: int | None
    path: Path | None = None
    extra: list[Finding] = field(default_factory=list)  # e.g. the last failed fetch
    git: str = "safe"  # gitstate.git_state of the file, refreshed on open, save and token writes
    exports_git: dict[Path, str] = field(default_factory=dict)  # the same for each export target
    analysed_at: datetime | None = None
    _analysis: Analysis | None = None
    _converter: Converter | None = None
    _index: LineIndex | None = None
    _engine: Incremental | None = None
    _edits: list[tuple[str, int, int, int]] = field(default_factory=list)  # not yet shown to _engine
    cache: dict[object, object] = field(default_factory=dict)  # answers computed for this version
    kept: dict[object, object] = field(default_factory=dict)  # answers' pieces kept across edits (lsp/kept.py)

    def __post_init__(self) -> None:
        self.path = uri_path(self.uri)

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path else None

    @property
    def index(self) -> LineIndex:
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index

    def set_text(self, text: str, version: int | None) -> None:
        self.text = text
        self.version = version
        self.cache.clear()
        self.kept.clear()
        self._analysis = None
        self._converter = None
        self._index = None
        self._engine = None
        self._edits.clear()

    def converter(self, encoding: str) -> Converter:
        if self._converter is None or self._converter.encoding != encoding:
            self._converter = Converter(self.index, encoding)
        return self._converter

    @property
    def last_analysis(self) -> Analysis | None:
        """The analysis made last, if still current (none is made here)."""
        return self._analysis

    def invalidate(self) -> None:
        """Analyse again on next use (time passed: a token may have expired)."""
        self._analysis = None
        self.cache.clear()

    def environment_changed(self) -> None:
        """A file the document reads (.env, `${file:}`, key files) changed: analyse again."""
        self.invalidate()
        if self._engine is not None:
            self._engine.environment_changed()

    def apply(self, changes: list[t.TextDocumentContentChangeEvent], version: int, encoding: str) -> None:
        text, index = self.text, self.index
        for change in changes:
            if isinstance(change, t.TextDocumentContentChangePartial):
                conv = Converter(index, encoding)
                start = conv.offset(change.range.start)
                end = max(start, conv.offset(change.range.end))
                text = text[:start] + change.text + text[end:]
                index = index.edited(text, start, end, len(change.text))
                if self._engine is not None:
                    self._edits.append((text, start, end, len(change.text)))
            else:
                self.set_text(change.text, version)
                text, index = self.text, self.index
        self.text, self.version = text, version
        self._index = index
        self._analysis = None
        self._converter = None
        self.cache.clear()
        self.extra = []

    def analysis(self, env: dict[str, str], now: datetime | None = None) -> Analysis:
        if self._analysis is None:
            self.analysed_at = now or datetime.now(UTC)
            environment = Environment(env, self.folder)
            if self.version is None:  # read from disk for one command: analyse it once
                self._analysis = analyze(self.text, environment, self.analysed_at, index=self.index)
                return self._analysis
            if self._engine is None:
                self._engine = Incremental(self.text)
                self._edits.clear()
            for edit in self._edits:
                self._engine.edit(*edit)
            self._edits.clear()
            self._analysis = self._engine.analysis(environment, self.analysed_at, self.index)
        return self._analysis
