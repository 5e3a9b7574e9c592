"""The base of every pydantic model of JSON snowauth did not write, and what a failed
validation says.

JSON that comes from elsewhere (a ServiceNow instance's answers, an export file read back)
is validated by a model of the shape it should have (``oauth/shapes.py``,
``oauth/table_shapes.py``, ``export_shapes.py``). Every such model derives from
:class:`Shape`: unknown keys ignored, frozen, strict types (a number is no string, a
string no number), except where a field says why not. (The emulator's own inputs, its
configuration and control requests, refuse unknown keys instead: ``emulator/*_shapes.py``.)

:func:`problem` turns a ``ValidationError`` into words built from the error's location and
type only: pydantic's own text quotes the input, and the input may be a secret (a token
where a number was expected). Only names the caller knows (its models' field names) are
shown; any other key (it came from the JSON) is shown as ``…``.

This module imports pydantic: import it only where JSON from elsewhere is read (the first
token exchange, an export), never on the start path of ``snowauth check`` or the language
server (docs/decisions.md, "pydantic at the network boundary").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

#: at most this many problems named in one message
MAX_PROBLEMS = 3

_PHRASES = {
    "string_type": "not text",
    "int_type": "not a whole number",
    "int_from_float": "not a whole number",
    "float_type": "not a number",
    "bool_type": "not true or false",
    "dict_type": "not an object",
    "model_type": "not an object",
    "model_attributes_type": "not an object",
    "list_type": "not a list",
    "missing": "missing",
    "greater_than_equal": "out of range",
    "less_than_equal": "out of range",
    "greater_than": "out of range",
    "less_than": "out of range",
    "finite_number": "not a finite number",
    "literal_error": "not one of the values allowed",
    "string_too_short": "empty",
    "extra_forbidden": "not expected",
    "recursion_loop": "nested too deeply",
}


class Shape(BaseModel):
    """A JSON object from elsewhere: unknown keys ignored, frozen, strict."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


ShapeT = TypeVar("ShapeT", bound=Shape)


def field_names(*models: type[BaseModel]) -> frozenset[str]:
    """Every field name of ``models`` and of the models their fields hold: the names a
    message may show."""
    names: set[str] = set()
    todo: list[type[BaseModel]] = list(models)
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(info.alias or name)
            todo.extend(_models_in(info.annotation))
    return frozenset(names)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()):
        found.extend(_models_in(arg))
    return found


#: at most this many steps of a location shown ("result[0].name"); deeper ones are "…"
MAX_STEPS = 6


def _where(loc: Sequence[int | str], known: frozenset[str]) -> str:
    text = ""
    for step, part in enumerate(loc):
        if step == MAX_STEPS:
            if not text.endswith("…"):
                text += ".…"
            break
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in known:
            text += f".{part}" if text else part
        elif not text.endswith("…"):
            text += ".…" if text else "…"
    return text


def problem(exc: ValidationError, known: Iterable[str]) -> str:
    """What is wrong, in words, from each error's location and type (never its input):
    "its expires_in is not a number; its result[0].… is not text"."""
    names = frozenset(known)
    grouped: dict[str, set[str]] = {}
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    for error in errors:
        grouped.setdefault(_where(error["loc"], names), set()).add(error["type"])
    said: list[str] = []
    for where, types in list(grouped.items())[:MAX_PROBLEMS]:
        if len(types) == 1:
            (kind,) = types
            what = _PHRASES.get(kind, kind.replace("_", " "))
        else:
            what = "of none of the expected types"
        said.append(f"its {where} is {what}" if where else f"it is {what}")
    if len(grouped) > MAX_PROBLEMS:
        said.append(f"{len(grouped) - MAX_PROBLEMS} more")
    return "; ".join(said)


def validate(model: type[ShapeT], data: object, known: Iterable[str] | None = None) -> ShapeT | str:
    """``data`` as ``model``, or what is wrong with it (:func:`problem`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return problem(exc, field_names(model) if known is None else known)
    except RecursionError:
        return "it is nested too deeply"
