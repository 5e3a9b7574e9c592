"""`snowauth fmt`: the editor's Format Document (``formatting``) for files on disk and CI.

Exit status: 0 nothing left to change; 1 with ``--check`` when a file would change; 2
when a file could not be formatted (a syntax error, not UTF-8, unreadable, a link out of
its folder, another hard link) or no connection file was found. Each file is replaced
atomically (a temporary file in its folder, then a rename) and keeps its permissions; a
symbolic link is followed only to a file inside the folder that was named (SECURITY.md).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO

from snowauth import files
from snowauth.formatting import format_text
from snowauth.positions import LineIndex
from snowauth.syntax import parse
from snowauth.terminal import printable

EXIT_CHANGES = 1
EXIT_NOT_FORMATTED = 2


class NotFormatted(Exception):
    """Why a file was left alone."""


def _target(path: Path, root: Path) -> Path:
    """The file to read and replace for ``path``: itself, or the file its link names when
    that lies inside ``root``. NotFormatted when there is none snowauth may write."""
    try:
        st = path.lstat()
    except OSError as exc:
        raise NotFormatted(f"cannot be read: {exc.strerror or exc}") from None
    real = path
    if stat.S_ISLNK(st.st_mode):
        real = path.resolve()
        if not real.is_relative_to(root):
            raise NotFormatted(f"is a symbolic link out of `{root}`, and snowauth never writes through one")
        try:
            st = real.lstat()
        except OSError as exc:
            raise NotFormatted(f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise NotFormatted(files.not_regular(st.st_mode))
    if st.st_nlink > 1:
        raise NotFormatted("has other hard links, and snowauth never writes to a file that has")
    return real


def format_file(path: Path, root: Path, *, align_values: bool, write: bool) -> bool:
    """Format one file (written when ``write``); whether it changed or would change."""
    real = _target(path, root)
    try:
        data = files.read_bytes(real, files.MAX_BYTES, follow_links=False)
    except OSError as exc:
        raise NotFormatted(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotFormatted(f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    parsed = parse(text)
    if parsed.errors:
        first = parsed.errors[0]
        line, col = LineIndex(text).position(first.start)
        raise NotFormatted(f"has a syntax error at {line + 1}:{col + 1}: {first.message}")
    new = format_text(text, align_values=align_values, parsed=parsed)
    if new is None or new == text:
        return False
    if write:
        _replace(real, new, stat.S_IMODE(real.stat().st_mode))
    return True


def _replace(path: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_fmt(
    paths: list[str], *, check: bool, align_values: bool, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    """Format (or with ``check`` only list) the files; the exit status (module docstring).
    Each file that changed, or would, is printed on its own line of ``out``."""
    out, err = out or sys.stdout, err or sys.stderr
    seen = changed = failed = 0
    for name in paths:
        arg = Path(name)
        root = (arg if arg.is_dir() else arg.parent).resolve()
        for path in files.find_files([name]):
            seen += 1
            try:
                if format_file(path, root, align_values=align_values, write=not check):
                    changed += 1
                    out.write(printable(str(path)) + "\n")
            except NotFormatted as exc:
                failed += 1
                print(f"snowauth fmt: {printable(str(path))} {printable(str(exc))}: not formatted", file=err)
            except OSError as exc:
                failed += 1
                print(f"snowauth fmt: {printable(str(path))} cannot be written: {exc.strerror or exc}", file=err)
    if seen == 0:
        where = ", ".join(printable(p) for p in paths)
        print(f"snowauth fmt: no *.snowauth.toml file in {where}", file=err)
        return EXIT_NOT_FORMATTED
    if check and changed:
        print(f"snowauth fmt: {changed} of {seen} files would be reformatted", file=err)
    if failed:
        return EXIT_NOT_FORMATTED
    return EXIT_CHANGES if check and changed else 0
