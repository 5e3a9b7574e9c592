"""Fixtures shared by every suite."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pytest_lsp.client import default_feature

from snowauth.emulator import Emulator
from snowauth.trust import CONFIG_VARIABLE, local_emulator


@default_feature(t.CLIENT_REGISTER_CAPABILITY)
def _register_capability(ls: Any, params: t.RegistrationParams) -> None:
    """Test clients accept a server's dynamic registrations (file watchers), as VS Code
    and Neovim do, and keep them (``client.registrations``) for the tests to look at."""
    ls.registrations = [*getattr(ls, "registrations", []), *params.registrations]


# Every process the tests start keeps its host confirmations and finds the emulators'
# registrations here, never in the real user config folder.
_CONFIG = Path(tempfile.mkdtemp(prefix="snowauth-test-config-"))
os.environ[CONFIG_VARIABLE] = str(_CONFIG)
atexit.register(shutil.rmtree, _CONFIG, True)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The built-in demo instance on a free loopback port, registered as the user's own
    emulator (as `snowauth emulator` does), so snowauth sends to it without asking."""
    with Emulator() as emu, local_emulator(emu.url):
        yield emu
