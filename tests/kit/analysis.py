"""Core analysis for the tests: analysis runs at a fixed time, spans as (line, col), the
TOML forms a connection can take (``render``), and applying quick-fix edits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from snowauth.analysis import Analysis, analyze
from snowauth.findings import Edit, Finding
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from tests.kit.clock import NOW

HEX32 = "0123456789abcdef0123456789abcdef"
ENV = {"SNOW_SECRET": "s3cret", "SNOW_PW": "pw", "SNOW_RT": "rt"}

FORMS = ("table", "dotted_top", "dotted", "inline")
Pairs = Sequence[tuple[str, str]]


def environment(folder: Path | None = None, **extra: str) -> Environment:
    return Environment({**ENV, **extra}, folder)


def run(text: str, env: Environment | None = None, now: datetime = NOW) -> Analysis:
    return analyze(text, env if env is not None else environment(), now)


def lc(text: str, offset: int) -> tuple[int, int]:
    """(line, col) of an offset in a text whose only line break is \\n (independent of
    positions.LineIndex, to check it)."""
    assert "\r" not in text
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def span_lc(a: Analysis, f: Finding) -> tuple[tuple[int, int], tuple[int, int]]:
    idx = LineIndex(a.text)
    return idx.position(f.start), idx.position(f.end)


def expected_span(text: str, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return lc(text, start), lc(text, end)


def codes(a: Analysis) -> list[str]:
    return [f.code for f in a.findings]


def having(a: Analysis, code: str) -> list[Finding]:
    return [f for f in a.findings if f.code == code]


def one(a: Analysis, code: str) -> Finding:
    found = having(a, code)
    assert len(found) == 1, (code, [(f.code, f.message) for f in a.findings])
    return found[0]


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        assert 0 <= e.start <= e.end <= len(text)
        text = text[: e.start] + e.text + text[e.end :]
    return text


def render(form: str, keys: Pairs, token: Pairs = (), name: str = "dev", preface: str = "") -> str:
    """A connection ``name`` with ``keys`` (and ``token`` keys) in one of the TOML forms."""
    lines = [preface] if preface else []
    if form == "table":
        lines.append(f"[connections.{name}]")
        lines += [f"{k} = {v}" for k, v in keys]
        if token:
            lines += ["", f"[connections.{name}.token]"]
            lines += [f"{k} = {v}" for k, v in token]
    elif form == "dotted_top":
        lines += [f"connections.{name}.{k} = {v}" for k, v in keys]
        lines += [f"connections.{name}.token.{k} = {v}" for k, v in token]
    elif form == "dotted":
        lines.append("[connections]")
        lines += [f"{name}.{k} = {v}" for k, v in keys]
        lines += [f"{name}.token.{k} = {v}" for k, v in token]
    elif form == "inline":
        members = [f"{k} = {v}" for k, v in keys]
        if token:
            members.append("token = { " + ", ".join(f"{k} = {v}" for k, v in token) + " }")
        lines.append("[connections]")
        lines.append(f"{name} = {{ " + ", ".join(members) + " }" if members else f"{name} = {{}}")
    else:
        raise ValueError(form)
    return "\n".join(lines) + "\n"


def header_span(form: str, text: str, keys: Pairs, name: str = "dev") -> tuple[int, int]:
    """Where the analysis puts "the header" of the connection in ``render``'s output."""
    if form == "table":
        target = f"[connections.{name}]"
    elif form == "dotted_top":
        target = f"connections.{name}.{keys[0][0]}"
    elif form == "dotted":
        target = f"{name}.{keys[0][0]}"
    else:
        target = f"{name} = {{"
        start = text.index(target)
        return start, start + len(name)
    start = text.index(target)
    return start, start + len(target)


def find_kv(text: str, key: str, literal: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The spans of the (last part of the) key and of the value of ``key = literal``."""
    pattern = rf"(?<![A-Za-z0-9_-]){re.escape(key)} = {re.escape(literal)}"
    found = list(re.finditer(pattern, text))
    assert len(found) == 1, (key, literal, text)
    m = found[0]
    vstart = m.end() - len(literal)
    return (m.start(), m.start() + len(key)), (vstart, m.end())


def password_keys(**override: str | None) -> list[tuple[str, str]]:
    """A complete, clean password-grant connection; override or drop (None) keys."""
    return grant_keys("password", **override)


def grant_keys(grant: str, **override: str | None) -> list[tuple[str, str]]:
    """A complete, clean connection of ``grant``."""
    base: dict[str, str] = {
        "instance": '"dev12345"',
        "grant_type": f'"{grant}"',
        "client_id": f'"{HEX32}"',
        "client_secret": '"${env:SNOW_SECRET}"',
    }
    extra = {
        "password": {"username": '"integration.user"', "password": '"${env:SNOW_PW}"'},
        "refresh_token": {"refresh_token": '"${env:SNOW_RT}"'},
        "client_credentials": {},
        "authorization_code": {"redirect_uri": '"http://127.0.0.1:53682/callback"'},
        "urn:ietf:params:oauth:grant-type:jwt-bearer": {
            "jwt_key_file": '"jwt-private-key.pem"',
            "jwt_subject": '"integration.user"',
        },
        "jwt_bearer": {
            "jwt_key_file": '"jwt-private-key.pem"',
            "jwt_subject": '"integration.user"',
        },
    }[grant]
    base.update(extra)
    for k, v in override.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return list(base.items())


def assert_spans_in_range(a: Analysis) -> None:
    n = len(a.text)
    for f in a.findings:
        assert 0 <= f.start <= f.end <= n, (f.code, f.start, f.end, n, f.message)
        for fix in f.fixes:
            for e in fix.edits:
                assert 0 <= e.start <= e.end <= n, (f.code, fix.title, e)
