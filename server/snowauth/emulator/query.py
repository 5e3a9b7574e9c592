"""The Table API's list parameters: an encoded ``sysparm_query``, ``sysparm_fields``,
``sysparm_limit`` and ``sysparm_offset``, applied to rows of strings.

Encoded queries: terms joined by ``^`` (AND) or ``^OR`` (OR with the previous term),
each ``field=value``, ``field!=value``, ``fieldSTARTSWITHx``, ``fieldENDSWITHx``,
``fieldLIKEx``, ``fieldNOT LIKEx``, ``fieldINa,b``, ``fieldISEMPTY``,
``fieldISNOTEMPTY``, ``ORDERBYfield`` or ``ORDERBYDESCfield``. Like the instance
(``glide.invalid_query.returns_no_rows`` false), a term naming an unknown field is
ignored. ``=`` and ``!=`` compare exactly; the others ignore case, as the instance's
database does. A reference compares by its sys_id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
Condition = Callable[[Row], bool]

_TERM = re.compile(r"^([a-z0-9_.]+?)(!=|=|STARTSWITH|ENDSWITH|NOT LIKE|LIKE|NOT IN|IN|ISNOTEMPTY|ISEMPTY)(.*)$", re.S)
DEFAULT_LIMIT = 10000


class QueryError(ValueError):
    """A list parameter the instance would refuse (the message is the error's)."""


def value_of(row: Row, name: str) -> str:
    """A field's value as a string; a reference ({"link", "value"}) by its sys_id."""
    value = row.get(name, "")
    if isinstance(value, dict):
        value = value.get("value", "")
    return str(value)


def _condition(name: str, op: str, operand: str) -> Condition:
    wanted = operand.lower()
    listed = {item.strip() for item in operand.split(",")}

    def test(row: Row) -> bool:
        if name not in row:
            return True  # an unknown field: the term is ignored
        value = value_of(row, name)
        low = value.lower()
        match op:
            case "=":
                return value == operand
            case "!=":
                return value != operand
            case "STARTSWITH":
                return low.startswith(wanted)
            case "ENDSWITH":
                return low.endswith(wanted)
            case "LIKE":
                return wanted in low
            case "NOT LIKE":
                return wanted not in low
            case "IN":
                return value in listed
            case "NOT IN":
                return value not in listed
            case "ISEMPTY":
                return value == ""
            case _:  # ISNOTEMPTY
                return value != ""

    return test


def _never(row: Row) -> bool:
    return False


def _either(first: Condition, second: Condition) -> Condition:
    return lambda row: first(row) or second(row)


@dataclass
class Query:
    """A parsed ``sysparm_query``: OR-groups of AND-ed conditions, then the order."""

    groups: list[list[Condition]] = field(default_factory=lambda: [[]])
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)

    def matches(self, row: Row) -> bool:
        return any(all(cond(row) for cond in group) for group in self.groups)


def parse_query(encoded: str) -> Query:
    query = Query()
    for index, raw in enumerate(encoded.split("^")):
        term = raw
        new_group = False
        if index > 0 and term.startswith("OR") and not term.startswith("ORDERBY"):
            term = term[2:]
            new_group = True
        if not term or term == "EQ":
            continue
        if term.startswith("ORDERBYDESC"):
            query.order.append((term[len("ORDERBYDESC") :], True))
            continue
        if term.startswith("ORDERBY"):
            query.order.append((term[len("ORDERBY") :], False))
            continue
        found = _TERM.match(term)
        if found is None:
            continue  # not a condition the emulator knows: ignored, as an invalid one is
        condition = _condition(found.group(1), found.group(2), found.group(3))
        if new_group:
            # a ^OR term joins the previous condition: (a OR b) AND the rest
            last = query.groups[-1].pop() if query.groups[-1] else _never
            query.groups[-1].append(_either(last, condition))
        else:
            query.groups[-1].append(condition)
    return query


def _first(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def _count(params: Mapping[str, Sequence[str]], key: str, default: int) -> int:
    text = _first(params, key)
    if text is None or text == "":
        return default
    try:
        number = int(text)
    except ValueError:
        raise QueryError(f"Invalid {key}") from None
    return max(number, 0)


def _sort_key(name: str) -> Callable[[Row], str]:
    return lambda row: value_of(row, name)


def select(rows: Sequence[Row], params: Mapping[str, Sequence[str]]) -> tuple[list[Row], int]:
    """The rows a list GET answers (and how many matched before the limit). Rows are
    given in creation order, which breaks ties in ORDERBY (the newest first when the
    first order is descending)."""
    query = parse_query(_first(params, "sysparm_query") or "")
    limit = _count(params, "sysparm_limit", DEFAULT_LIMIT)
    offset = _count(params, "sysparm_offset", 0)
    found = [row for row in rows if query.matches(row)]
    if query.order and query.order[0][1]:
        found.reverse()  # ties under a descending order: the newest row first
    for name, descending in reversed(query.order):
        found.sort(key=_sort_key(name), reverse=descending)  # stable
    total = len(found)
    return [pick_fields(row, params) for row in found[offset : offset + limit]], total


def pick_fields(row: Row, params: Mapping[str, Sequence[str]]) -> Row:
    """``sysparm_fields`` (comma-separated; absent: every field) and
    ``sysparm_exclude_reference_link`` (a reference as its plain sys_id)."""
    wanted = _first(params, "sysparm_fields")
    plain = (_first(params, "sysparm_exclude_reference_link") or "").lower() == "true"
    names = [n.strip() for n in wanted.split(",") if n.strip()] if wanted else list(row)
    picked: Row = {}
    for name in names:
        if name in row:
            value = row[name]
            picked[name] = value_of(row, name) if plain and isinstance(value, dict) else value
    return picked
