"""Time for the tests: the fixed "now" the core analyses run at, and a settable clock
for ``Emulator(clock=...)``."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


class FakeClock:
    """A settable clock for Emulator(clock=...)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
