"""The VS Code extension as the Marketplace and Open VSX get it: `vsce ls` (the real vsce
of client-vscode/node_modules, on a copy of client-vscode/ after its build) lists exactly
what belongs in the .vsix, and `vsce package` packs it with its icon and manifest fields
(docs/decisions.md, Packaging). The universal .vsix holds the server's wheel; each platform's
(`vsce package --target`) holds bundled/ as the real scripts/bundle.py fills it: the server
and every runtime dependency, that platform's native builds only (docs/decisions.md,
"Offline first start")."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.kit.packaging import CLIENT, REPO, VSCE, Dists, build_bundle, extension_copy, host_target, vsce

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


def test_the_schema_script_writes_what_the_server_prints(ext: Path) -> None:
    """`npm run schema` (run by `make vsix`) must leave schema/ byte for byte as `python -m
    snowauth schema` prints it (its `\\u2026` escapes included)."""
    target = ext / "schema" / "snowauth.schema.json"
    target.write_text("{}\n", encoding="utf-8")
    done = subprocess.run(
        ["npm", "run", "-s", "schema"],
        cwd=ext,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = subprocess.run(
        [sys.executable, "-m", "snowauth", "schema"], cwd=REPO, capture_output=True, check=True, timeout=60
    ).stdout
    assert target.read_bytes() == printed
    assert target.read_bytes() == (CLIENT / "schema" / "snowauth.schema.json").read_bytes()


# -- one .vsix per platform ------------------------------------------------------------------

TARGETS = ("linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64")
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# bundled/ of a platform's .vsix, besides SHIPPED
BUNDLED = ("bundled/start.py", "bundled/bundle.json", "bundled/libs/*", "bundled/cp3*/*")
MAX_TARGET_VSIX_BYTES = 20_000_000
# the native parts and the machine code each target's must be
ELF_MACHINE = {"linux-x64": 0x3E, "linux-arm64": 0xB7}
MACHO_CPU = {"darwin-x64": 0x01000007, "darwin-arm64": 0x0100000C}
PE_MACHINE = {"win32-x64": 0x8664}
# dist-info files that ship: importlib.metadata's METADATA and entry points, and licences
DIST_INFO_KEPT = re.compile(r"\.dist-info/(METADATA|entry_points\.txt|.*(LICEN[CS]E|COPYING|NOTICE|AUTHORS).*)$", re.I)


class Built:
    def __init__(self, listed: list[str], vsix: Path, manifest: dict[str, object]) -> None:
        self.listed = listed
        self.vsix = vsix
        self.manifest = manifest


@pytest.fixture(scope="module")
def built(ext: Path, dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each target's .vsix, built on first use: bundled/ filled by scripts/bundle.py (the wheels
    from PyPI), listed by `vsce ls --target` and packed by `vsce package --target`."""
    return {}


def build_target(target: str, ext: Path, dists: Dists, built: dict[str, Built], out_dir: Path) -> Built:
    if target not in built:
        bundled = ext / "bundled"
        shutil.rmtree(bundled)
        try:
            build_bundle(bundled, target, dists.wheel)
            listed = vsce(ext, "ls", "--no-dependencies")  # vsce ls has no --target: the files are the same
            assert listed.returncode == 0, listed.stderr
            vsix = out_dir / f"snowauth-{target}.vsix"
            done = vsce(ext, "package", "--no-dependencies", "--target", target, "-o", str(vsix))
            assert done.returncode == 0, done.stdout + done.stderr
            manifest = json.loads((bundled / "bundle.json").read_text(encoding="utf-8"))
            with zipfile.ZipFile(vsix) as z:  # what vsce ls listed is what the package holds
                packed = sorted(
                    n.removeprefix("extension/") for n in z.namelist() if n.startswith("extension/bundled/")
                )
            assert packed == sorted(f for f in listed.stdout.split() if f.startswith("bundled/"))
            with zipfile.ZipFile(vsix) as z:
                vsix_manifest = z.read("extension.vsixmanifest").decode("utf-8")
            assert f'TargetPlatform="{target}"' in vsix_manifest
        finally:  # the universal tests above expect bundled/ to hold the wheel alone
            shutil.rmtree(bundled, ignore_errors=True)
            bundled.mkdir()
            shutil.copy2(dists.wheel, bundled / dists.wheel.name)
        built[target] = Built(listed.stdout.split(), vsix, manifest)
    return built[target]


@pytest.fixture(params=TARGETS)
def target(
    request: pytest.FixtureRequest,
    ext: Path,
    dists: Dists,
    built: dict[str, Built],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Built]:
    name: str = request.param
    return name, build_target(name, ext, dists, built, tmp_path_factory.getbasetemp())


