"""What the user agreed to before credentials leave the machine.

A connection file is untrusted input: a repository's file may point `instance` at an
attacker's host to collect `${env:…}` secrets or a typed password. So the first time
credentials would go to an address, snowauth asks (the editor shows a dialog, the CLI asks
on the terminal) and remembers the answer in ``trusted-hosts.json`` in the user's config
folder.

What is confirmed is the origin (scheme://host:port) *and* the trust settings that decide
which server is accepted there: a ``ca_bundle`` from the file makes its certificate
authorities trusted, so an interceptor they sign can read everything sent to a host the
user trusts. A confirmation given with the system's CAs does not cover a bundle; a bundle
is confirmed by its resolved path and the SHA-256 of its content, and tokens cached under
one set of trust settings are never used under another (:attr:`TrustSettings.fingerprint`
is part of the token cache key).

Loopback addresses are not exempt as such: another account on this machine can listen on
127.0.0.1. Only the emulator the user started is: ``snowauth emulator`` registers its
origin and process id in the user's config folder (``emulators/``, 0600 files in 0700
folders, which no other account can write) and removes the registration when it stops. A
registration counts while that process is alive and (where ``/proc`` tells) the listening
socket on that port belongs to it, so a registration left behind by a killed emulator does
not cover whoever takes the port next. Any other loopback port is asked for once, like any
host.

Every question starts with the origin, alone on its first line, before any text from the
file; text from the file is shown through :func:`snowauth.terminal.printable` and cut short,
so a connection name cannot rewrite the question or push the host out of sight.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from snowauth.instance import is_loopback_host
from snowauth.terminal import printable

CONFIG_VARIABLE = "SNOWAUTH_CONFIG_DIR"
TRUSTED_VARIABLE = "SNOWAUTH_TRUSTED_HOSTS"  # comma-separated origins or host names, for automation
EMULATORS_FOLDER = "emulators"
MAX_CA_BUNDLE_BYTES = 4 << 20  # certifi's whole bundle is about 300 KiB
NAME_LIMIT = 80  # characters of a connection name shown in a question
PATH_LIMIT = 160  # characters of a path shown in a question


class TrustError(Exception):
    """The trust settings cannot be read; the message says what to fix (no secret)."""


def origin(base_url: str) -> str:
    """``scheme://host:port`` of a URL (the port always written, IPv6 in brackets)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_VARIABLE)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("snowauth"))


def shown(text: str, limit: int, *, keep_end: bool = False) -> str:
    """Untrusted text as it may appear in a question: escaped, at most ``limit`` characters."""
    safe = printable(text)
    if len(safe) <= limit:
        return safe
    return "…" + safe[-(limit - 1) :] if keep_end else safe[: limit - 1] + "…"


# -- trust settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustSettings:
    """What, besides the address, decides who can read the credentials: the extra
    certificate authorities of a ``ca_bundle`` (its resolved path and content hash)."""

    ca_bundle: str | None = None
    ca_sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        """Empty for the system's CAs; else a digest of the bundle's path and content."""
        if self.ca_bundle is None:
            return ""
        import hashlib  # (here and below: at their use; most runs that load this module need neither)

        material = json.dumps(["ca_bundle", self.ca_bundle, self.ca_sha256], separators=(",", ":"))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def describe(self) -> str:
        """How the settings are named to the user (path shown escaped and shortened)."""
        if self.ca_bundle is None:
            return "the system's certificate authorities"
        digest = (self.ca_sha256 or "")[:16]
        return f"the CA bundle {shown(self.ca_bundle, PATH_LIMIT, keep_end=True)} (SHA-256 {digest}…)"

    def record(self, base_url: str) -> dict[str, str | None]:
        return {"origin": origin(base_url), "ca_bundle": self.ca_bundle, "sha256": self.ca_sha256}


SYSTEM_TRUST = TrustSettings()


