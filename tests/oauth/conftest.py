from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from snowauth.emulator import Emulator
from snowauth.oauth import OAuthClient
from tests.kit.oauth import RecordingSleep


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def client(sleep: RecordingSleep) -> AsyncIterator[OAuthClient]:
    oauth = OAuthClient(sleep=sleep, authorization_timeout=10.0)
    yield oauth
    await oauth.aclose()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def make_emu() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with custom arguments; all are stopped after the test."""
    running: list[Emulator] = []

    def make(*args: Any, **kwargs: Any) -> Emulator:
        emulator = Emulator(*args, **kwargs).start()
        running.append(emulator)
        return emulator

    yield make
    for emulator in running:
        emulator.stop()
