"""snowauth as its users get it: the sdist and wheel built from a copy of the working tree
(the tree itself gets no build/ or *.egg-info), the wheel installed with the real pipx into
a PIPX_HOME of the test's own, and the VS Code extension listed and packed by the real vsce
from a copy of client-vscode/."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from tests.kit.lsp import framed, read_message

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "client-vscode"
VSCE = CLIENT / "node_modules" / ".bin" / "vsce"


def tracked_copy(dest: Path, under: str = ".") -> Path:
    """The files git tracks under ``under``, as they are in the working tree (uncommitted
    edits included, deleted files left out), copied into ``dest``; returns ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", under], cwd=REPO, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if source.is_file() and not source.is_symlink():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    log: str  # what `python -m build` printed
    seconds: float

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as z:
            return z.namelist()

    def wheel_text(self, name: str) -> str:
        with zipfile.ZipFile(self.wheel) as z:
            return z.read(name).decode("utf-8")

    def metadata(self) -> Message:
        """The wheel's METADATA (core metadata: email headers, the README as body)."""
        dist_info = next(n.split("/")[0] for n in self.wheel_names() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(self.wheel_text(f"{dist_info}/METADATA"))


def build_dists(work: Path) -> Dists:
    """`python -m build` (isolated: its setuptools comes from PyPI) on a copy of the
    tracked tree in ``work/src``, into ``work/dist``."""
    src = tracked_copy(work / "src")
    out = work / "dist"
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    seconds = time.monotonic() - start
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"python -m build failed ({done.returncode}):\n{log[-4000:]}")
    (sdist,) = out.glob("snowauth-*.tar.gz")
    (wheel,) = out.glob("snowauth-*.whl")
    return Dists(sdist, wheel, log, seconds)


@dataclass(frozen=True)
class Pipx:
    """A pipx of the test's own: its venvs, shared libraries, logs, commands and man pages
    all below ``home``."""

    home: Path

    @property
    def bin_dir(self) -> Path:
        return self.home / "bin"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env.update(
            PIPX_HOME=str(self.home / "pipx"),
            PIPX_BIN_DIR=str(self.bin_dir),
            PIPX_MAN_DIR=str(self.home / "man"),
            PATH=f"{self.bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}",
            USE_EMOJI="0",
        )
        return env

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipx", *args],
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def install(self, wheel: Path) -> float:
        """`pipx install WHEEL` with this interpreter's Python (its dependencies from PyPI);
        the seconds it took."""
        start = time.monotonic()
        done = self.run("install", "--python", sys.executable, str(wheel))
        if done.returncode != 0:
            raise AssertionError(f"pipx install failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return time.monotonic() - start

    def venv_python(self, package: str = "snowauth") -> Path:
        return self.home / "pipx" / "venvs" / package / "bin" / "python"


def run_installed(
    command: Path, *args: str, cwd: Path, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """An installed command (not `python -m` from this checkout), its output as text."""
    return subprocess.run(
        [str(command), *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def lsp_handshake(command: list[str], cwd: Path, env: Mapping[str, str], timeout: float = 60) -> tuple[Any, int]:
    """Start a language server, send initialize (then initialized, shutdown and exit), as an
    editor does: the initialize result and the server's exit status."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None

    def send(msg: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(framed(msg.encode()))
        proc.stdin.flush()

    def answer(msg_id: int) -> Any:
        while True:
            message = read_message(proc.stdout)
            if message is None:
                raise AssertionError(f"the server closed stdout: {proc.stderr.read().decode() if proc.stderr else ''}")
            if message.get("id") == msg_id and "method" not in message:
                return message

    try:
        send(
            '{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
            '{"processId":null,"rootUri":null,"capabilities":{},"clientInfo":{"name":"packaging test"}}}'
        )
        result = answer(1)["result"]
        send('{"jsonrpc":"2.0","method":"initialized","params":{}}')
        send('{"jsonrpc":"2.0","id":2,"method":"shutdown"}')
        answer(2)
        send('{"jsonrpc":"2.0","method":"exit"}')
        return result, proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def extension_copy(dest: Path, wheel: Path) -> Path:
    """client-vscode/ as `make vsix` leaves it, in ``dest``: the tracked files, the
    repository's node_modules (linked), the server's wheel in bundled/ and dist/ built by
    `npm run build`. Returns the extension's folder."""
    tracked_copy(dest, "client-vscode")
    ext = dest / "client-vscode"
    (ext / "node_modules").symlink_to(CLIENT / "node_modules", target_is_directory=True)
    (ext / "bundled").mkdir(exist_ok=True)
    shutil.copy2(wheel, ext / "bundled" / wheel.name)
    built = subprocess.run(
        ["npm", "run", "-s", "build"], cwd=ext, capture_output=True, text=True, timeout=300, check=False
    )
    if built.returncode != 0:
        raise AssertionError(f"npm run build failed:\n{built.stdout}\n{built.stderr}")
    return ext


def vsce(ext: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real vsce of client-vscode/node_modules, in the extension folder ``ext``."""
    return subprocess.run(
        [str(ext / "node_modules" / ".bin" / "vsce"), *args],
        cwd=ext,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )


BUNDLER = CLIENT / "scripts" / "bundle.py"


def host_target() -> str | None:
    """The vsce target of this machine (`linux-x64`…), or None when the extension has none."""
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform)
    target = f"{system}-{machine}" if system and machine else None
    return target if target in ("linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64") else None


def pip_wheel(work: Path) -> Path:
    """The server's wheel built by `pip wheel --no-deps` from a copy of the tracked tree in
    ``work/src`` (quicker than `python -m build`, and the tree gets no build/)."""
    src = tracked_copy(work / "src")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"pip wheel failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    (wheel,) = work.glob("snowauth-*.whl")
    return wheel


def build_bundle(out: Path, target: str, wheel: Path | None = None, pythons: tuple[str, ...] = ()) -> Path:
    """client-vscode/bundled/ of ``target``'s .vsix, built by the real scripts/bundle.py into
    ``out`` (the wheels from PyPI; the server's wheel built from the working tree unless given).
    Returns ``out``."""
    cmd = [sys.executable, str(BUNDLER), target, "--out", str(out)]
    if wheel is not None:
        cmd += ["--wheel", str(wheel)]
    if pythons:
        cmd += ["--pythons", ",".join(pythons)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise AssertionError(f"bundle.py {target} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    return out
