"""What snowauth reads from a TOML text, as the plain data ``tomllib.loads`` gives, to
compare the two (the conformance corpus, the differential fuzz test).

The scanner's values (``Value.data``) are snowauth's own; only the nesting is put
together here, assuming a text the table rules accepted (no TOML-validity finding).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

from snowauth.syntax import Entry, Header, Parsed, Value

Data = dict[str, Any]


def data_of(parsed: Parsed) -> Data:
    root: Data = {}
    table = root
    for it in parsed.items:
        if type(it) is Header:
            table = root
            names = [p.name for p in it.key]
            for name in names[:-1]:
                table = _descend(table, name)
            last = names[-1]
            if it.is_array:
                element: Data = {}
                table.setdefault(last, []).append(element)
                table = element
            else:
                table = _descend(table, last)
        else:
            assert type(it) is Entry
            _put(table, it)
    return root


def _descend(table: Data, name: str) -> Data:
    found = table.setdefault(name, {})
    if isinstance(found, list):  # an array of tables: its last element
        found = found[-1]
    assert isinstance(found, dict)
    return found


def _put(table: Data, e: Entry) -> None:
    assert e.value is not None
    for part in e.key[:-1]:
        table = _descend(table, part.name)
    table[e.key[-1].name] = _plain(e.value)


def _plain(v: Value) -> Any:
    if v.kind == "array":
        return [_plain(x) for x in v.data]  # type: ignore[attr-defined]
    if v.kind == "table":
        out: Data = {}
        for e in v.data:  # type: ignore[attr-defined]
            _put(out, e)
        return out
    return v.data


def same(ours: Any, theirs: Any) -> bool:
    """Equal data, types included (1, 1.0 and True differ), NaN equal to NaN and -0.0 not
    to 0.0, and the line breaks in strings compared as LF (TOML lets a parser normalise
    them, as tomllib does)."""
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, float):
        return (math.isnan(ours) and math.isnan(theirs)) or (
            ours == theirs and math.copysign(1, ours) == math.copysign(1, theirs)
        )
    if isinstance(ours, str):
        return ours.replace("\r\n", "\n") == theirs.replace("\r\n", "\n")
    if isinstance(ours, datetime | time):
        return ours == theirs and ours.utcoffset() == theirs.utcoffset()
    assert isinstance(ours, int | bool | date), type(ours)
    return bool(ours == theirs)
