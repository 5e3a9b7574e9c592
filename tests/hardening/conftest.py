"""Hypothesis profiles for the hardening suites, and a summary of what was fuzzed.

``SNOWAUTH_FUZZ=long`` (``make fuzz``) selects the long profile: many more examples,
fresh random seeds each run. The default profile is small and derandomized, so that the
whole tests/hardening run stays within its CI budget and never flakes.
The profiles are applied per test (``@FUZZ``), not loaded globally, so other suites
keep their own hypothesis settings.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.kit.corpus import STATS

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "snowauth-fuzz-ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "snowauth-fuzz-long",
    max_examples=4000,
    deadline=None,
    suppress_health_check=_HEALTH,
)

PROFILE = "snowauth-fuzz-long" if os.environ.get("SNOWAUTH_FUZZ") == "long" else "snowauth-fuzz-ci"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS.counts and not STATS.notes:
        return
    terminalreporter.section(f"snowauth hardening ({PROFILE})")
    for name, n in sorted(STATS.counts.items()):
        terminalreporter.write_line(f"{name}: {n}")
    for name, note in sorted(STATS.notes.items()):
        terminalreporter.write_line(f"{name}: {note}")
