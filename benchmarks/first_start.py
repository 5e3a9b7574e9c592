"""First start of the VS Code extension's server, to the first diagnostics: the bundle of a
platform's .vsix against the universal .vsix's private venv (pip, PyPI).

    .venv/bin/python benchmarks/first_start.py [--rounds 3] [--python /usr/bin/python3]

Both run the extension's real launch code (client-vscode/src/serverCommand.ts and processes.ts,
bundled by esbuild: tests/kit/extension_launch.py) with a fresh global storage each round and
one Python on PATH (default: this interpreter's base Python, which has no snowauth). The bundle
is this machine's, built by client-vscode/scripts/bundle.py for that Python's version, copied
fresh each round (its first start compiles its modules into __pycache__, the next one reuses
them, as in an installed extension whose folder is writable); the venv
round runs pip with no cache (`PIP_NO_CACHE_DIR=1`), as on a new machine, its packages from the
indexes pip is configured with. Timed: node started → resolution (and for the venv, its set-up
steps) → the server started → `initialize` answered → a file opened → its first
`publishDiagnostics`. Prints one line per round and the medians (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from lspclient import Client  # noqa: E402
from tests.kit.extension_launch import bundle_launcher  # noqa: E402
from tests.kit.packaging import build_bundle, host_target, pip_wheel  # noqa: E402

NODE = shutil.which("node") or "node"
TEXT = '[connections.dev]\ninstance = "dev12345"\ngrant_type = "password"\nusername = "u"\npasword = "x"\n'


def base_python() -> str:
    return str(Path(sys._base_executable).resolve())  # type: ignore[attr-defined]


def python_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True)
    return out.stdout.decode().strip()


def one_round(launcher: Path, bundled: Path, python: str, work: Path, venv: bool) -> float:
    storage, workspace, bin_dir = work / "storage", work / "ws", work / "bin"
    for d in (storage, workspace, bin_dir):
        d.mkdir(parents=True)
    (bin_dir / "python3").symlink_to(python)
    job = {"globalStorage": str(storage), "workspace": str(workspace), "bundledDir": str(bundled)}
    env = {**os.environ, "PATH": str(bin_dir), "PIP_NO_CACHE_DIR": "1"}
    start = time.perf_counter()
    if venv:
        done = subprocess.run(
            [NODE, str(launcher), json.dumps({**job, "mode": "bootstrap"})], env=env, capture_output=True, timeout=900
        )
        if done.returncode != 0 or json.loads(done.stdout)["codes"] != [0, 0]:
            raise SystemExit(f"the venv set-up failed:\n{done.stderr.decode(errors='replace')[-3000:]}")
        # what launcher.ts writes once the steps succeeded (serverCommand.WHEEL_MARKER)
        (storage / "venv" / "snowauth-wheel.txt").write_text(next(bundled.glob("*.whl")).name + "\n", encoding="utf-8")
    c = Client([NODE, str(launcher), json.dumps({**job, "mode": "serve"})], env=env, cwd=workspace)
    try:
        c.initialize(workspace)
        uri = (workspace / "dev.snowauth.toml").as_uri()
        c.open(uri, TEXT, language="snowauth-toml")
        c.diagnostics(uri, timeout=120)
        seconds = time.perf_counter() - start
    finally:
        c.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=base_python(), help="the Python on PATH (default: %(default)s)")
    args = parser.parse_args()
    target = host_target()
    if target is None:
        raise SystemExit("no .vsix target for this machine")
    version = python_version(args.python)
    with tempfile.TemporaryDirectory(prefix="snowauth-first-start-") as tmp:
        root = Path(tmp)
        launcher = bundle_launcher(root)
        wheel = pip_wheel(root / "wheel")
        bundle = build_bundle(root / "bundle", target, wheel, (version,))
        universal = root / "universal"
        universal.mkdir()
        shutil.copy2(wheel, universal / wheel.name)
        print(f"{target}, {args.python} (Python {version}), {args.rounds} rounds")
        times: dict[str, list[float]] = {"bundle, first start": [], "bundle, next start": [], "venv, first start": []}
        for i in range(args.rounds):
            # a fresh copy of the bundle: no __pycache__ yet, as VS Code unpacks it
            fresh = shutil.copytree(bundle, root / f"r{i}-installed" / "bundled")
            for j, kind in enumerate(times):
                venv = kind.startswith("venv")
                seconds = one_round(launcher, universal if venv else fresh, args.python, root / f"r{i}-{j}", venv)
                times[kind].append(seconds)
                print(f"  round {i + 1} {kind:19}: {seconds:6.2f} s to the first diagnostics", flush=True)
        for kind, values in times.items():
            print(f"{kind:19}: median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})")


if __name__ == "__main__":
    main()
