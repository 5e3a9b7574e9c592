"""The OS keychain: tokens (``token_store = "keyring"``) and remembered ``${prompt}``
answers (``remember_prompts = "keyring"``) kept in the system's credential store.

Through the ``keyring`` package (macOS Keychain, Windows Credential Locker, the Secret
Service on Linux, or the backend ``PYTHON_KEYRING_BACKEND`` / keyring's own config
names). It is imported at the first use, never at start: ``snowauth check`` and the
language server's start do not load it (``tests/perf/test_startup.py``).

Entries live under the service :data:`SERVICE`; a token is the user name
``token:<cache key>`` (the same key as the token cache, :func:`snowauth.store.cache_key`:
instance + client + user + trust settings), its value the token cache's JSON; a remembered
answer is ``prompt:<cache key>:<key>``. A machine without a keychain backend raises
:class:`KeychainUnavailable`, whose message says so and suggests ``token_store = "cache"``.
The calls block: async callers run them in a thread.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Final

from snowauth import redact
from snowauth.store import _KEY, decode, encode

if TYPE_CHECKING:
    from types import ModuleType

    from snowauth.tokens import TokenSet

log = logging.getLogger("snowauth.keychain")

SERVICE: Final = "snowauth"


class KeychainUnavailable(Exception):
    """No keychain to use (no backend, or it refused); the message says what to do and
    holds no secret."""


def _unavailable(what: str) -> KeychainUnavailable:
    return KeychainUnavailable(
        f"The system keychain is not available ({what}). Install and unlock a keychain "
        '(the Secret Service on Linux: GNOME Keyring or KWallet), or use `token_store = "cache"` '
        "(tokens in your private cache folder)"
    )


def _keyring() -> ModuleType:
    """The ``keyring`` package with a usable backend, imported now (lazily)."""
    try:
        import keyring
        import keyring.backends.fail
    except ImportError:
        raise _unavailable("the Python package `keyring` is not installed") from None
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise _unavailable("no keyring backend was found on this machine")
    return keyring


def _call(what: str, run: object) -> object:
    import keyring.errors

    assert callable(run)
    try:
        return run()
    except keyring.errors.NoKeyringError:
        raise _unavailable("no keyring backend was found on this machine") from None
    except keyring.errors.KeyringLocked:
        raise _unavailable("the keychain is locked: unlock it and try again") from None
    except keyring.errors.KeyringError as exc:
        raise _unavailable(f"{what} failed: {type(exc).__name__}") from None


def _token_user(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("a keychain token key is a SHA-256 hex digest (see store.cache_key)")
    return f"token:{key}"


class TokenKeychain:
    """Tokens by :func:`snowauth.store.cache_key`, one keychain entry each (the same
    interface as :class:`snowauth.store.TokenCache`)."""

    def load(self, key: str) -> TokenSet | None:
        """The stored tokens, or None when there are none or the entry is corrupt."""
        kr = _keyring()
        raw = _call("reading the token", lambda: kr.get_password(SERVICE, _token_user(key)))
        if raw is None:
            return None
        assert isinstance(raw, str)
        try:
            tokens = decode(raw.encode("utf-8"))
        except (ValueError, RecursionError):
            log.warning("the keychain entry of a token is corrupt; ignoring it")
            return None
        redact.register(tokens.access_token, tokens.refresh_token)
        return tokens

    def save(self, key: str, tokens: TokenSet) -> None:
        kr = _keyring()
        text = encode(tokens).decode("utf-8")
        _call("storing the token", lambda: kr.set_password(SERVICE, _token_user(key), text))

    def delete(self, key: str) -> None:
        """Forget the tokens (nothing happens when there are none)."""
        import keyring.errors

        kr = _keyring()

        def run() -> None:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):  # no entry
                kr.delete_password(SERVICE, _token_user(key))

        _call("removing the token", run)


def _answer_user(key: str, name: str) -> str:
    _token_user(key)
    return f"prompt:{key}:{name}"


def remembered(key: str, name: str) -> str | None:
    """The remembered answer to the `${prompt}` of ``name`` for the connection keyed ``key``."""
    kr = _keyring()
    value = _call("reading a remembered answer", lambda: kr.get_password(SERVICE, _answer_user(key, name)))
    if isinstance(value, str) and value:
        redact.register(value)
        return value
    return None


def remember(key: str, name: str, value: str) -> None:
    kr = _keyring()
    _call("remembering the answer", lambda: kr.set_password(SERVICE, _answer_user(key, name), value))


def forget(key: str, name: str) -> None:
    import keyring.errors

    kr = _keyring()

    def run() -> None:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):  # no entry
            kr.delete_password(SERVICE, _answer_user(key, name))

    _call("forgetting the answer", run)
