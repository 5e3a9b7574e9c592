"""The shapes of the export files snowauth reads back before it merges a token into them:
an http-client environment file (``http-client.private.env.json``) and a Postman
environment.

An http-client file maps environment names to objects of variables (JetBrains' HTTP
Client; httpyac reads the same file); only the connection's own environment must be an
object, the others are the user's and are kept as they are. A Postman environment holds
``values``, a list of ``{"key", "value", "type", "enabled"}`` (the file Postman exports);
any other key is kept as it is. These models only validate: ``exports.py`` merges into the
JSON as it was read, so nothing the models ignore is lost.

Imported by ``exports.py`` when it renders a JSON target (after a fetch or a revoke),
never at the start of ``snowauth check`` (json_shapes).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from snowauth.json_shapes import Shape, validate


class HttpClientEnvironment(Shape):
    """The connection's environment in an http-client file: an object of variables."""

    variables: dict[str, Any]  # any JSON: the user's, kept as it is (however deep)


class PostmanVariable(Shape):
    """One variable of a Postman environment."""

    key: str | None = None
    value: Any = None  # any JSON, kept as it is
    type: str | None = None
    enabled: bool | None = None


class PostmanEnvironment(Shape):
    """A Postman environment file: its ``values`` (its id, name and the rest are kept)."""

    values: list[PostmanVariable] = Field(default_factory=list)


def http_client_environment(value: object) -> str | None:
    """What is wrong with the connection's environment, None when it is an object."""
    checked = validate(HttpClientEnvironment, {"variables": value}, ())
    return checked if isinstance(checked, str) else None


def postman_environment(data: object) -> str | None:
    """What is wrong with a Postman environment's shape, None when nothing is."""
    checked = validate(PostmanEnvironment, data)
    return checked if isinstance(checked, str) else None
