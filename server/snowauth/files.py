"""Reading files from disk on the user's behalf: connection files (encodings, BOM), and
the one bounded reader every other file goes through (``.env``, ``${file:}``, keys, CA
bundles); finding connection files in folders."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

SUFFIX = ".snowauth.toml"
MAX_BYTES = 64 * 1024 * 1024
"""Connection files: generous (10,000-connection files are a few MB), but bounded."""
SECRET_MAX_BYTES = 1024 * 1024
"""``.env``, ``${file:}`` secrets, private keys and CA bundles: a few KB in practice."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class RefusedFile(OSError):
    """A file snowauth does not read: not a regular file, or larger than the limit.

    ``reason`` (also ``strerror``, as callers that handle OSError show it) says why: "it
    is a FIFO (named pipe), not a regular file"; ``str()`` names the file too."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.strerror = reason
        self.filename = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"snowauth does not read `{self.filename}`: {self.reason}"


def size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def not_regular(mode: int) -> str:
    return f"it is {kind_of(mode)}, not a regular file"


def too_large(limit: int) -> str:
    return f"it is larger than {size_text(limit)}, the most snowauth reads from such a file"


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_bytes(path: Path, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    A file from an untrusted repository may be a link to ``/dev/zero`` (reads forever), a
    FIFO (an open blocks forever) or a huge file: each is refused with RefusedFile before
    anything is read. The path is examined, then opened without blocking (a FIFO swapped
    in meanwhile does not hang the open) and the open file examined again, so what is read
    is the regular file that was checked. With ``follow_links=False`` a symbolic link is
    refused too (callers resolve and check a link's target first, then read the target).
    Other failures raise OSError (FileNotFoundError, PermissionError...)."""
    st = os.stat(path, follow_symlinks=follow_links)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(st.st_mode):
        raise RefusedFile(path, not_regular(st.st_mode))
    if st.st_size > limit:
        raise RefusedFile(path, too_large(limit))
    flags = _OPEN_FLAGS | getattr(os, "O_NONBLOCK", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:  # a link put there since the stat
            raise RefusedFile(path, "it is a symbolic link") from None
        raise
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode):
            raise RefusedFile(path, not_regular(now.st_mode))
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise RefusedFile(path, "it was replaced while being read: try again")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    if left <= 0:
        raise RefusedFile(path, too_large(limit))
    return b"".join(chunks)


def append_refusal(path: Path, limit: int) -> str | None:
    """Why text must not be appended to ``path``, or None when it may: the file is absent
    (it will be created) or a plain regular file of at most ``limit`` bytes.

    The edit goes to the client, which writes wherever the path leads: through a symbolic
    link (a `.env` linked to `~/.bashrc`) or into a hard link's other names. Refused."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return f"it is a symbolic link (to `{target}`), and snowauth never writes through one"
    if not stat.S_ISREG(st.st_mode):
        return not_regular(st.st_mode)
    if st.st_nlink > 1:
        return "it has other hard links, and snowauth never writes to a file that has"
    if st.st_size > limit:
        return too_large(limit)
    return None


def read_text(path: Path) -> tuple[str, str | None]:
    """The connection file's text (BOM dropped) and, when it is not clean UTF-8, what is
    wrong. RefusedFile when it is not a regular file or is over MAX_BYTES.

    Invalid bytes become U+FFFD so that the rest of the file is still checked."""
    data = read_bytes(path, MAX_BYTES)
    if data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf" * 2):
        data = data[3:]  # TOML allows one BOM (two: left for the scanner to report the second)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), (
            f"The file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "invalid bytes are shown as \ufffd: save the file as UTF-8"
        )


def find_files(paths: Iterable[str]) -> Iterator[Path]:
    """Files named on the command line, and ``*.snowauth.toml`` below named folders.

    Folders linked from inside are not entered (os.walk's default): a link to a parent
    would go round for ever."""
    for name in paths:
        p = Path(name)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
                for f in sorted(files):
                    if f.endswith(SUFFIX):
                        yield Path(root) / f
        else:
            yield p
