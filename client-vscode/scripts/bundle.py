"""Fills client-vscode/bundled/ for one .vsix target (`make vsix`, `npm run package`).

    python scripts/bundle.py TARGET [--wheel snowauth-*.whl] [--out DIR] [--pythons 3.11,3.12,3.13,3.14]

TARGET is `universal` (the server's wheel only: the extension installs it into a private venv, its
dependencies from PyPI) or one of TARGETS: then bundled/ also holds every runtime dependency of the
wheel (pyproject.toml's [project] dependencies and theirs), unpacked, for that platform:

    bundled/snowauth-<v>-py3-none-any.whl   the fallback (private venv) when no bundled build fits
    bundled/start.py                        the launcher (client-vscode/python/start.py)
    bundled/bundle.json                     target, platform, arch, the Python versions it serves
    bundled/libs/                           snowauth and what every bundled Python version shares
    bundled/cp311/ … cp314/                 what one Python version needs (pydantic-core, cffi, …)

The wheels come from PyPI with `pip download --only-binary=:all: --platform … --python-version …
--implementation cp` (the build may download; the extension never does), and are unpacked, not
installed, so any platform's bundle can be built on this machine. pip evaluates environment markers
(`sys_platform == "win32"`) against the machine it runs on, so the closure is computed again here
with the target's markers: what the target needs and pip left out is downloaded (`--no-deps`), what
it does not need is dropped. A universal2 macOS binary keeps the target's slice only. Nothing of
a wheel but its code, its data and its licences ships: no __pycache__, .pyc, type stubs, tests,
RECORD or long descriptions (docs/decisions.md, "Offline first start").
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # the build Python's pip carries it
    from pip._vendor.packaging.markers import default_environment  # type: ignore[no-redef, assignment, unused-ignore]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef, assignment, unused-ignore]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef, assignment, unused-ignore]

EXTENSION = Path(__file__).resolve().parents[1]
REPO = EXTENSION.parent
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# glibc 2.28 (RHEL 8, Debian 10, Ubuntu 20.04) is the oldest Linux served; pip does not widen a
# manylinux_2_28 tag to older ones by itself, so every tag up to it is named.
MANYLINUX = ("manylinux2014", *(f"manylinux_2_{n}" for n in range(17, 29)))


@dataclass(frozen=True)
class Target:
    name: str  # vsce's --target
    platform: str  # node's process.platform
    arch: str  # node's process.arch
    pip_platforms: tuple[str, ...]
    markers: dict[str, str]  # PEP 508 environment of the target (python_version added per version)
    macho_cpu: int | None = None  # macOS: the slice kept of a universal2 binary (lipo -thin)


TARGETS = {
    t.name: t
    for t in (
        Target(
            "linux-x64",
            "linux",
            "x64",
            tuple(f"{m}_x86_64" for m in MANYLINUX),
            {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
        ),
        Target(
            "linux-arm64",
            "linux",
            "arm64",
            tuple(f"{m}_aarch64" for m in MANYLINUX),
            {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"},
        ),
        Target(
            "darwin-x64",
            "darwin",
            "x64",
            ("macosx_11_0_x86_64", "macosx_10_12_x86_64", "macosx_10_9_universal2"),
            {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
            0x01000007,
        ),
        Target(
            "darwin-arm64",
            "darwin",
            "arm64",
            ("macosx_11_0_arm64", "macosx_10_9_universal2"),
            {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
            0x0100000C,
        ),
        Target(
            "win32-x64",
            "win32",
            "x64",
            ("win_amd64",),
            {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
        ),
    )
}

# what is left out of every unpacked wheel
SKIPPED_PARTS = {"__pycache__", "tests", "test"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")
SKIPPED_NAMES = {"py.typed"}
# what stays of a *.dist-info folder: importlib.metadata's METADATA (headers only) and entry points
# (keyring finds its backends through them), and the licences
KEPT_DIST_INFO = {"METADATA", "entry_points.txt"}
LICENSE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        noise = "WARNING: Location"
        output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith(noise))
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{output[-3000:]}")


def build_wheel(out: Path) -> Path:
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ]
    )
    (wheel,) = out.glob("snowauth-*.whl")
    return wheel


def wheel_metadata(wheel: Path) -> tuple[str, list[str]]:
    """A wheel's project name and its Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        text = z.read(name).decode("utf-8")
    headers = text.split("\n\n", 1)[0].splitlines()
    project = next(h.split(":", 1)[1].strip() for h in headers if h.startswith("Name:"))
    requires = [h.split(":", 1)[1].strip() for h in headers if h.startswith("Requires-Dist:")]
    return project, requires


def pip_download(target: Target, python: str, dest: Path, requirements: list[str], *, deps: bool) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--only-binary=:all:"]
    for p in target.pip_platforms:
        cmd += ["--platform", p]
    cmd += ["--python-version", python, "--implementation", "cp", "-d", str(dest)]
    if not deps:
        cmd.append("--no-deps")
    run(cmd + requirements)


