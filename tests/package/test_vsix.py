"""The VS Code extension as the Marketplace and Open VSX get it: `vsce ls` (the real vsce
of client-vscode/node_modules, on a copy of client-vscode/ after its build) lists exactly
what belongs in the .vsix, and `vsce package` packs it with its icon and manifest fields
(docs/decisions.md, Packaging)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.kit.packaging import CLIENT, VSCE, Dists, extension_copy, vsce

NODE = shutil.which("node")
pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        NODE is None or not VSCE.exists(),
        reason="needs node and client-vscode/node_modules (cd client-vscode && npm ci)",
    ),
]

# what the .vsix holds: each pattern must match at least one file, and every file one pattern
SHIPPED = {
    "package.json": "the manifest",
    "README.md": "the Marketplace page",
    "CHANGELOG.md": "the Marketplace's Changelog tab",
    "LICENSE": "MIT; Open VSX refuses an extension without one",
    "language-configuration.json": "comments, brackets of snowauth-toml",
    "syntaxes/*.tmLanguage.json": "the grammar",
    "schema/*.schema.json": "the JSON schema (contributes.tomlValidation)",
    "dist/extension.js": "the extension, bundled and minified by esbuild (no source map)",
    "bundled/snowauth-*-py3-none-any.whl": "the language server, installed into a private venv",
    "images/icon.png": "the icon",
    "images/screenshot.png": "the README's first screen",
    "images/completion.png": "the README",
    "images/walkthrough.png": "the README (the Get started walkthrough)",
    "images/inlay_hints.png": "the README (inlay hints, the Application Registry link)",
    "walkthrough/*.md": "the Get started walkthrough's steps",
    "snippets/*.code-snippets": "the snippets per grant",
}
MAX_VSIX_BYTES = 1_500_000


@pytest.fixture(scope="module")
def ext(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extension_copy(tmp_path_factory.mktemp("vsix"), dists.wheel)


def test_vsce_ls_lists_exactly_what_belongs(ext: Path) -> None:
    done = vsce(ext, "ls", "--no-dependencies")
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split()
    unexpected = [f for f in listed if not any(fnmatch.fnmatchcase(f, p) for p in SHIPPED)]
    assert unexpected == []
    missing = [p for p in SHIPPED if not any(fnmatch.fnmatchcase(f, p) for f in listed)]
    assert missing == []
    assert len([f for f in listed if f.startswith("bundled/")]) == 1
    for f in listed:  # nothing of the sources, the tests or the tooling
        assert not f.startswith(("src/", "test/", "node_modules/", "scripts/", "out/"))
        assert not f.endswith((".map", ".ts", ".vsix"))


def test_vsce_packages_a_small_vsix_with_its_icon_and_gallery_fields(ext: Path, tmp_path: Path) -> None:
    out = tmp_path / "snowauth.vsix"
    done = vsce(ext, "package", "--no-dependencies", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    size = out.stat().st_size
    print(f"\n.vsix: {size / 1024:.0f} KiB")
    assert size < MAX_VSIX_BYTES
    with zipfile.ZipFile(out) as z:
        manifest = z.read("extension.vsixmanifest").decode("utf-8")
        icon = z.read("extension/images/icon.png")
        package = json.loads(z.read("extension/package.json"))
    assert 'Type="Microsoft.VisualStudio.Services.Icons.Default" Path="extension/images/icon.png"' in manifest
    assert '<Property Id="Microsoft.VisualStudio.Services.Content.Pricing" Value="Free"/>' in manifest
    assert '<Property Id="Microsoft.VisualStudio.Services.Branding.Theme" Value="dark" />' in manifest
    assert "<License>extension/LICENSE.txt</License>" in manifest
    assert "Python 3.11" in package["description"]
    assert package["icon"] == "images/icon.png"
    # Open VSX: the publisher is the namespace; a license, a repository and engines.vscode
    assert package["publisher"] and package["license"] == "MIT"
    assert package["repository"]["url"].startswith("https://") and package["engines"]["vscode"].startswith("^")
    assert {"Programming Languages", "Linters"} <= set(package["categories"])
    assert {"servicenow", "oauth", "toml"} <= set(package["keywords"])
    assert _png_size(icon) == (128, 128)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_icon_is_what_its_script_draws(tmp_path: Path) -> None:
    drawn = tmp_path / "icon.png"
    subprocess.run([sys.executable, str(CLIENT / "scripts" / "icon.py"), str(drawn)], check=True, capture_output=True)
    assert drawn.read_bytes() == (CLIENT / "images" / "icon.png").read_bytes()
    assert _png_size(drawn.read_bytes()) == (128, 128)
