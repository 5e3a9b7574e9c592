"""A cloned repository must not run code through the way the VS Code extension starts Python.

`python -m snowauth lsp`, `python -c "import snowauth"`, `python -m venv` and `python -m pip` put
the working directory first on `sys.path`: a repository that ships `snowauth/__init__.py` (or
`venv/`, `pip/`) would run instead of the installed package as soon as a process starts there.
These tests bundle the extension's real launch code (client-vscode/src/serverCommand.ts and
processes.ts, the same modules the extension is built from) with esbuild, run it with node from
inside a hostile workspace folder (the worst case: the editor itself runs there), let it resolve
and start the server as the extension does, and check that nothing of the workspace ran and
that the real server answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.emulator import Emulator
from tests.kit.extension_launch import ESBUILD, bundle_launcher
from tests.kit.lsp import Editor, framed, read_message, session_fixture
from tests.kit.packaging import build_bundle, host_target, pip_wheel

NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not ESBUILD.exists(),
    reason="needs node and client-vscode/node_modules (cd client-vscode && npm ci)",
)

HOSTILE_MODULE = """import pathlib
with pathlib.Path({marker!r}).open("a") as f:
    f.write("the workspace's {name} ran\\n")
"""


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension's launch modules bundled into one .mjs, as esbuild bundles the extension."""
    return bundle_launcher(tmp_path_factory.mktemp("bundle"))


class World:
    def __init__(self, root: Path) -> None:
        self.marker = root / "marker.txt"  # outside the workspace
        self.workspace = root / "cloned-repo"
        self.storage = root / "global-storage"
        self.bundled = root / "bundled"
        self.bin = root / "bin"
        for d in (self.workspace, self.storage, self.bundled, self.bin):
            d.mkdir()
        # packages a `python -m ...` / `python -c "import ..."` started in the workspace would run
        for package in ("snowauth", "venv", "pip", "pygls", "lsprotocol"):
            for module in ("__init__.py", "__main__.py"):
                (self.workspace / package).mkdir(exist_ok=True)
                (self.workspace / package / module).write_text(
                    HOSTILE_MODULE.format(marker=str(self.marker), name=f"{package}/{module}"), encoding="utf-8"
                )
        (self.workspace / "dev.snowauth.toml").write_text(CONNECTION, encoding="utf-8")

    def ran(self) -> str:
        return self.marker.read_text(encoding="utf-8") if self.marker.exists() else ""

    def node(
        self, launcher: Path, job: dict[str, Any], path: str | None = None, env: dict[str, str] | None = None, **kw: Any
    ) -> subprocess.Popen[bytes]:
        job = {
            "globalStorage": str(self.storage),
            "workspace": str(self.workspace),
            "bundledDir": str(self.bundled),
            **job,
        }
        path = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}" if path is None else path
        env = {**os.environ, "PATH": path, **(env or {})}
        env.pop("PYTHONSAFEPATH", None)
        return subprocess.Popen(
            [str(NODE), str(launcher), json.dumps(job)],
            cwd=self.workspace,  # the worst case: the editor runs in the cloned repository
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kw,
        )


CONNECTION = """[connections.dev]
instance = "dev12345"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_CLIENT_SECRET}"
username = "integration.user"
pasword = "${env:SNOW_PASSWORD}"
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


class Lsp:
    """Just enough of an LSP client over a process's stdio."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        with contextlib.suppress(ValueError):  # a message without Content-Length ends the reading
            while (message := read_message(out)) is not None:
                self.messages.put(message)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(framed(json.dumps({"jsonrpc": "2.0", **message}).encode()))
        self.proc.stdin.flush()

    def wait(self, test: Any, what: str, timeout: float = 30) -> dict[str, Any]:
        """The first message that passes ``test``; fails when the process ended or after ``timeout``."""
        for _ in range(int(timeout / 0.25)):
            try:
                message = self.messages.get(timeout=0.25)
            except queue.Empty:
                if self.proc.poll() is not None and self.messages.empty():
                    raise AssertionError(f"no {what}: the process ended") from None
                continue
            if test(message):
                return message
        raise AssertionError(f"no {what} within {timeout} s")


