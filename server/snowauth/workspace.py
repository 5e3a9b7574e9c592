"""The connection files of a workspace: finding them (confined and bounded), reading and
analysing the ones no editor holds open (cached by modification time and size), and the
findings that need more than one file (a connection name or a `default` in several
files). Shared by the language server (workspace diagnostics, workspace symbols) and
`snowauth check` given several files. The bounds and the rules: docs/decisions.md,
"Workspace-wide diagnostics"; why links are not followed: SECURITY.md."""

from __future__ import annotations

import os
import stat
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from snowauth.analysis import Analysis, analyze
from snowauth.files import SUFFIX, read_text
from snowauth.findings import HINT, WARNING, Finding
from snowauth.positions import LineIndex
from snowauth.secrets import Environment, outside_roots

#: folders never entered: version control, dependencies, virtual environments, caches and
#: build output (hidden folders are skipped too, as `snowauth check DIR` does)
SKIPPED_FOLDERS = frozenset(
    {"node_modules", "venv", "env", "__pycache__", "site-packages", "dist", "build", "target", "out", "vendor"}
)
MAX_DEPTH = 12
"""Folders below a workspace folder that are looked into."""
MAX_ENTRIES = 200_000
"""Directory entries looked at in one walk of all workspace folders."""
MAX_FILES = 2_000
"""Connection files kept: the rest of a huge workspace is not checked until opened."""
MAX_RELATED = 3
"""Other files a cross-file finding points to (its message counts the rest)."""

DUPLICATE_ACROSS_FILES = "duplicate-connection-across-files"
DEFAULT_ACROSS_FILES = "default-across-files"


@dataclass(slots=True)
class Walk:
    """The connection files found, and why the walk stopped early (None: it did not)."""

    files: list[Path]
    stopped: str | None = None


def walk(roots: Iterable[Path]) -> Walk:
    """Every ``*.snowauth.toml`` below ``roots``, bounded by MAX_DEPTH, MAX_ENTRIES and
    MAX_FILES. Linked folders are never entered (a link to `/` or to a parent would
    take the walk anywhere); a linked connection file counts only when it leads to a
    file inside a workspace folder (outside_roots, as `${file:}` is confined)."""
    roots = [Path(os.path.normpath(r)) for r in roots]
    found: list[Path] = []
    seen: set[Path] = set()
    entries = 0
    for root in roots:
        stack: list[tuple[Path, int]] = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                with os.scandir(folder) as it:
                    # read no further than the cap: a folder of millions of entries is not listed in full
                    listing = sorted(islice(it, MAX_ENTRIES - entries + 1), key=lambda e: e.name)
            except OSError:
                continue
            entries += len(listing)
            if entries > MAX_ENTRIES:
                return Walk(found, f"more than {MAX_ENTRIES:,} files and folders")
            subfolders = []
            for entry in listing:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not entry.name.startswith(".") and entry.name not in SKIPPED_FOLDERS:
                            subfolders.append(Path(entry.path))
                        continue
                    if not entry.name.endswith(SUFFIX):
                        continue
                    path = Path(entry.path)
                    if entry.is_symlink() and outside_roots(path, tuple(roots)):
                        continue  # a link out of the workspace: not ours to read
                    if not stat.S_ISREG(entry.stat(follow_symlinks=True).st_mode):
                        continue
                except OSError:
                    continue
                if path not in seen:
                    seen.add(path)
                    found.append(path)
                    if len(found) >= MAX_FILES:
                        return Walk(found, f"more than {MAX_FILES:,} connection files")
            if depth < MAX_DEPTH:
                stack.extend((p, depth + 1) for p in reversed(subfolders))
    return Walk(found)


# -- what one file says that matters to the others ----------------------------------------


