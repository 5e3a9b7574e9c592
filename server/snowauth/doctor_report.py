"""The doctor's report: the links of the chain with their titles, each check's outcome,
and the report rendered as markdown (Diagnose Connection's document), a terminal
checklist and JSON (`snowauth doctor`). The walk that fills it is ``doctor.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from snowauth.check import plain_text
from snowauth.hover import markdown_code as code
from snowauth.terminal import json_printable, printable

Status = Literal["pass", "fail", "skipped"]

#: the links of the chain, in order: (id, title)
CHAIN: tuple[tuple[str, str], ...] = (
    ("dns", "The host name resolves"),
    ("tls", "TLS verifies"),
    ("hibernating", "The instance is awake"),
    ("oauth_active", "OAuth is active on the instance"),
    ("client", "The client is registered and fits the grant"),
    ("grant_enabled", "The grant is enabled on the instance"),
    ("user", "The user can sign in"),
    ("token", "The instance issues a token"),
    ("syslog", "The instance's system log"),
)
TITLES = dict(CHAIN)


@dataclass
class Check:
    id: str
    status: Status
    message: str
    key: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def as_dict(self) -> dict[str, Any]:
        """The ``DiagnoseCheck`` shape of docs/reference.md's protocol (``lsp/ext.py``)."""
        out: dict[str, Any] = {"id": self.id, "title": self.title, "status": self.status, "message": self.message}
        if self.key is not None:
            out["key"] = self.key
        return out


@dataclass
class Report:
    """The checks run, in chain order (stopping at the first failure)."""

    connection: str
    instance: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if c.status == "fail"), None)

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if c.status == "skipped"]

    def summary(self) -> str:
        """One sentence: all good, or the broken link."""
        failed = self.failed
        if failed is not None:
            return f"{self.connection}: “{failed.title}” failed. {failed.message}"
        skipped = self.skipped
        extra = f" ({len(skipped)} skipped: {', '.join(c.id for c in skipped)})" if skipped else ""
        return f"All good: {self.connection} gets a token from {self.instance}{extra}."

    # -- rendering ----------------------------------------------------------------------------

    def as_result(self) -> dict[str, Any]:
        """The ``DiagnoseResult`` shape (``lsp/ext.py``)."""
        return {
            "connection": self.connection,
            "ok": self.ok,
            "checks": [c.as_dict() for c in self.checks],
            "report": self.markdown(),
        }

    def markdown(self) -> str:
        lines = [f"# SnowAuth doctor: {code(self.connection)}", "", f"Instance: {code(self.instance)}", ""]
        marks = {"pass": "✓", "fail": "✗", "skipped": "–"}
        for c in self.checks:
            at = f" ({code(c.key)})" if c.key else ""
            lines.append(f"- {marks[c.status]} **{c.title}**{at}: {c.message}")
        lines += ["", self._closing(markdown=True)]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        """The checklist for a terminal: ✓ ✗ – per check, text from files and the instance
        made printable."""
        marks = {"pass": "✓", "fail": "✗", "skipped": "–"}
        lines = [f"snowauth doctor: {printable(self.connection)} at {printable(self.instance)}"]
        for c in self.checks:
            lines.append(f"{marks[c.status]} {c.title}: {printable(plain_text(c.message))}")
        lines.append(printable(plain_text(self._closing(markdown=False))))
        return "\n".join(lines) + "\n"

    def json(self) -> str:
        result = self.as_result()
        del result["report"]
        result["instance"] = self.instance
        return json_printable(json.dumps(result, indent=2, ensure_ascii=False)) + "\n"

    def _closing(self, *, markdown: bool) -> str:
        failed = self.failed
        skipped = self.skipped
        said = f" Skipped: {', '.join(c.id for c in skipped)}." if skipped else ""
        if failed is not None:
            return f"Broken link: {failed.id}.{said}"
        name, where = (code(self.connection), code(self.instance)) if markdown else (self.connection, self.instance)
        return f"All good: {name} gets a token from {where}.{said}"
