"""The token cache: tokens kept in the user's cache folder (``token_store = "cache"``).

One JSON file per instance + client + user (+ trust settings), named by a SHA-256 of them, in
``platformdirs.user_cache_dir("snowauth")`` (or ``$SNOWAUTH_CACHE_DIR``, or the folder
given to :class:`TokenCache`). The folder is private (0700), each file too (0600).
Writes are atomic (a temporary file in the same folder, fsync, ``os.replace``), so a
reader never sees a torn file and, when two processes write at once, the last writer
wins. A corrupt file is ignored (with a warning that shows none of its content) and
replaced by the next save. The I/O blocks: async callers run it in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import platformdirs

from snowauth.tokens import TokenSet

log = logging.getLogger("snowauth.store")

ENV_VAR: Final = "SNOWAUTH_CACHE_DIR"
FORMAT_VERSION: Final = 1
_KEY: Final = re.compile(r"^[0-9a-f]{64}$")


def default_cache_dir() -> Path:
    """``$SNOWAUTH_CACHE_DIR`` when set, else the platform's user cache folder."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("snowauth", appauthor=False))


def cache_key(base_url: str, client_id: str, user: str | None, trust: str = "") -> str:
    """The key (a SHA-256 hex digest) of one instance + client + user, obtained under the
    trust settings ``trust`` (:attr:`snowauth.trust.TrustSettings.fingerprint`; empty for
    the system's CAs).

    The trust settings are part of the key because tokens must never be sent under other
    settings than the ones they were obtained with: a repository's file naming the same
    instance, client and user plus its own ``ca_bundle`` would otherwise pick up the user's
    cached refresh token and send it to an interceptor that bundle trusts."""
    parts = [base_url.rstrip("/"), client_id, user or ""]
    if trust:
        parts.append(trust)
    material = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _datetime(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a date-time")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _optional_text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name} is not a string")


def encode(tokens: TokenSet) -> bytes:
    document = {
        "version": FORMAT_VERSION,
        "access_token": tokens.access_token,
        "token_type": tokens.token_type,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
        "expires_at": _iso(tokens.expires_at),
        "refresh_expires_at": _iso(tokens.refresh_expires_at),
    }
    return json.dumps(document, indent=2).encode("utf-8") + b"\n"


def decode(raw: bytes) -> TokenSet:
    """A TokenSet from a cache file's bytes; ValueError when it is not a valid one."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a snowauth token cache file")
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ValueError("no access token")
    return TokenSet(
        access_token=access_token,
        token_type=_optional_text(data, "token_type") or "Bearer",
        refresh_token=_optional_text(data, "refresh_token"),
        scope=_optional_text(data, "scope"),
        expires_at=_datetime(data.get("expires_at")),
        refresh_expires_at=_datetime(data.get("refresh_expires_at")),
    )


class TokenCache:
    """Tokens by :func:`cache_key`, one private file each."""

    cache_key = staticmethod(cache_key)

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("a token cache key is a SHA-256 hex digest (see cache_key)")
        return self.directory / f"{key}.json"

    def load(self, key: str) -> TokenSet | None:
        """The stored tokens, or None when there are none or the file is corrupt."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("token cache file %s could not be read (%s)", path.name, exc.strerror)
            return None
        try:
            return decode(raw)
        except (ValueError, RecursionError):
            log.warning("token cache file %s is corrupt; ignoring it", path.name)
            return None

    def save(self, key: str, tokens: TokenSet) -> None:
        """Store the tokens atomically (replacing a previous or corrupt file)."""
        path = self.path(key)
        self._ensure_directory()
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)
                handle.write(encode(tokens))
                handle.flush()
                os.fsync(handle.fileno())
            self._replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        self._sync_directory()

    def delete(self, key: str) -> None:
        """Forget the tokens (nothing happens when there are none)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()
        self._sync_directory()

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            with contextlib.suppress(OSError):
                if self.directory.stat().st_mode & 0o077:
                    os.chmod(self.directory, 0o700)

    @staticmethod
    def _replace(source: str, target: Path) -> None:
        # On Windows a reader holding the target open makes os.replace fail for a moment.
        for attempt in range(20):
            try:
                os.replace(source, target)
                return
            except PermissionError:
                if os.name != "nt" or attempt == 19:
                    raise
                time.sleep(0.01 * (attempt + 1))

    def _sync_directory(self) -> None:
        if os.name != "posix":
            return
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
