"""`snowauth check` keeps the cyclic garbage collector off the analysis' objects while it
runs (check.py, docs/performance.md) and leaves the collector as it found it: on, and
nothing frozen, so a longer process still has those objects collected."""

from __future__ import annotations

import gc
import io
import weakref
from pathlib import Path

from snowauth.check import run_check

TEXT = """[connections.dev]
instance = "https://dev1.service-now.com"
client_id = "abc"
grant_type = "password"
"""


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_check_leaves_the_collector_on_and_nothing_frozen(tmp_path: Path) -> None:
    path = tmp_path / "a.snowauth.toml"
    path.write_text(TEXT, encoding="utf-8")
    seen: list[bool] = []
    gc.collect()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    out = io.StringIO()
    import snowauth.check as check

    real = check.checked_file

    def spying(p: Path, now: object = None) -> object:
        seen.append(gc.isenabled())
        return real(p)

    check.checked_file = spying  # type: ignore[assignment]
    try:
        code = run_check([str(path)], "text", out, io.StringIO())
    finally:
        check.checked_file = real
    assert seen == [False]  # no collector pass while the file was analysed
    assert code == 1
    assert "is missing username (required for the password grant) [missing-key]" in out.getvalue()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_garbage_made_during_a_check_is_still_collected(tmp_path: Path) -> None:
    path = tmp_path / "a.snowauth.toml"
    path.write_text(TEXT, encoding="utf-8")
    gc.collect()
    import snowauth.check as check

    real = check.checked_file
    refs: list[weakref.ref[_Cycle]] = []

    def making_a_cycle(p: Path, now: object = None) -> object:
        refs.append(weakref.ref(_Cycle()))  # garbage only the collector can free
        return real(p)

    check.checked_file = making_a_cycle  # type: ignore[assignment]
    try:
        run_check([str(path)], "text", io.StringIO(), io.StringIO())
    finally:
        check.checked_file = real
    assert refs[0]() is not None  # the collector did not run during the check
    gc.collect()
    assert refs[0]() is None