def stderr_of(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stderr is not None
    return proc.stderr.read().decode(errors="replace")


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(10)


# how the server is found: each setting, and the Python extension's interpreter
SOURCES: dict[str, dict[str, Any]] = {
    "interpreter-setting": {"interpreter": sys.executable},
    "python-extension": {"pythonExt": sys.executable},
    "command-setting": {"command": [sys.executable, "-m", "snowauth", "lsp"]},
}


@pytest.mark.parametrize("source", SOURCES)
def test_a_cloned_repository_cannot_replace_the_server(
    source: str, world: World, launcher: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    proc = world.node(launcher, {"mode": "serve", **SOURCES[source]})
    started.append(proc)
    serve_and_check(world, proc, {"trusted": True})
    assert world.ran() == ""


def test_the_import_probe_is_not_answered_by_the_workspace(world: World, launcher: Path, tmp_path: Path) -> None:
    """A Python without snowauth must be reported as such, whatever the workspace holds."""
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, cwd=tmp_path, timeout=60)
    python = bare / "bin" / "python"
    proc = world.node(launcher, {"mode": "probe", "python": str(python)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")
    answer = json.loads(out)
    assert answer["version"].startswith("Python 3.")
    assert answer["imports"] is False, "the workspace's snowauth/ answered the import probe"
    assert world.ran() == ""


def test_setting_up_the_private_venv_runs_nothing_of_the_workspace(world: World, launcher: Path) -> None:
    """The first start creates a venv (`python -m venv`) and installs the bundled wheel (`python -m
    pip`). The wheel here is not a real one: the step fails, but the real pip must be the one that
    says so."""
    (world.bin / "python3.11").symlink_to(sys.executable)
    (world.bundled / "snowauth-0.0.0-py3-none-any.whl").write_bytes(b"not a wheel")
    proc = world.node(launcher, {"mode": "bootstrap"})
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err.decode(errors="replace")
    result = json.loads(out)
    assert result["codes"][0] == 0, err.decode(errors="replace")
    assert Path(result["venvPython"]).exists()
    assert result["codes"][1] != 0
    assert world.ran() == ""


def test_the_server_itself_ignores_its_working_directory(world: World, started: list[subprocess.Popen[bytes]]) -> None:
    """Another editor may start `python -m snowauth lsp` in the project folder. The package itself
    then comes from the workspace if it holds one (nothing the server can do about that), but the
    server's own later imports (pygls, lsprotocol) must not."""
    shutil.rmtree(world.workspace / "snowauth")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "snowauth", "lsp"],
        cwd=world.workspace,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    started.append(proc)
    lsp = Lsp(proc)
    lsp.send({"id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
    try:
        reply = lsp.wait(lambda m: m.get("id") == 1, "initialize reply")
    except AssertionError:
        proc.kill()
        raise AssertionError(f"{world.ran()}\n{stderr_of(proc)}") from None
    assert reply.get("result", {}).get("serverInfo", {}).get("name") == "snowauth", reply
    lsp.send({"id": 2, "method": "shutdown"})
    lsp.wait(lambda m: m.get("id") == 2, "shutdown reply")
    lsp.send({"method": "exit"})
    assert proc.wait(20) == 0, stderr_of(proc)
    assert world.ran() == ""


# -- a ${prompt} is answered for the file it belongs to ---------------------------------------

PROMPT_FOLDER = Path(os.environ.get("TMPDIR", "/tmp")) / f"snowauth-ext-prompt-{os.getpid()}"
client = session_fixture(
    env={"SNOW_X_SECRET": "demo-client-secret", "SNOWAUTH_CONFIG_DIR": str(PROMPT_FOLDER / "config")}
)


def prompted(instance: str) -> str:
    return f"""[connections.dev]
instance = "{instance}"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{env:SNOW_X_SECRET}}"
username = "integration.user"
password = "${{prompt}}"
"""


def field(params: object, name: str) -> object:
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


async def test_each_prompt_names_its_connection_file(client: LanguageClient, emulator: Emulator) -> None:
    """The extension remembers `${prompt}` answers per file + connection + key. Two fetches of
    two files' `dev` connections run at once: each question must say which file it is for, or
    one file's remembered password would be sent for the other's."""
    editor = Editor(client)
    a, b = (PROMPT_FOLDER / "a.snowauth.toml").as_uri(), (PROMPT_FOLDER / "b.snowauth.toml").as_uri()
    editor.open(a, prompted(emulator.url))
    editor.open(b, prompted(emulator.url))
    asked: list[object] = []

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def send_to_the_emulator(*args: object) -> t.MessageActionItem:
        return t.MessageActionItem("Send")

    @client.feature("snowauth/promptSecret")
    async def prompt(*args: object) -> dict[str, str]:
        asked.append(args[-1])
        await asyncio.sleep(0.2)  # both questions are open at the same time
        return {"value": "demo-password"}

    results = await asyncio.gather(
        *(
            client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="snowauth.fetchToken", arguments=[{"uri": uri, "connection": "dev"}])
            )
            for uri in (a, b)
        )
    )
    assert all(isinstance(r, dict) and r["connection"] == "dev" for r in results)
    assert sorted(str(field(p, "uri")) for p in asked) == sorted([a, b])
    assert all(field(p, "connection") == "dev" and field(p, "key") == "password" for p in asked)


# -- the bundle of a platform's .vsix: only the bundle and the standard library are imported ---------

HOST_TARGET = host_target()
THIS_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
# what a `python -m`, a `.pth` file or a site-packages folder would run instead of the bundle's own
SHADOWED = ("snowauth", "pygls", "lsprotocol", "pydantic", "pydantic_core", "cryptography", "httpx", "attrs")
EVIL_PTH = "import pathlib; pathlib.Path({marker!r}).open('a').write('the .pth file in {where} ran\\n')\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bundled/ of this machine's .vsix, built by the real scripts/bundle.py for this Python."""
    if HOST_TARGET is None:
        pytest.skip("no .vsix target for this machine")
    work = tmp_path_factory.mktemp("bundle")
    return build_bundle(work / "bundled", HOST_TARGET, pip_wheel(work / "wheel"), (THIS_PYTHON,))


def user_python(world: World, root: Path) -> Path:
    """A Python of the user's (a venv of this interpreter) whose site-packages hold another pygls,
    pydantic… and a .pth file, each writing the marker when imported or read."""
    venv = root / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, cwd=root, timeout=60)
    (site,) = venv.glob("lib/python3*/site-packages")
    for package in SHADOWED:
        (site / package).mkdir()
        (site / package / "__init__.py").write_text(
            HOSTILE_MODULE.format(marker=str(world.marker), name=f"site-packages/{package}"), encoding="utf-8"
        )
    (site / "zz-evil.pth").write_text(
        EVIL_PTH.format(marker=str(world.marker), where="site-packages"), encoding="utf-8"
    )
    return venv / "bin" / "python"


def hostile_workspace_for_the_bundle(world: World) -> None:
    for package in SHADOWED:
        (world.workspace / package).mkdir(exist_ok=True)
        (world.workspace / package / "__init__.py").write_text(
            HOSTILE_MODULE.format(marker=str(world.marker), name=f"{package}/__init__.py"), encoding="utf-8"
        )
    (world.workspace / "evil.pth").write_text(EVIL_PTH.format(marker=str(world.marker), where="the workspace"))


def serve_and_check(world: World, proc: subprocess.Popen[bytes], options: dict[str, Any] | None = None) -> None:
    """initialize (with ``options`` as initializationOptions), a connection file opened, its
    diagnostics, shutdown: the real server answered."""
    lsp = Lsp(proc)
    params: dict[str, Any] = {"processId": None, "rootUri": world.workspace.as_uri(), "capabilities": {}}
    if options is not None:
        params["initializationOptions"] = options
    lsp.send({"id": 1, "method": "initialize", "params": params})
    try:
        reply = lsp.wait(lambda m: m.get("id") == 1, "initialize reply", timeout=60)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"{world.ran()}\n{stderr_of(proc)}") from None
    assert reply.get("result", {}).get("serverInfo", {}).get("name") == "snowauth", reply
    lsp.send({"method": "initialized", "params": {}})
    uri = (world.workspace / "dev.snowauth.toml").as_uri()
    item = {"uri": uri, "languageId": "snowauth-toml", "version": 1, "text": CONNECTION}
    lsp.send({"method": "textDocument/didOpen", "params": {"textDocument": item}})
    published = lsp.wait(
        lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri, "diagnostics"
    )
    assert any("pasword" in d["message"] for d in published["params"]["diagnostics"]), published
    lsp.send({"id": 2, "method": "shutdown"})
    lsp.wait(lambda m: m.get("id") == 2, "shutdown reply")
    lsp.send({"method": "exit"})
    assert proc.wait(20) == 0, stderr_of(proc)


