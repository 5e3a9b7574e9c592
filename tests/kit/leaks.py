"""Looking for leaked secrets: everything a language client was shown (its messages and log
messages, with whatever else a test collected: the server's log, results, progress reports,
prompts) as one text, and the assertion that no secret value is in it. A leak is reported by
its length, never quoted (the test's output is a place a secret must not reach either)."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_lsp import LanguageClient


def shown(client: LanguageClient, *collected: object) -> str:
    """What ``collected`` holds (texts as they are, anything else by its repr) followed by
    every message and log message the client received."""
    parts = [c if isinstance(c, str) else repr(c) for c in collected]
    parts += [repr(m) for m in client.messages]
    parts += [repr(m) for m in client.log_messages]
    return "\n".join(parts)


def assert_absent(text: str, values: Iterable[str], what: str = "a secret") -> None:
    """None of ``values`` (each non-empty) appears in ``text``."""
    for value in values:
        assert value, f"{what}: an empty value cannot be looked for"
        assert value not in text, f"{what} leaked ({len(value)} characters)"
