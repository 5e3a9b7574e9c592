"""Hosts the user has agreed to send credentials to.

A connection file is untrusted input: a repository's file may point `instance` at an
attacker's host to collect `${env:…}` secrets or a typed password. So the first time
credentials would go to a host, snowauth asks (the editor shows the host in a dialog,
the CLI asks on the terminal) and remembers the answer here. Loopback hosts (this
machine: the emulator, a local proxy) need no confirmation.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from snowauth.instance import is_loopback_host

CONFIG_VARIABLE = "SNOWAUTH_CONFIG_DIR"
TRUSTED_VARIABLE = "SNOWAUTH_TRUSTED_HOSTS"  # comma-separated origins or host names, for automation


def origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_VARIABLE)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("snowauth"))


class KnownHosts:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / "trusted-hosts.json"

    def _load(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [h for h in data.get("hosts", []) if isinstance(h, str)] if isinstance(data, dict) else []

    def trusted(self, base_url: str) -> bool:
        o = origin(base_url)
        host = urlsplit(base_url).hostname or ""
        if is_loopback_host(host):
            return True
        listed = {x.strip().lower() for x in os.environ.get(TRUSTED_VARIABLE, "").split(",") if x.strip()}
        return o in self._load() or o in listed or host.lower() in listed

    def remember(self, base_url: str) -> None:
        hosts = self._load()
        o = origin(base_url)
        if o in hosts:
            return
        hosts.append(o)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".trusted-hosts.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"hosts": sorted(hosts)}, handle, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def question(connection: str, base_url: str) -> str:
    return (
        f"Send the credentials of connection “{connection}” to {origin(base_url)}? "
        "snowauth has not sent credentials to this host before. Only continue if you trust "
        "this file and know the instance."
    )
