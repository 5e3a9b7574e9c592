"""The hardening suites' summary of what was fuzzed (profiles: tests.kit.fuzz)."""

from __future__ import annotations

import pytest

from tests.kit.corpus import STATS
from tests.kit.fuzz import PROFILE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS.counts and not STATS.notes:
        return
    terminalreporter.section(f"snowauth hardening ({PROFILE})")
    for name, n in sorted(STATS.counts.items()):
        terminalreporter.write_line(f"{name}: {n}")
    for name, note in sorted(STATS.notes.items()):
        terminalreporter.write_line(f"{name}: {note}")
