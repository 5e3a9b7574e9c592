"""Time for the tests: the fixed "now" the core analyses run at, and clocks for
``Emulator(clock=...)``: a settable one, and the real time moved on by a settable shift."""

from __future__ import annotations

import time
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


class ShiftedClock:
    """The real time plus a shift the test moves on, for Emulator(clock=...): the instance
    sees its tokens age by the shift at once, while everything else runs on the real time."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift

    def advance(self, seconds: float) -> None:
        self.shift += seconds
