"""A module imported at its first use: the core of a feature that the first diagnostics
do not need, named once at the top of a handler module whose handlers share it
(docs/decisions.md, "Cold start: what the first diagnostics need"). A handler that alone
uses a core imports it in its body."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name``: the first attribute asked of it imports it."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)
