"""The VS Code extension's snippets (client-vscode/snippets/), read and expanded as the
editor does when a person accepts one and keeps every default."""

from __future__ import annotations

import json
from pathlib import Path

SNIPPETS = Path(__file__).resolve().parents[2] / "client-vscode" / "snippets" / "snowauth.code-snippets"


def load_snippets(path: Path = SNIPPETS) -> dict[str, dict[str, object]]:
    """The snippets file: name -> {prefix, description, body}."""
    data: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def body_text(snippet: dict[str, object]) -> str:
    """A snippet's body as one string (VS Code joins a list of lines with newlines)."""
    body = snippet["body"]
    return "\n".join(body) if isinstance(body, list) else str(body)


def expand(body: str) -> str:
    """The text VS Code inserts for ``body`` when every placeholder keeps its default:
    ``$1``/``$0`` tab stops vanish, ``${1:default}`` becomes its (expanded) default,
    ``${1|a,b|}`` its first choice, and ``\\$``, ``\\}``, ``\\\\`` their character. Raises
    ValueError on what this reader does not know (variables, transforms), so a snippet
    that would insert something else is not passed silently."""
    text, end = _expand(body, 0, nested=False)
    if end != len(body):
        raise ValueError(f"unbalanced '}}' at {end} in {body!r}")
    return text


def _expand(s: str, i: int, *, nested: bool) -> tuple[str, int]:
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in "$}\\":
            out.append(s[i + 1])
            i += 2
        elif c == "}" and nested:
            return "".join(out), i
        elif c == "$":
            i = _placeholder(s, i + 1, out)
        else:
            out.append(c)
            i += 1
    if nested:
        raise ValueError(f"unclosed placeholder in {s!r}")
    return "".join(out), i


def _placeholder(s: str, i: int, out: list[str]) -> int:
    """After a ``$`` at ``i - 1``: appends what the placeholder inserts, returns the index after it."""
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j > i:  # $1
        return j
    if i >= len(s) or s[i] != "{":
        raise ValueError(f"a variable or a lone '$' at {i - 1} in {s!r}")
    j = i + 1
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i + 1:
        raise ValueError(f"a variable at {i - 1} in {s!r}")
    if s[j] == "}":  # ${1}
        return j + 1
    if s[j] == ":":
        default, k = _expand(s, j + 1, nested=True)
        out.append(default)
        return k + 1
    if s[j] == "|":
        k = s.index("|}", j + 1)
        out.append(s[j + 1 : k].split(",")[0])
        return k + 2
    raise ValueError(f"a transform at {i - 1} in {s!r}")