def test_the_bundled_server_imports_nothing_of_the_workspace_nor_of_site_packages(
    world: World, launcher: Path, bundle: Path, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """No setting: the extension finds the bundle, checks it and starts it with a Python on PATH
    whose site-packages hold another pygls, pydantic… and a .pth file, from inside a workspace
    that holds the same, with PYTHONPATH and PYTHONSTARTUP pointing into the workspace."""
    hostile_workspace_for_the_bundle(world)
    (world.bin / f"python{THIS_PYTHON}").symlink_to(user_python(world, tmp_path))
    world.bundled.rmdir()
    shutil.copytree(bundle, world.bundled, symlinks=True)
    startup = world.workspace / "startup.py"
    startup.write_text(HOSTILE_MODULE.format(marker=str(world.marker), name="PYTHONSTARTUP"), encoding="utf-8")
    hostile_env = {
        "PYTHONPATH": str(world.workspace),
        "PYTHONSTARTUP": str(startup),
        "PYTHONUSERBASE": str(world.workspace),
    }
    proc = world.node(launcher, {"mode": "resolve"}, path=str(world.bin), env=hostile_env)
    out, err = proc.communicate(timeout=120)
    resolution = json.loads(out)
    assert resolution["kind"] == "launch", err.decode(errors="replace")
    launch = resolution["launch"]
    assert launch == {
        "command": f"python{THIS_PYTHON}",
        "args": ["-I", "-S", str(world.bundled / "start.py"), "lsp"],
        "source": "bundled",
    }
    proc = world.node(launcher, {"mode": "serve"}, path=str(world.bin), env=hostile_env)
    started.append(proc)
    serve_and_check(world, proc)
    assert world.ran() == ""


def test_the_launcher_refuses_to_run_unisolated_and_puts_only_the_bundle_before_the_stdlib(
    world: World, bundle: Path, tmp_path: Path
) -> None:
    python = user_python(world, tmp_path)
    hostile_workspace_for_the_bundle(world)
    start = bundle / "start.py"
    # without -S the interpreter's site-packages would be on sys.path: refused before any import
    done = subprocess.run(
        [str(python), "-I", str(start), "--check"], cwd=world.workspace, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "-I -S" in done.stderr
    # which is why -S is needed: -I alone still reads the interpreter's .pth files
    assert "the .pth file in site-packages ran" in world.ran()
    world.marker.unlink()
    done = subprocess.run(
        [str(python), "-I", "-S", str(start), "--check"],
        cwd=world.workspace,
        env={**os.environ, "PYTHONPATH": str(world.workspace)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"snowauth {snowauth_version()} on Python {THIS_PYTHON}")
    assert world.ran() == ""


def snowauth_version() -> str:
    import snowauth

    return snowauth.__version__


def test_a_bundle_without_a_build_for_the_python_found_falls_back_to_the_private_venv(
    world: World, launcher: Path, bundle: Path
) -> None:
    """The platform's .vsix found a Python it has no native build for: the private venv, saying why."""
    world.bundled.rmdir()
    shutil.copytree(bundle, world.bundled, symlinks=True)
    manifest = json.loads((world.bundled / "bundle.json").read_text(encoding="utf-8"))
    manifest["pythons"] = ["3.99"]
    (world.bundled / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    (world.bin / f"python{THIS_PYTHON}").symlink_to(sys.executable)
    proc = world.node(launcher, {"mode": "resolve"}, path=str(world.bin))
    out, err = proc.communicate(timeout=120)
    resolution = json.loads(out)
    assert resolution["kind"] == "bootstrap", err.decode(errors="replace")
    assert resolution["plan"]["why"] == (
        f"SnowAuth bundles its language server for Python 3.99 on {HOST_TARGET}, and found python{THIS_PYTHON} "
        f"{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}: its dependencies come from PyPI."
    )
    assert resolution["plan"]["wheel"] == str(next(world.bundled.glob("snowauth-*.whl")))
