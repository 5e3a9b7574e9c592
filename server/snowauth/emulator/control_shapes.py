"""The shape of a request to the emulator's control API (``POST /__emulator/mode``).

A JSON object of modes, each optional: the switches are ``true``/``false``,
``retry_after`` and ``flaky_failures`` non-negative integers, ``slow`` a non-negative
number of seconds (an integer is taken as a number). Unlike the models of what an
instance answers (``json_shapes.Shape``: unknown keys ignored), an unknown mode is refused:
the control API is the tests' own, and a misspelt mode silently ignored would make a test
check nothing. Emulator only; imported at the first control request.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SWITCHES: Final = ("hibernating", "rate_limited", "flaky", "no_current_user", "drop_user_filter", "rest_rate_limited")
COUNTS: Final = ("retry_after", "flaky_failures")

_Count = Annotated[int, Field(ge=0)]
_Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ModeChange(BaseModel):
    """The modes a control request changes (those it leaves out stay as they are)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    hibernating: bool = False
    rate_limited: bool = False
    flaky: bool = False
    no_current_user: bool = False
    drop_user_filter: bool = False
    rest_rate_limited: bool = False
    retry_after: _Count = 0
    flaky_failures: _Count = 0
    slow: _Seconds = 0.0


def _message(exc: ValidationError) -> str:
    """The first problem, in the control API's words (a mode's name, never its value)."""
    first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    key = str(first["loc"][0]) if first["loc"] else ""
    if first["type"] == "extra_forbidden":
        return f"unknown mode {key!r}"
    if key in SWITCHES:
        return f"{key} must be true or false"
    if key in COUNTS:
        return f"{key} must be a non-negative integer"
    return "slow must be a non-negative number of seconds"


def parse_modes(data: object) -> dict[str, Any] | str:
    """The modes a JSON object sets, or why it sets none."""
    if not isinstance(data, dict):
        return "the body must be a JSON object"
    try:
        change = ModeChange.model_validate(data)
    except ValidationError as exc:
        return _message(exc)
    return change.model_dump(include=change.model_fields_set)
