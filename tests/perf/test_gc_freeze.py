"""The language server puts what survives a full garbage collection out of the
collector's sight (``lsp/server.freeze_survivors``): a long file's analysis is not walked
again at every full pass while typing (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import gc, json, weakref
from snowauth.lsp.server import freeze_survivors

class Node:
    pass

freeze_survivors()
freeze_survivors()  # once only
kept = [Node() for _ in range(50_000)]
gc.collect()
frozen = gc.get_freeze_count()
probe = weakref.ref(kept[0])
del kept  # frozen objects are still freed by reference counting
print(json.dumps({"frozen": frozen, "callbacks": len(gc.callbacks), "freed": probe() is None}))
"""


def test_a_full_collection_freezes_what_survived_it_and_it_is_still_freed() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    found = json.loads(out)
    assert found["frozen"] >= 50_000
    assert found["callbacks"] == 1
    assert found["freed"] is True
