"""The user config folder of the test run: every process the tests start keeps its host
confirmations and finds the emulators' registrations in a temporary folder, never in the
real user config folder, and none uses the real OS keychain (tests.kit.keychain)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from snowauth.trust import CONFIG_VARIABLE


def isolate_user_config() -> Path:
    """Point this process (and so every process it starts) at a new temporary config
    folder, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="snowauth-test-config-"))
    os.environ[CONFIG_VARIABLE] = str(folder)
    # and never the real OS keychain: a test that uses one chooses tests.kit.keychain's
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    atexit.register(shutil.rmtree, folder, True)
    return folder
