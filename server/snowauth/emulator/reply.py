"""An HTTP answer, built by the endpoint modules and written by the handler."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def json_reply(status: int, value: Any, *headers: tuple[str, str]) -> Reply:
    body = json.dumps(value, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, "application/json;charset=UTF-8", tuple(headers))


def html_reply(status: int, page: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, page.encode("utf-8"), "text/html;charset=UTF-8", tuple(headers))


def redirect_reply(location: str) -> Reply:
    return Reply(302, b"", "text/plain; charset=utf-8", (("Location", location),))
