"""`snowauth check`: the editor's diagnostics, printed for people or machines."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from snowauth.analysis import analyze
from snowauth.collector import gc_paused
from snowauth.files import find_files, read_text
from snowauth.findings import ERROR, SEVERITY_NAMES
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from snowauth.terminal import json_printable, printable

if TYPE_CHECKING:
    from snowauth.analysis import Analysis
    from snowauth.report_formats import Checked
    from snowauth.workspace import Facts


def check_file(path: Path, now: datetime | None = None) -> list[dict[str, Any]]:
    """The findings of one file as rows (1-based lines, columns in characters)."""
    return checked_file(path, now)[0]


def checked_file(
    path: Path, now: datetime | None = None
) -> tuple[list[dict[str, Any]], LineIndex | None, Analysis | None]:
    """The findings of one file as rows, the index of the text they were found in (the
    reports for other tools count columns in UTF-16 code units: `report_formats.py`) and
    its analysis, for what matters to the other files checked (None, None when the file
    could not be read)."""
    try:
        text, problem = read_text(path)
    except OSError as exc:
        return (
            [
                _row(
                    path,
                    1,
                    1,
                    1,
                    1,
                    ERROR,
                    "unreadable",
                    f"Cannot read the file: {exc.strerror or exc}",
                )
            ],
            None,
            None,
        )
    from snowauth.gitstate import export_findings, git_state, token_findings

    # whether git would publish the file's tokens: git runs while the file is analysed
    early = _Background(git_state, path.resolve()) if "access_token" in text else None
    a = analyze(text, Environment.of_process(path.parent.resolve()), now or datetime.now(UTC))
    state = early.result() if early is not None else None
    rows = []
    if problem:
        rows.append(_row(path, 1, 1, 1, 1, ERROR, "encoding", problem))
    findings = a.findings
    if any(c.has_token for c in a.connections.values()):
        state = state if state is not None else git_state(path.resolve())
        findings = sorted([*findings, *token_findings(a, state)], key=lambda f: (f.start, f.end))
    if exporting := [c for c in a.connections.values() if c.export]:  # else nothing to confine
        from snowauth.exports import confined
        from snowauth.secrets import allowed_roots

        folder = path.parent.resolve()
        roots = allowed_roots(folder)
        exported = {t.path: git_state(t.path) for c in exporting for t in confined(c, folder, roots)}
        if exported:
            findings = sorted([*findings, *export_findings(a, exported, folder)], key=lambda f: (f.start, f.end))
    idx = a.index
    for f in findings:
        (l1, c1), (l2, c2) = idx.position(f.start), idx.position(f.end)
        rows.append(_row(path, l1 + 1, c1 + 1, l2 + 1, c2 + 1, f.severity, f.code, f.message))
    return rows, idx, a


class _Background:
    """``fn(arg)`` in a thread (git's processes wait there, not in the analysis); its
    result, or None when it failed."""

    def __init__(self, fn: Callable[[Path], str], arg: Path) -> None:
        import threading

        self._out: str | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, arg), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[Path], str], arg: Path) -> None:
        self._out = fn(arg)

    def result(self) -> str | None:
        self._thread.join()
        return self._out


def cross_file_rows(found: list[Facts]) -> dict[Path, list[dict[str, Any]]]:
    """The findings that need several files (workspace.cross_file), as rows per file."""
    from snowauth.workspace import cross_file

    out: dict[Path, list[dict[str, Any]]] = {}
    for path, crossed in cross_file(found, lambda p: str(p)).items():
        idx = next(f.index for f in found if f.path == path)
        for c in crossed:
            f = c.finding
            (l1, c1), (l2, c2) = idx.position(f.start), idx.position(f.end)
            out.setdefault(path, []).append(_row(path, l1 + 1, c1 + 1, l2 + 1, c2 + 1, f.severity, f.code, f.message))
    return out


def _row(
    path: Path, line: int, col: int, eline: int, ecol: int, severity: int, code: str, message: str
) -> dict[str, Any]:
    return {
        "path": str(path),
        "line": line,
        "column": col,
        "end_line": eline,
        "end_column": ecol,
        "severity": SEVERITY_NAMES[severity],
        "code": code,
        "message": message,
    }


# Messages are written for the editor, in markdown: `code` and *emphasis*. Text output
# shows them plain. A backtick goes where it opens or closes a span (next to a space, the
# start or end, or punctuation); one inside a word (a name such as we`ird) stays.
_CODE_FENCE = re.compile(r"`+(?=[\s.,;:!?)\]}'\"]|$)|(?:(?<=[\s(\[{'\"])|^)`+")
_EMPHASIS = re.compile(r"(?<![\w*`])(\*{1,2})(?=[^\s*])(.+?)(?<=[^\s*])\1(?![\w*`])")


def plain_text(message: str) -> str:
    """A diagnostic message without its markdown (for the terminal; JSON keeps it)."""
    return _CODE_FENCE.sub("", _EMPHASIS.sub(r"\2", message))


_NOUNS = {"error": "error", "warning": "warning", "information": "note", "hint": "hint"}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(rows: list[dict[str, Any]], files: int) -> str:
    """The last line of text output: "5 errors, 2 warnings in 2 of 3 files", or
    "3 files checked, no problems". It has no `path:line:col:` prefix, so a reader of
    the problem lines tells it apart."""
    if not rows:
        return f"{_count(files, 'file')} checked, no problems"
    counts = [_count(n, noun) for name, noun in _NOUNS.items() if (n := sum(r["severity"] == name for r in rows))]
    with_problems = len({r["path"] for r in rows})
    where = _count(files, "file") if with_problems == files else f"{with_problems} of {files} files"
    return f"{', '.join(counts)} in {where}"


def run_check(paths: list[str], fmt: str, out: IO[str], err: IO[str] | None = None, fail_on: Iterable[str] = ()) -> int:
    """Check, print, and return the exit status: 0 no error, 1 errors (or a finding whose
    code is in ``fail_on``), 2 no file found or an unknown code in ``fail_on``.
    ``fmt``: text, json, sarif or github (the last two: `report_formats.py`)."""
    with _collector_paused():
        return _run_check(paths, fmt, out, err, fail_on)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No pass of the cyclic garbage collector while files are checked, nor after: a long
    file's analysis is a million objects, none of them garbage, and the first pass once
    the collector is back (at the next allocation) would walk them all (~15-25 ms of a
    10,000-line check: docs/performance.md). They are moved to the oldest generation
    without a walk (``gc.freeze`` then ``gc.unfreeze``), where only a full pass sees
    them: `snowauth check` ends before one; a caller in a longer process still has them
    collected."""
    with gc_paused():
        try:
            yield
        finally:
            if gc.get_freeze_count() == 0:  # nobody else keeps objects frozen: unfreeze ours
                gc.freeze()
                gc.unfreeze()


def _run_check(paths: list[str], fmt: str, out: IO[str], err: IO[str] | None, fail_on: Iterable[str]) -> int:
    # the reports for other tools, and the list of codes, are imported only when asked for
    failing = set(fail_on)
    if failing:
        from snowauth.codes import BY_ID

        if unknown := sorted(failing - BY_ID.keys()):
            print(
                f"snowauth check: --fail-on: unknown code {', '.join(map(printable, unknown))}", file=err or sys.stderr
            )
            return 2
    checked: Checked | None = None  # the rows and each file's index, for those reports
    if fmt in ("sarif", "github"):
        from snowauth import report_formats as reports

        checked = reports.Checked()
    rows: list[dict[str, Any]] = []
    seen = 0
    missing = []
    per_file: list[tuple[Path, list[dict[str, Any]], LineIndex | None]] = []
    found: list[Facts] = []
    resolved: set[Path] = set()
    files = list(find_files(paths))
    several = len(files) > 1  # only then a file's names are compared with the others'
    for path in files:
        if not path.exists():
            missing.append(str(path))
            continue
        seen += 1
        file_rows, idx, analysis = checked_file(path)
        per_file.append((path, file_rows, idx))
        if several and analysis is not None and path.resolve() not in resolved:  # a file named twice is one file
            from snowauth.workspace import facts

            resolved.add(path.resolve())
            found.append(facts(path, analysis))
    # a connection name or a `default` in several of the files checked (docs/decisions.md)
    crossed = cross_file_rows(found) if len(found) > 1 else {}
    for path, file_rows, idx in per_file:
        if path in crossed:
            file_rows = sorted([*file_rows, *crossed.pop(path)], key=lambda r: (r["line"], r["column"]))
        if checked is not None:
            checked.add(file_rows, idx)
        else:
            rows.extend(file_rows)
    if checked is not None:
        rows = checked.rows
    for name in missing:
        rows.append(_row(Path(name), 1, 1, 1, 1, ERROR, "not-found", "No such file or folder"))
    root = Path.cwd()
    if seen == 0 and not missing:
        # a CI job pointed at the wrong folder must not pass
        if fmt == "json":
            out.write("[]\n")
        elif checked is not None and fmt == "sarif":
            out.write(reports.sarif(checked, root, found_files=False))
        where = ", ".join(printable(p) for p in paths)
        print(
            f"snowauth check: no *.snowauth.toml file in {where}: name the files to check, or a folder that holds them",
            file=err or sys.stderr,
        )
        return 2
    # file names, keys, values and names in messages come from untrusted files: nothing
    # of them may reach the terminal as a control or reordering character
    if fmt == "json":
        import json

        out.write(json_printable(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
    elif checked is not None and fmt == "sarif":
        out.write(reports.sarif(checked, root))
    elif checked is not None and fmt == "github":
        out.writelines(reports.github(checked, root))
    else:
        for r in rows:
            where, message = printable(r["path"]), printable(plain_text(r["message"]))
            out.write(f"{where}:{r['line']}:{r['column']}: {r['severity']}: {message} [{r['code']}]\n")
        out.write(summary(rows, seen + len(missing)) + "\n")
    return 1 if any(r["severity"] == "error" or r["code"] in failing for r in rows) else 0
