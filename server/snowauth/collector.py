"""The cyclic garbage collector around work that makes many objects and frees none (an
analysis, a long file's outline, the imports of a short-lived command): its passes over
them would find nothing to collect (docs/performance.md). No import of its own beyond
the standard library, so a command can pause the collector before its own imports."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No pass of the collector inside; it is on again after when it was before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
