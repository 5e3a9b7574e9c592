"""The shapes of what the instance's REST API answers: Table API records and lists, its
failures, and the who-am-I answer.

The Table API wraps its answer in ``{"result": …}``: a list of records for a query, one
record for a read, a create or an update. A record maps field names to text: with
``sysparm_display_value=false`` (the default, and what :mod:`snowauth.oauth.table`
sends) every value is a string, a reference ``{"link", "value"}`` unless
``sysparm_exclude_reference_link=true``; ``sysparm_display_value=all`` turns each value
into ``{"display_value", "value"}`` (docs/servicenow.md, "The Table API's answers"). Both
objects are read as their ``value``; any other shape (a number, a list, an object without
a text ``value``) is no Table API answer. A failure is ``{"error": {"message", "detail"},
"status": "failure"}`` (``detail`` may be ``null``). ``/api/now/ui/user/current_user``
answers ``{"result": {"user_name", "user_sys_id", …}}``.

Field names shown in a message about a wrong shape: the models' own and the instance's
record names (:mod:`snowauth.instance_records`); any other key is the instance's text and
is not shown (json_shapes.problem).
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BeforeValidator

from snowauth import instance_records as rec
from snowauth.json_shapes import Shape, field_names


def _value_of(value: object) -> object:
    """A reference or a display_value=all object as its ``value`` (validated as text)."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


#: a field of a record: text (a reference or a display value object: its value), or null
FieldValue = Annotated[str | None, BeforeValidator(_value_of)]
#: a record: field names to values
Row = dict[str, FieldValue]


class ListAnswer(Shape):
    """A query's answer: ``{"result": [record, …]}``."""

    result: list[Row]


class RecordAnswer(Shape):
    """A read, create or update's answer: ``{"result": record}``."""

    result: Row


class RestError(Shape):
    """The instance's own words about a failure."""

    message: str | None = None
    detail: str | None = None


class ErrorAnswer(Shape):
    """A REST API failure: ``{"error": {"message", "detail"}, "status": "failure"}`` (its
    ``status`` is not read)."""

    error: RestError


class CurrentUser(Shape):
    """Who an access token authenticates as (``/api/now/ui/user/current_user``)."""

    user_name: str | None = None
    user_sys_id: str | None = None
    user_display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class CurrentUserAnswer(Shape):
    result: CurrentUser


# the record names of the instance a message may show (besides the models' own)
_RECORD_NAMES: Final = frozenset(
    value
    for name, value in vars(rec).items()
    if name.startswith(("ENTITY_", "USER_", "PROPERTY_", "SYSLOG_")) and isinstance(value, str)
) | {"sys_id", "name", "link", "value", "display_value"}

#: the names a message about these shapes may show
KNOWN: Final = field_names(ListAnswer, RecordAnswer, ErrorAnswer, CurrentUserAnswer) | _RECORD_NAMES
