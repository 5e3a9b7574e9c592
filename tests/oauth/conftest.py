from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from snowauth.emulator import Emulator
from snowauth.oauth.client import OAuthClient
from tests.kit.emulator import emulators
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
    with emulators() as make:
        yield make