@dataclass(slots=True)
class Facts:
    """A file's connection names (in file order; their header spans asked for when a name
    is in another file too) and its `default` (the span of the `default = …` statement
    and the name it gives), in code points of its text. Cheap for an open document that
    is edited: the names and the `default` are the incremental analysis' quick questions."""

    path: Path
    analysis: Analysis
    names: tuple[str, ...] = ()
    default: tuple[int, int, str] | None = None
    _headers: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def index(self) -> LineIndex:
        return self.analysis.index

    def header(self, name: str) -> tuple[int, int]:
        """The span of connection ``name``'s header (or first introducer)."""
        found = self._headers.get(name)
        if found is None:
            c = self.analysis.connection(name)
            found = self._headers[name] = (c.header[0], c.header[1]) if c is not None else (0, 0)
        return found


def facts(path: Path, a: Analysis) -> Facts:
    d = a.default
    default = None
    if d is not None:
        key, value = d
        default = (key.start, value.end, str(value.data) if value.kind == "string" else "")
    return Facts(path, a, tuple(a.connection_names()), default)


@dataclass(slots=True)
class CrossFinding:
    """A finding of one file (``finding``, its span in that file) that points to spans of
    other files (``elsewhere``: path, start, end, message)."""

    finding: Finding
    elsewhere: list[tuple[Path, int, int, str]]


def cross_file(files: Iterable[Facts], label: Callable[[Path], str]) -> dict[Path, list[CrossFinding]]:
    """The cross-file findings of each file: a connection name defined in more than one
    file (Warning), a `default` in more than one file (Information). ``label`` names a
    file in a message (its path relative to the workspace). Each points to at most
    MAX_RELATED other files; the work is linear in the names and files involved."""
    listed = sorted(files, key=lambda f: str(f.path))
    by_name: dict[str, list[Facts]] = {}
    defaults: list[Facts] = []
    for f in listed:
        for name in f.names:
            by_name.setdefault(name, []).append(f)
        if f.default is not None:
            defaults.append(f)
    labels: dict[Path, str] = {}

    def where(others: list[Facts], count: int, offset: int) -> str:
        first = others[0]
        if first.path not in labels:
            labels[first.path] = label(first.path)
        line = first.index.position(offset)[0] + 1
        more = f" and {count - 1} more" if count > 1 else ""
        return f"`{labels[first.path]}` (line {line}){more}"

    out: dict[Path, list[CrossFinding]] = {}
    for name, holders in by_name.items():
        if len(holders) < 2:
            continue
        for f in holders:
            others = _others(holders, f)
            start, end = f.header(name)
            message = (
                f"Connection `{name}` is also defined in {where(others, len(holders) - 1, others[0].header(name)[0])}: "
                f"a task or command that names only `{name}` (`snowauth.accessToken`) takes the first file by "
                "path, and the connection picker lists both under one name; rename one of them"
            )
            related = [(o.path, *o.header(name), f"`{name}` is also defined here") for o in others]
            out.setdefault(f.path, []).append(
                CrossFinding(Finding(start, end, WARNING, DUPLICATE_ACROSS_FILES, message, connection=name), related)
            )
    if len(defaults) > 1:
        for f in defaults:
            assert f.default is not None
            others = _others(defaults, f)
            spans = [(o, o.default) for o in others if o.default is not None]
            message = (
                "Another file of the workspace declares a `default` too "
                f"({where(others, len(defaults) - 1, spans[0][1][0])}): each file's `default` applies to that "
                "file only, and the connection picker marks more than one connection as the default"
            )
            related = [(o.path, d[0], d[1], "another `default`") for o, d in spans]
            out.setdefault(f.path, []).append(
                CrossFinding(Finding(f.default[0], f.default[1], HINT, DEFAULT_ACROSS_FILES, message), related)
            )
    for found in out.values():
        found.sort(key=lambda c: (c.finding.start, c.finding.code))
    return out


def _others(holders: list[Facts], f: Facts) -> list[Facts]:
    """The first MAX_RELATED of ``holders`` that are not ``f``."""
    out = []
    for o in holders:
        if o is not f:
            out.append(o)
            if len(out) == MAX_RELATED:
                break
    return out


# -- the files no editor holds open ------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """A connection file read from disk and analysed; ``stamp`` changes with its analysis."""

    path: Path
    mtime_ns: int
    size: int
    text: str
    problem: str | None  # not clean UTF-8
    analysis: Analysis
    facts: Facts
    stamp: int
    analysed_at: datetime
    #: when a stored token's expiry turns a finding over (access or refresh token), sorted
    expiries: tuple[datetime, ...]