def test_a_platform_vsix_lists_what_belongs_and_nothing_else(target: tuple[str, Built], dists: Dists) -> None:
    name, b = target
    patterns = [*SHIPPED, *BUNDLED]
    unexpected = [f for f in b.listed if not any(fnmatch.fnmatchcase(f, p) for p in patterns)]
    assert unexpected == []
    missing = [p for p in patterns if not any(fnmatch.fnmatchcase(f, p) for f in b.listed)]
    assert missing == []
    assert [f for f in b.listed if fnmatch.fnmatchcase(f, "bundled/*.whl")] == [
        "bundled/snowauth-0.1.0-py3-none-any.whl"
    ]
    for f in b.listed:
        parts = f.split("/")
        assert "__pycache__" not in parts and "tests" not in parts, f
        assert not f.endswith((".pyc", ".pyo", ".pyi", "py.typed", ".map", ".ts", ".vsix")), f
        assert not f.startswith(("src/", "test/", "node_modules/", "scripts/", "python/")), f
        if ".dist-info/" in f:
            assert DIST_INFO_KEPT.search(f), f
    assert b.manifest["target"] == name and b.manifest["pythons"] == list(PYTHONS)
    for python in PYTHONS:
        assert f"bundled/cp{python.replace('.', '')}/pydantic_core/__init__.py" in b.listed


def test_a_platform_vsix_holds_every_dependency(target: tuple[str, Built], dists: Dists) -> None:
    """pyproject.toml's [project] dependencies, each in libs/ or in every cp3XX/, with the
    dependencies the target's own markers select (keyring's SecretStorage on Linux,
    pywin32-ctypes on Windows)."""
    import tomllib

    name, b = target
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    projects = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower().replace("-", "_") for d in dependencies}
    assert {"pygls", "lsprotocol", "httpx", "cryptography", "pydantic", "keyring", "truststore"} <= projects

    def dists_in(folder: str) -> set[str]:
        found = set()
        for f in b.listed:
            m = re.match(rf"bundled/{folder}/([^/]+)-[^-/]+\.dist-info/METADATA$", f)
            if m:
                found.add(m.group(1).lower().replace("-", "_").replace(".", "_"))
        return found

    shared = dists_in("libs")
    for python in PYTHONS:
        here = shared | dists_in(f"cp{python.replace('.', '')}")
        assert projects | {"snowauth", "pydantic_core", "cffi"} <= here, python
        assert ("secretstorage" in here) == name.startswith("linux")
        assert ("jeepney" in here) == name.startswith("linux")
        assert ("pywin32_ctypes" in here) == name.startswith("win32")


def test_a_platform_vsix_holds_its_own_native_builds_only(target: tuple[str, Built]) -> None:
    name, b = target
    size = b.vsix.stat().st_size
    print(f"\n{b.vsix.name}: {size / 1e6:.1f} MB")
    assert size < MAX_TARGET_VSIX_BYTES
    with zipfile.ZipFile(b.vsix) as z:
        native = {n: z.read(n) for n in z.namelist() if n.endswith((".so", ".pyd", ".dylib", ".dll"))}
    assert native
    for member, data in native.items():
        if name in ELF_MACHINE:
            assert member.endswith(".so") and data[:4] == b"\x7fELF", member
            assert struct.unpack("<H", data[18:20])[0] == ELF_MACHINE[name], member
        elif name in MACHO_CPU:
            assert member.endswith(".so"), member
            assert macho_cpus(data) == {MACHO_CPU[name]}, member  # a universal2 build thinned to the target
        else:
            assert member.endswith(".pyd") and data[:2] == b"MZ", member
            pe = struct.unpack("<I", data[0x3C:0x40])[0]
            assert data[pe : pe + 4] == b"PE\0\0" and struct.unpack("<H", data[pe + 4 : pe + 6])[0] == PE_MACHINE[name]
    for python in PYTHONS:
        tag = python.replace(".", "")
        own = [m for m in native if f"/bundled/cp{tag}/pydantic_core/" in m]
        assert len(own) == 1 and (f"cpython-{tag}" in own[0] or f"cp{tag}" in own[0]), own
    assert any("/bundled/libs/cryptography/hazmat/bindings/_rust" in m for m in native)


def macho_cpus(data: bytes) -> set[int]:
    if data[:4] == b"\xcf\xfa\xed\xfe":  # thin, 64-bit little-endian
        return {struct.unpack("<I", data[4:8])[0]}
    assert data[:4] == b"\xca\xfe\xba\xbe", "not a Mach-O file"  # fat (universal2), big-endian
    count = struct.unpack(">I", data[4:8])[0]
    return {struct.unpack(">I", data[8 + 20 * i : 12 + 20 * i])[0] for i in range(count)}


def test_this_machines_vsix_runs_its_bundle_isolated(
    ext: Path, dists: Dists, built: dict[str, Built], tmp_path: Path
) -> None:
    """The .vsix of this machine, unpacked as VS Code installs it: the launcher loads the native
    parts and snowauth with this Python, from the bundle only."""
    name = host_target()
    if name is None or f"{sys.version_info[0]}.{sys.version_info[1]}" not in PYTHONS:
        pytest.skip("no .vsix for this machine or Python")
    b = build_target(name, ext, dists, built, tmp_path)
    with zipfile.ZipFile(b.vsix) as z:
        z.extractall(tmp_path / "installed")
    start = tmp_path / "installed" / "extension" / "bundled" / "start.py"
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(start), "--check"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"snowauth {dists.metadata()['Version']} on Python 3.")
