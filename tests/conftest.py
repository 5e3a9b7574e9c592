"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snowauth.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The built-in demo instance on a free loopback port (see snowauth.emulator)."""
    with Emulator() as emu:
        yield emu
