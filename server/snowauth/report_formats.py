"""`snowauth check`'s reports for CI: SARIF 2.1.0 (code scanning) and GitHub workflow
commands (annotations). Both take `check.py`'s rows; their columns count UTF-16 code
units, as SARIF's default column kind and GitHub's web pages do (docs/decisions.md,
"Reports for code scanning"). Messages are the findings' own, which never quote a secret
(SECURITY.md); every character a terminal could act on is escaped."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from snowauth import __version__
from snowauth.check import plain_text
from snowauth.codes import CODES, Code, code_info
from snowauth.findings import SEVERITY_NAMES
from snowauth.positions import LineIndex
from snowauth.terminal import json_printable, printable

PROJECT_URL = "https://github.com/snowauth/snowauth"
REFERENCE_URL = f"{PROJECT_URL}/blob/main/docs/reference.md"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
COLUMN_KIND = "utf16CodeUnits"

#: check.py's severity names → SARIF levels and GitHub commands
SARIF_LEVELS = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}
GITHUB_COMMANDS = {"error": "error", "warning": "warning", "information": "notice", "hint": "notice"}


class Checked:
    """The rows of one run and, per file, the index of its text (to count columns in
    UTF-16 code units)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.indexes: dict[str, LineIndex] = {}

    def add(self, rows: list[dict[str, Any]], index: LineIndex | None) -> None:
        self.rows.extend(rows)
        if index is not None and rows:
            self.indexes[rows[0]["path"]] = index

    def utf16(self, row: dict[str, Any]) -> tuple[int, int]:
        """The row's start and end columns (1-based) in UTF-16 code units."""
        index = self.indexes.get(row["path"])
        if index is None:
            return row["column"], row["end_column"]
        return _utf16(index, row["line"], row["column"]), _utf16(index, row["end_line"], row["end_column"])


def _utf16(index: LineIndex, line: int, column: int) -> int:
    if line - 1 >= len(index.starts):
        return column
    start = index.starts[line - 1]
    before = index.text[start : start + column - 1]
    return len(before.encode("utf-16-le", "surrogatepass")) // 2 + 1


def _message(code: Code) -> str:
    return plain_text(code.text)


def rule_name(code: str) -> str:
    """SARIF's `name` of a rule: its id in PascalCase (`unknown-key` → `UnknownKey`)."""
    return "".join(part[:1].upper() + part[1:] for part in code.split("-"))


def sarif_rule(code: Code) -> dict[str, Any]:
    return {
        "id": code.id,
        "name": rule_name(code.id),
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": _message(code), "markdown": code.text},
        "help": {"text": _message(code), "markdown": code.text},
        "helpUri": f"{REFERENCE_URL}#{code.id}",
        "defaultConfiguration": {"level": SARIF_LEVELS[SEVERITY_NAMES[code.severity]]},
    }


def _absolute(path: str, root: Path) -> Path:
    """``path`` made absolute against ``root``, `..` removed (symbolic links are not
    followed: the report names the file as it was given)."""
    return Path(os.path.normpath(root / path))


def artifact_uri(path: str, root: Path) -> tuple[str, str | None]:
    """A file's URI for SARIF: relative to ``root`` (with the base id `%SRCROOT%`) when it
    is inside it, else an absolute `file:` URI."""
    full = _absolute(path, root)
    try:
        relative = PurePath(full).relative_to(root)
    except ValueError:
        return full.as_uri(), None
    return quote(relative.as_posix(), safe="/"), SRCROOT


def sarif(checked: Checked, root: Path, *, found_files: bool = True) -> str:
    """The SARIF 2.1.0 log of one run: every known code as a rule, one result per row."""
    rules = [sarif_rule(c) for c in CODES]
    index = {c.id: i for i, c in enumerate(CODES)}
    results = []
    uris: dict[str, tuple[str, str | None]] = {}
    for row in checked.rows:
        code = row["code"]
        if code not in index:  # never expected (tests read every code): still a valid log
            index[code] = len(rules)
            rules.append(sarif_rule(code_info(code)))
        if row["path"] not in uris:
            uris[row["path"]] = artifact_uri(row["path"], root)
        uri, base = uris[row["path"]]
        location: dict[str, Any] = {"uri": uri}
        if base is not None:
            location["uriBaseId"] = base
        col, end_col = checked.utf16(row)
        results.append(
            {
                "ruleId": code,
                "ruleIndex": index[code],
                "level": SARIF_LEVELS[row["severity"]],
                "message": {"text": plain_text(row["message"]), "markdown": row["message"]},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": {
                                "startLine": row["line"],
                                "startColumn": col,
                                "endLine": row["end_line"],
                                "endColumn": end_col,
                            },
                        }
                    }
                ],
            }
        )
    invocation: dict[str, Any] = {"executionSuccessful": found_files}
    if not found_files:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": "no *.snowauth.toml file found"}}
        ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "snowauth",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": PROJECT_URL,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
                "columnKind": COLUMN_KIND,
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    # no indent: json's C encoder (an indented dump of 3,000 results takes seconds)
    return json_printable(json.dumps(log, ensure_ascii=False)) + "\n"


# GitHub's workflow commands: `%`, CR and LF are escaped in a command's message, and `:`
# and `,` too in its properties (docs/decisions.md, "Reports for code scanning")
_DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY = {**_DATA, ":": "%3A", ",": "%2C"}
_DATA_RE = re.compile("[%\r\n]")
_PROPERTY_RE = re.compile("[%\r\n:,]")


def escape_data(text: str) -> str:
    return _DATA_RE.sub(lambda m: _DATA[m.group()], text)


def escape_property(text: str) -> str:
    return _PROPERTY_RE.sub(lambda m: _PROPERTY[m.group()], text)


def github(checked: Checked, root: Path) -> Iterable[str]:
    """One workflow command per row: `::error file=…,line=…,col=…,endLine=…,endColumn=…,
    title=snowauth CODE::MESSAGE` (warning and notice for the other severities)."""
    names: dict[str, str] = {}
    for row in checked.rows:
        if row["path"] not in names:
            full = _absolute(row["path"], root)
            try:
                names[row["path"]] = PurePath(full).relative_to(root).as_posix()
            except ValueError:
                names[row["path"]] = full.as_posix()
        name = names[row["path"]]
        col, end_col = checked.utf16(row)
        props = ",".join(
            f"{k}={escape_property(printable(str(v)))}"
            for k, v in (
                ("file", name),
                ("line", row["line"]),
                ("col", col),
                ("endLine", row["end_line"]),
                ("endColumn", end_col),
                ("title", f"snowauth {row['code']}"),
            )
        )
        message = escape_data(printable(plain_text(row["message"]), keep_lines=True))
        yield f"::{GITHUB_COMMANDS[row['severity']]} {props}::{message}\n"