def ca_bundle_settings(path: Path) -> TrustSettings:
    """Trust settings of a ``ca_bundle`` file: its real path and the SHA-256 of its bytes,
    read once (a regular file of at most 4 MiB; a FIFO or a device is refused, never
    waited on). TrustError says what is wrong."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or "it cannot be resolved"
        raise TrustError(f"cannot read the CA bundle `{shown(str(path), PATH_LIMIT)}` ({reason})") from None
    name = shown(str(real), PATH_LIMIT, keep_end=True)
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise TrustError(f"cannot read the CA bundle `{name}` ({exc.strerror or 'unreadable'})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TrustError(f"the CA bundle `{name}` is not a regular file: point ca_bundle at a PEM file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CA_BUNDLE_BYTES:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise TrustError(f"cannot read the CA bundle `{name}` ({exc.strerror or 'unreadable'})") from None
    finally:
        os.close(fd)
    if size > MAX_CA_BUNDLE_BYTES:
        raise TrustError(f"the CA bundle `{name}` is larger than 4 MiB: point ca_bundle at a PEM file of CAs")
    import hashlib

    return TrustSettings(str(real), hashlib.sha256(b"".join(chunks)).hexdigest())


# -- the emulator the user started -----------------------------------------------------------------


def _emulator_path(directory: Path, base_url: str) -> Path:
    return directory / EMULATORS_FOLDER / (re.sub(r"[^A-Za-z0-9.-]", "_", origin(base_url)) + ".json")


def _write_private(path: Path, data: dict[str, Any]) -> None:
    import tempfile

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def register_emulator(base_url: str, directory: Path | None = None) -> None:
    """Record that this process serves the user's emulator at ``base_url`` (loopback only)."""
    if not is_loopback_host(urlsplit(base_url).hostname or ""):
        return
    path = _emulator_path(directory or config_dir(), base_url)
    _write_private(path, {"origin": origin(base_url), "pid": os.getpid()})


def unregister_emulator(base_url: str, directory: Path | None = None) -> None:
    """Remove this process's registration of ``base_url`` (another process's stays)."""
    path = _emulator_path(directory or config_dir(), base_url)
    data = _read_registration(path)
    if data is not None and data.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def local_emulator(base_url: str, directory: Path | None = None) -> Iterator[None]:
    """Register an emulator started by this process while the block runs."""
    register_emulator(base_url, directory)
    try:
        yield
    finally:
        unregister_emulator(base_url, directory)


def _read_registration(path: Path) -> dict[str, Any] | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 4096:
            return None
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
            return None  # only the user can have written it
        data = json.loads(os.read(fd, 4096))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else None


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there; no cheap check without it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process has that number now
        return False
    return True


_SOCK_DIAG = 4  # NETLINK_SOCK_DIAG
_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_TCP_LISTEN = 10


def _listening_sockets(port: int) -> set[str] | None:
    """``socket:[inode]`` of every listening TCP socket on ``port``; None when the kernel
    does not tell. Asked of the kernel's socket diagnostics (netlink), which list only
    the listening sockets (~0.1 ms); ``/proc/net/tcp`` walks every socket table of the
    machine (1.5 ms each of its two files, a third of a token fetch: docs/performance.md),
    and is read only where netlink is not there."""
    found = _listening_netlink(port)
    return found if found is not None else _listening_proc(port)


def _listening_netlink(port: int) -> set[str] | None:
    import socket
    import struct

    family = getattr(socket, "AF_NETLINK", None)
    if family is None:
        return None
    found: set[str] = set()
    try:
        with socket.socket(family, socket.SOCK_DGRAM, _SOCK_DIAG) as s:
            s.settimeout(1.0)
            for inet in (socket.AF_INET, socket.AF_INET6):
                # inet_diag_req_v2: family, protocol, ext, pad, states; then an empty
                # inet_diag_sockid (ports, addresses, interface, cookie: a dump ignores it)
                req = struct.pack("=BBBxI", inet, socket.IPPROTO_TCP, 0, 1 << _TCP_LISTEN) + bytes(48)
                s.send(struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 0x301, 1, 0) + req)
                done = False  # flags: NLM_F_REQUEST | NLM_F_DUMP
                while not done:
                    data = s.recv(1 << 16)
                    if not data:
                        return None
                    at = 0
                    while at + 16 <= len(data):
                        length, kind = struct.unpack_from("=IH", data, at)
                        if kind == _NLMSG_DONE:
                            done = True
                            break
                        if kind == _NLMSG_ERROR or length < 16 + 72:
                            return None
                        # inet_diag_msg: 4 bytes, the socket id (source port first), then
                        # expires, queues, uid and the inode, at 68
                        (sport,) = struct.unpack_from(">H", data, at + 16 + 4)
                        (inode,) = struct.unpack_from("=I", data, at + 16 + 68)
                        if sport == port:
                            found.add(f"socket:[{inode}]")
                        at += (length + 3) & ~3
    except (OSError, struct.error):
        return None
    return found


