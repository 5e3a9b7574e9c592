"""The runner's statistics and cells: medians, p95, milliseconds, met or not."""

from __future__ import annotations

import statistics
from typing import Any


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs: list[float]) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]


def ms(x: float) -> str:
    return f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms"


def pooled(runs: list[dict[str, Any]], key: str) -> list[float]:
    return [x for r in runs for x in r[key]]


def pooled_median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs]
    return median(pooled(runs, key) if isinstance(values[0], list) else values)


def met(ok: bool | None) -> str:
    return "" if ok is None else "yes" if ok else "**no**"
