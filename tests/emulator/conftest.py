from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from snowauth.emulator import Emulator
from tests.kit.clock import FakeClock
from tests.kit.emulator import emulators


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
    with emulators(clock=clock) as make:
        yield make
