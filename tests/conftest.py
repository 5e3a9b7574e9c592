"""Fixtures shared by every suite, and the test run's setup (tests.kit.config,
tests.kit.lsp.accept_registrations)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snowauth.emulator import Emulator
from snowauth.trust import local_emulator
from tests.kit.config import isolate_user_config
from tests.kit.lsp import accept_registrations


def pytest_configure(config: pytest.Config) -> None:
    isolate_user_config()
    accept_registrations()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The built-in demo instance on a free loopback port, registered as the user's own
    emulator (as `snowauth emulator` does), so snowauth sends to it without asking."""
    with Emulator() as emu, local_emulator(emu.url):
        yield emu
