from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from snowauth.emulator import Emulator
from tests.kit.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def make_emu(clock: FakeClock) -> Iterator[Callable[..., Emulator]]:
    """Start emulators with custom arguments; all are stopped after the test."""
    started: list[Emulator] = []

    def make(*args: Any, **kwargs: Any) -> Emulator:
        kwargs.setdefault("clock", clock)
        emulator = Emulator(*args, **kwargs).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()
