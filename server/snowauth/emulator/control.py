"""``/__emulator/*``: run-time control for out-of-process tests. Emulator only.

``POST /__emulator/mode`` with a JSON object of any of ``hibernating``,
``rate_limited``, ``flaky``, ``no_current_user``, ``drop_user_filter``,
``rest_rate_limited`` (booleans), ``retry_after``, ``flaky_failures``
(integers) and ``slow`` (seconds) changes the modes and answers the current ones;
``GET /__emulator/mode`` answers them too. ``GET /__emulator/stats`` answers
``{"token_requests": n, "requests": [[method, path], …], "modes": {…}}``.
These paths ignore the modes (they answer even while "hibernating" or "slow").
"""

from __future__ import annotations

import json
from typing import Any

from snowauth.emulator.reply import Reply, json_reply
from snowauth.emulator.state import EmulatorState

PREFIX = "/__emulator/"


def _bad(message: str) -> Reply:
    return json_reply(400, {"error": message})


def _parse_modes(body: bytes) -> dict[str, Any] | str:
    from snowauth.emulator.control_shapes import parse_modes  # pydantic: at the first change

    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "the body must be a JSON object"
    return parse_modes(data)


def control_request(state: EmulatorState, method: str, path: str, body: bytes) -> Reply:
    name = path[len(PREFIX) :]
    with state.lock:
        if name == "stats" and method == "GET":
            return json_reply(
                200,
                {
                    "token_requests": state.token_requests,
                    "requests": [list(r) for r in state.requests],
                    "modes": state.modes.as_dict(),
                },
            )
        if name == "mode" and method == "GET":
            return json_reply(200, state.modes.as_dict())
        if name == "mode" and method == "POST":
            modes = _parse_modes(body)
            if isinstance(modes, str):
                return _bad(modes)
            state.set_mode(**modes)
            return json_reply(200, state.modes.as_dict())
    return json_reply(404, {"error": f"no control endpoint {method} {path}"})
