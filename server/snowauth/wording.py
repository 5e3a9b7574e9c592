"""How messages word things: a duration as people say it ("23 min"), when that wording
of a past instant next changes, and the "did you mean" guess among known words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def humanize(delta: object) -> str:
    """ "23 min", "2 h", "3 days" for a timedelta (absolute value)."""
    assert isinstance(delta, timedelta)
    s = abs(delta.total_seconds())
    if s < 60:
        return f"{int(s)} s"
    if s < 3600:
        return f"{int(s // 60)} min"
    if s < 86400 * 2:
        return f"{int(s // 3600)} h"
    return f"{int(s // 86400)} days"


def unit(seconds: float) -> int:
    """The unit ``humanize`` counts ``seconds`` in (absolute value): 1, 60, 3600 or 86400."""
    s = abs(seconds)
    return 1 if s < 60 else 60 if s < 3600 else 3600 if s < 2 * 86400 else 86400


def humanized_until(dt: datetime, now: datetime) -> datetime:
    """Until when "``dt`` was ``humanize(now - dt)`` ago" reads the same, for a ``dt`` not
    after ``now`` ("expired 3 min ago" becomes "4 min" then)."""
    ago = (now - dt).total_seconds()
    u = unit(ago)
    step = (ago // u + 1) * u
    if u == 3600:
        step = min(step, 2 * 86400)
    return dt + timedelta(seconds=step)


def humanized_changes(dt: datetime, now: datetime) -> datetime:
    """Until when the time between ``now`` and ``dt`` reads the same ("in 5 min", "3 min
    ago"): ``now`` itself when it reads differently right after (exactly 5 min left)."""
    if dt <= now:
        return humanized_until(dt, now)
    left = (dt - now).total_seconds()  # humanize rounds down: "in 5 min" until fewer are left
    u = unit(left)
    return dt - timedelta(seconds=left // u * u)


def suggest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``word`` is most likely a misspelling of, if any is close enough."""
    import difflib  # only a mistake needs it

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return found[0] if found else None
