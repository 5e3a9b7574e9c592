"""Reading connection files from disk: encodings, BOM, and finding them in folders."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

SUFFIX = ".snowauth.toml"
MAX_BYTES = 64 * 1024 * 1024


def read_text(path: Path) -> tuple[str, str | None]:
    """The file's text (BOM dropped) and, when it is not clean UTF-8, what is wrong.

    Invalid bytes become U+FFFD so that the rest of the file is still checked."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), (
            f"The file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "invalid bytes are shown as \ufffd: save the file as UTF-8"
        )


def find_files(paths: Iterable[str]) -> Iterator[Path]:
    """Files named on the command line, and ``*.snowauth.toml`` below named folders."""
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