def _listening_proc(port: int) -> set[str] | None:
    found: set[str] = set()
    seen_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        seen_table = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A: LISTEN
                continue
            with contextlib.suppress(ValueError):
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(f"socket:[{fields[9]}]")
    return found if seen_table else None


def _serves(pid: int, port: int) -> bool:
    """Whether the process ``pid`` holds every socket listening on ``port`` (where /proc
    tells; elsewhere, whether it is alive)."""
    if not _alive(pid):
        return False
    sockets = _listening_sockets(port)
    if sockets is None:
        return True
    if not sockets:
        return False
    try:
        held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    return sockets <= held


def emulator_running(base_url: str, directory: Path | None = None) -> bool:
    """Whether ``base_url`` is a loopback origin served now by the emulator the user started."""
    parts = urlsplit(base_url)
    if not is_loopback_host(parts.hostname or ""):
        return False
    data = _read_registration(_emulator_path(directory or config_dir(), base_url))
    if data is None or data.get("origin") != origin(base_url):
        return False
    pid = data.get("pid")
    port = int(origin(base_url).rsplit(":", 1)[1])
    return isinstance(pid, int) and pid > 0 and _serves(pid, port)


# -- confirmations ---------------------------------------------------------------------------------


class KnownHosts:
    """The confirmations given: origins (with the system's CAs) and origin + CA bundle pairs."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or config_dir()
        self.path = self.directory / "trusted-hosts.json"

    def _load(self) -> tuple[list[str], list[dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return [], []
        if not isinstance(data, dict):
            return [], []
        hosts = [h for h in data.get("hosts", []) if isinstance(h, str)]
        bundles = [b for b in data.get("ca_bundles", []) if isinstance(b, dict)]
        return hosts, bundles

    def trusted(self, base_url: str, settings: TrustSettings = SYSTEM_TRUST) -> bool:
        """Whether credentials may go to ``base_url`` under ``settings`` without asking."""
        if emulator_running(base_url, self.directory):
            return True  # the user's own emulator: no interceptor can sit on that path
        o = origin(base_url)
        hosts, bundles = self._load()
        if settings.ca_bundle is not None:
            return settings.record(base_url) in bundles  # $SNOWAUTH_TRUSTED_HOSTS covers no bundle
        host = (urlsplit(base_url).hostname or "").lower()
        listed = {x.strip().lower() for x in os.environ.get(TRUSTED_VARIABLE, "").split(",") if x.strip()}
        return o in hosts or o in listed or host in listed

    def remember(self, base_url: str, settings: TrustSettings = SYSTEM_TRUST) -> None:
        hosts, bundles = self._load()
        if settings.ca_bundle is None:
            o = origin(base_url)
            if o in hosts:
                return
            hosts.append(o)
        else:
            entry = settings.record(base_url)
            if entry in bundles:
                return
            bundles.append(entry)
        data: dict[str, Any] = {"hosts": sorted(hosts)}
        if bundles:
            data["ca_bundles"] = bundles
        _write_private(self.path, data)


def question(connection: str, base_url: str, settings: TrustSettings = SYSTEM_TRUST) -> str:
    """The confirmation: the origin alone on the first line, then what would happen."""
    lines = [
        origin(base_url),
        f"SnowAuth would send the credentials of connection “{shown(connection, NAME_LIMIT)}” to this "
        "address; it has not sent credentials there before"
        + (" with this CA bundle." if settings.ca_bundle is not None else "."),
    ]
    if settings.ca_bundle is not None:
        lines.append(
            f"It would trust {settings.describe()} for it: whoever holds a key these authorities "
            "signed can read what is sent."
        )
    lines.append("Only continue if you trust this file and know the instance.")
    return "\n".join(lines)


def refusal(base_url: str, settings: TrustSettings = SYSTEM_TRUST) -> str:
    """Why nothing was sent when the user did not confirm."""
    extra = f" with {settings.describe()}" if settings.ca_bundle is not None else ""
    return f"Nothing was sent: sending to {origin(base_url)}{extra} was not confirmed"
