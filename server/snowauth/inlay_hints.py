"""Inlay hints: short notes the editor shows after a value, computed for a range only.

- after a stored token's `expires_at` (and `refresh_expires_at`), in any of the token's
  forms: the time left, in the words of the lens and the hover ("in 12 min",
  "expired 3 h ago", ``wording.humanize``);
- after a bare instance name (`instance = "dev12345"`): the URL it means
  (``instance.instance_url``); nothing after a URL, nor after a reference;
- after each `${env:NAME}` value: whether NAME resolves, and from where (the process
  environment or the .env beside the file: ``secrets.Environment``, the lookup the
  diagnostics make). Never the value, nor its length (SECURITY.md).

``next_change`` says when the wording of a time hint changes (a minute boundary, the
expiry), so that the editor can be asked to show them again then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from snowauth.analysis import Analysis
from snowauth.document import Assign, Connection
from snowauth.instance import InstanceError, instance_url
from snowauth.secrets import Environment, ReferenceSyntaxError, parse_reference
from snowauth.wording import humanize, humanized_changes, unit

#: the token keys whose time left is shown, and what they say in a tooltip
TIME_KEYS = {"expires_at": "The access token", "refresh_expires_at": "The refresh token"}
SET_IN_ENVIRONMENT = "✓ environment"
SET_IN_DOTENV = "✓ .env"
NOT_SET = "✗ not set"


@dataclass(frozen=True, slots=True)
class Hint:
    """A hint shown at ``offset`` (code points), just after the value it is about."""

    offset: int
    label: str
    tooltip: str
    #: when set, the instant the label is about (its wording changes with time)
    when: datetime | None = None


def hints(a: Analysis, start: int, end: int, env: Environment, now: datetime) -> list[Hint]:
    """The hints placed in [start, end], in the order of the text."""
    out: list[Hint] = []
    for c in a.connections_between(start, end):
        out.extend(h for h in connection_hints(c, env, now) if start <= h.offset <= end)
    out.sort(key=lambda h: h.offset)
    return out


def connection_hints(c: Connection, env: Environment, now: datetime) -> list[Hint]:
    out: list[Hint] = []
    for key, what in TIME_KEYS.items():
        a = c.token.get(key)
        when = _aware(a)
        if a is not None and when is not None:
            out.append(Hint(a.value.end, time_left(when, now), f"{what} {_expiry_phrase(when, now)}", when))
    instance = c.keys.get("instance")
    if instance is not None:
        url = _instance_hint(instance)
        if url is not None:
            out.append(Hint(instance.value.end, f"→ {url}", f"`instance` means {url}"))
    for a in c.keys.values():
        h = _reference_hint(a, env)
        if h is not None:
            out.append(h)
    return out


def time_left(when: datetime, now: datetime) -> str:
    """ "in 12 min" before ``when``, "expired 3 h ago" after."""
    delta = when - now
    if delta.total_seconds() > 0:
        return f"in {humanize(delta)}"
    return f"expired {humanize(delta)} ago"


def _expiry_phrase(when: datetime, now: datetime) -> str:
    verb = "expires" if when > now else "expired"
    return f"{verb} at {when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def next_change(hints: list[Hint], now: datetime) -> datetime | None:
    """The first instant the label of one of ``hints`` reads differently (None: never)."""
    found: datetime | None = None
    for h in hints:
        if h.when is None:
            continue
        change = _label_changes(h.when, now)
        if found is None or change < found:
            found = change
    return found


def _label_changes(when: datetime, now: datetime) -> datetime:
    change = humanized_changes(when, now)
    if change == now:  # exactly on a boundary: it reads so until the next one
        left = (when - now).total_seconds()
        return when - timedelta(seconds=max(left - unit(left), 0))
    return change


def _aware(a: Assign | None) -> datetime | None:
    d = a.value.data if a is not None else None
    return d if isinstance(d, datetime) and d.tzinfo is not None else None


def _instance_hint(a: Assign) -> str | None:
    v = a.value
    if v.kind != "string" or not isinstance(v.data, str):
        return None
    value = v.data.strip()
    if not value or "://" in value or "${" in value:
        return None  # a URL says it already; a reference's value is not shown
    try:
        return instance_url(value)
    except InstanceError:
        return None  # the diagnostic says why


def _reference_hint(a: Assign, env: Environment) -> Hint | None:
    v = a.value
    if v.kind != "string" or not isinstance(v.data, str) or "${env:" not in v.data:
        return None
    try:
        ref = parse_reference(v.data)
    except ReferenceSyntaxError:
        return None  # the diagnostic says why
    if ref is None or ref.kind != "env":
        return None
    name = ref.argument
    if env.env.get(name) is not None:
        return Hint(v.end, SET_IN_ENVIRONMENT, f"`{name}` is set in the environment of the editor")
    if env.dotenv.get(name) is not None:
        return Hint(v.end, SET_IN_DOTENV, f"`{name}` is set in the .env file beside this file")
    if env.folder is None:
        why = f"`{name}` is not set in the environment"
    elif (refused := env.dotenv_refused) is not None:
        why = f"`{name}` is not set in the environment, and the .env beside this file was not read ({refused})"
    else:
        why = f"`{name}` is not set in the environment or the .env file beside this file"
    return Hint(v.end, NOT_SET, f"{why}: set it before fetching a token")