def expiries(a: Analysis) -> tuple[datetime, ...]:
    """The expiries of the stored tokens ``a`` holds (access and refresh), sorted: the
    moments at which its findings change without an edit."""
    found = [e for c in a.connections.values() for e in (c.token_expiry, c.refresh_expiry) if e is not None]
    return tuple(sorted(found))


class Index:
    """The connection files of a set of workspace folders: the walk's result (walked
    again when asked to, or when ``stale_after`` seconds passed for a client that reports
    no file changes) and each file's analysis, cached by (mtime, size). Thread-safe: the
    language server refreshes it off its event loop."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.roots: tuple[Path, ...] = ()
        self.stopped: str | None = None
        self._files: list[Path] | None = None
        self._entries: dict[Path, Entry] = {}
        self._stamp = 0
        self._lock = threading.Lock()

    def set_roots(self, roots: Iterable[Path]) -> None:
        roots = tuple(Path(os.path.normpath(r)) for r in roots)
        with self._lock:
            if roots != self.roots:
                self.roots, self._files = roots, None

    def files(self) -> list[Path]:
        """The connection files found (walking when needed)."""
        with self._lock:
            if self._files is None:
                w = walk(self.roots)
                self._files, self.stopped = w.files, w.stopped
                self._entries = {p: e for p, e in self._entries.items() if p in set(w.files)}
            return list(self._files)

    def known(self) -> list[Path]:
        """The connection files found by the last walk (none before the first)."""
        with self._lock:
            return list(self._files or [])

    def rewalk(self) -> None:
        """A connection file was created or deleted: walk again at the next look."""
        with self._lock:
            self._files = None

    def forget_below(self, changed: Path) -> None:
        """A file that connection files read changed (`.env`, a `${file:}` target, a key):
        analyse again every file whose folder holds it (below or beside)."""
        with self._lock:
            for p in [p for p in self._entries if changed.is_relative_to(p.parent)]:
                del self._entries[p]

    def entry(self, path: Path, now: datetime | None = None) -> Entry | None:
        """The file's analysis: cached while its modification time and size stay the same;
        None when it is gone or is refused (not a regular file, too large)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        with self._lock:
            e = self._entries.get(path)
            if e is not None and (e.mtime_ns, e.size) == (st.st_mtime_ns, st.st_size):
                return e
        try:
            text, problem = read_text(path)
        except OSError:
            return None
        at = now or datetime.now(UTC)
        a = analyze(text, Environment(self.env, path.parent), at)
        with self._lock:
            self._stamp += 1
            e = Entry(path, st.st_mtime_ns, st.st_size, text, problem, a, facts(path, a), self._stamp, at, expiries(a))
            self._entries[path] = e
        return e

    def expired(self, now: datetime) -> list[Path]:
        """The files a token expiry turned over since their analysis (a token that was
        valid then has expired by ``now``): forgotten, so that the next look analyses them
        again."""
        with self._lock:
            turned = [p for p, e in self._entries.items() if any(e.analysed_at < x <= now for x in e.expiries)]
            for p in turned:
                del self._entries[p]
        return turned

    def next_expiry(self, after: datetime) -> datetime | None:
        """The first token expiry after ``after`` among the files analysed."""
        with self._lock:
            firsts = ((e.expiries, bisect_right(e.expiries, after)) for e in self._entries.values())
            later = [turns[i] for turns, i in firsts if i < len(turns)]
        return min(later, default=None)

    def cached(self, path: Path) -> Entry | None:
        """The file's last analysis, without looking at the disk."""
        with self._lock:
            return self._entries.get(path)

    def label(self, path: Path) -> str:
        """``path`` relative to the workspace folder that holds it (as `/`-separated text)."""
        for root in self.roots:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return path.as_posix()


def matches(query: str, name: str) -> bool:
    """Whether ``query``'s characters appear in ``name`` in order, ignoring case (how
    editors filter workspace symbols)."""
    it = iter(name.casefold())
    return all(ch in it for ch in query.casefold())
