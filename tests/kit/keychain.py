"""A keychain for the tests: a real ``keyring`` backend that keeps its entries in one JSON
file (``$SNOWAUTH_TEST_KEYRING``), chosen through keyring's own ``PYTHON_KEYRING_BACKEND``
in every process a test starts (the CLI, the language server); and the environment that
selects it, or keyring's fail backend (a machine without a keychain)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ROOT = Path(__file__).resolve().parents[2]
FILE_VARIABLE = "SNOWAUTH_TEST_KEYRING"
BACKEND = "tests.kit.keychain.FileKeyring"
NO_BACKEND = "keyring.backends.fail.Keyring"


class FileKeyring(KeyringBackend):
    """Entries as ``{service: {user: password}}`` in the file ``$SNOWAUTH_TEST_KEYRING``."""

    priority = 1  # type: ignore[assignment]  # (a classproperty in the base class)

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_VARIABLE])

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data: dict[str, dict[str, str]] = json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        self._path().write_text(json.dumps(data), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = password
        self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if username not in data.get(service, {}):
            raise PasswordDeleteError("no such entry")
        del data[service][username]
        self._write(data)


def entries(path: Path) -> dict[str, str]:
    """The entries of the test keychain file ``path`` under snowauth's service."""
    if not path.exists():
        return {}
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data.get("snowauth", {})


def keyring_env(path: Path | None) -> dict[str, str]:
    """The environment of a process whose keychain is the file ``path`` (None: a machine
    without a keychain backend)."""
    if path is None:
        return {"PYTHON_KEYRING_BACKEND": NO_BACKEND}
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHON_KEYRING_BACKEND": BACKEND, FILE_VARIABLE: str(path), "PYTHONPATH": pythonpath}