def closure(target: Target, python: str, root: Path, folder: Path) -> list[Path]:
    """The wheels in ``folder`` that ``root`` needs on the target, downloading what pip's own
    marker evaluation left out."""
    env: dict[str, str] = {
        **{key: str(value) for key, value in default_environment().items()},
        **target.markers,
        "python_version": python,
        "python_full_version": f"{python}.0",
    }
    env.update(implementation_name="cpython", platform_python_implementation="CPython")
    for _ in range(10):
        wheels = {canonicalize_name(wheel_metadata(w)[0]): w for w in folder.glob("*.whl")}
        wheels[canonicalize_name("snowauth")] = root
        needed: dict[str, Path] = {}
        missing: list[str] = []
        todo: list[tuple[str, str]] = [("snowauth", "")]  # (project, extra)
        seen: set[tuple[str, str]] = set()
        while todo:
            project, extra = todo.pop()
            key = canonicalize_name(project)
            if (key, extra) in seen:
                continue
            seen.add((key, extra))
            wheel = wheels.get(key)
            if wheel is None:
                missing.append(project)
                continue
            needed[key] = wheel
            for line in wheel_metadata(wheel)[1]:
                req = Requirement(line)
                if req.marker is None or req.marker.evaluate({**env, "extra": extra}):
                    todo.append((req.name, ""))
                    todo.extend((req.name, e) for e in req.extras)
        if not missing:
            return sorted(needed.values())
        log(f"  {target.name} Python {python}: also {', '.join(sorted(set(missing)))} (markers of the target)")
        pip_download(target, python, folder, sorted(set(missing)), deps=False)
    raise SystemExit("the dependency closure did not settle")


def thin(data: bytes, cpu: int) -> bytes:
    """The ``cpu`` slice of a universal (fat) Mach-O binary, as `lipo -thin` extracts it: each
    slice is a whole Mach-O file with its own code signature. A thin binary is returned as is."""
    if data[:4] != b"\xca\xfe\xba\xbe":
        return data
    (count,) = struct.unpack(">I", data[4:8])
    for i in range(count):
        cputype, _, offset, size, _ = struct.unpack(">5I", data[8 + 20 * i : 28 + 20 * i])
        if cputype == cpu:
            return data[offset : offset + size]
    raise SystemExit(f"a universal binary without the slice {cpu:#x}")


def unpack(wheel: Path, dest: Path, macho_cpu: int | None = None) -> None:
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            top = parts[0]
            if top.endswith(".data"):
                continue  # scripts and headers: nothing the server imports
            if top.endswith(".dist-info"):
                rest = "/".join(parts[1:])
                if rest not in KEPT_DIST_INFO and not LICENSE.search(rest):
                    continue
            elif SKIPPED_PARTS.intersection(parts[:-1]) or parts[-1] in SKIPPED_NAMES:
                continue
            if parts[-1].endswith(SKIPPED_SUFFIXES):
                continue
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = z.read(info)
            if top.endswith(".dist-info") and parts[-1] == "METADATA":
                data = data.split(b"\n\n", 1)[0] + b"\n"  # the headers; the long description is the README
            if macho_cpu is not None and parts[-1].endswith((".so", ".dylib")):
                data = thin(data, macho_cpu)  # universal2: the other architecture's half is dead weight
            target.write_bytes(data)
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111:
                target.chmod(0o755)


def project_dependencies() -> list[str]:
    with (REPO / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def bundle(target_name: str, out: Path, wheel: Path | None, pythons: tuple[str, ...]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # what a previous build left; the repository's .gitkeep stays
        if old.name != ".gitkeep":
            shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    if wheel is None:
        wheel = build_wheel(out)
    else:
        shutil.copy2(wheel, out / wheel.name)
        wheel = out / wheel.name
    _, requires = wheel_metadata(wheel)
    declared = {canonicalize_name(Requirement(r).name) for r in project_dependencies()}
    shipped = {canonicalize_name(Requirement(r).name) for r in requires if "extra" not in str(Requirement(r).marker)}
    if declared != shipped:
        raise SystemExit(f"the wheel's dependencies {sorted(shipped)} are not pyproject.toml's {sorted(declared)}")
    if target_name == "universal":
        log(f"bundled/: {wheel.name} (universal: dependencies from PyPI at first start)")
        return
    target = TARGETS[target_name]
    per_python: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory(prefix="snowauth-bundle-") as tmp:
        for python in pythons:
            folder = Path(tmp) / python
            folder.mkdir()
            log(f"  {target.name} Python {python}: pip download")
            pip_download(target, python, folder, [str(wheel)], deps=True)
            per_python[python] = [w for w in closure(target, python, wheel, folder) if w != wheel]
        # a wheel every version uses (pure Python, abi3) is unpacked once, into libs/
        names = [{w.name for w in ws} for ws in per_python.values()]
        shared = set.intersection(*names)
        libs = out / "libs"
        unpack(wheel, libs)
        for w in per_python[pythons[0]]:
            if w.name in shared:
                unpack(w, libs, target.macho_cpu)
        for python, ws in per_python.items():
            own = out / f"cp{python.replace('.', '')}"
            own.mkdir()
            for w in ws:
                if w.name not in shared:
                    unpack(w, own, target.macho_cpu)
    shutil.copy2(EXTENSION / "python" / "start.py", out / "start.py")
    manifest = {
        "target": target.name,
        "platform": target.platform,
        "arch": target.arch,
        "pythons": list(pythons),
        "wheel": wheel.name,
        "packages": sorted(w.name for w in per_python[pythons[0]] if w.name in shared),
        "perPython": {p: sorted(w.name for w in ws if w.name not in shared) for p, ws in per_python.items()},
    }
    (out / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    log(f"bundled/: {target.name}, Python {', '.join(pythons)}, {size / 1e6:.1f} MB unpacked")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["universal", *TARGETS])
    parser.add_argument("--out", type=Path, default=EXTENSION / "bundled")
    parser.add_argument("--wheel", type=Path, help="the server's wheel (default: built from the repository)")
    parser.add_argument(
        "--pythons", default=",".join(PYTHONS), help="the Python versions served (default: %(default)s)"
    )
    args = parser.parse_args()
    pythons = tuple(p.strip() for p in args.pythons.split(",") if p.strip())
    bundle(args.target, args.out.resolve(), args.wheel.resolve() if args.wheel else None, pythons)


if __name__ == "__main__":
    main()
