"""The Python package as its users get it: `python -m build` makes an sdist and a wheel
with the metadata PyPI shows (PEP 639 license expression, classifiers, URLs, Python 3.11+),
the wheel holds the package and nothing else, and `pipx install` of that wheel gives a
`snowauth` command that prints its version, checks a real file, serves an editor over
stdio and runs the emulator (docs/decisions.md, Packaging)."""

from __future__ import annotations

import re
import signal
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest

import snowauth
from tests.kit.packaging import REPO, Dists, Pipx, lsp_handshake, run_installed, tracked_copy

pytestmark = pytest.mark.timeout(900)  # the first test builds and installs (dependencies from PyPI)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
# the wheel's files that are not Python modules, and why each is there
DATA_FILES = {
    "snowauth/py.typed",  # PEP 561: the package's annotations are for its users' type checkers too
    "snowauth/emulator/default.toml",  # `snowauth emulator` without --config: the demo instance
}


@pytest.fixture(scope="module")
def pipx(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Pipx:
    installed = Pipx(tmp_path_factory.mktemp("pipx"))
    print(f"\npipx install: {installed.install(dists.wheel):.1f} s")
    return installed


@pytest.fixture
def user_env(pipx: Pipx, tmp_path: Path) -> dict[str, str]:
    """A user's environment with the pipx bin folder on PATH; their config and cache in tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        **pipx.env(),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "SNOWAUTH_CONFIG_DIR": str(home / "snowauth-config"),
        "SNOWAUTH_CACHE_DIR": str(home / "snowauth-cache"),
    }


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_build_warns_about_nothing_in_the_metadata(dists: Dists) -> None:
    # setuptools < 77 warned that `license = { text = ... }` is deprecated (PEP 639)
    assert "Deprecat" not in dists.log, dists.log[-3000:]
    assert "License classifiers" not in dists.log


def test_the_wheel_metadata(dists: Dists) -> None:
    meta = dists.metadata()
    assert meta["Name"] == "snowauth"
    assert meta["Version"] == snowauth.__version__
    assert meta["Metadata-Version"] >= "2.4"  # License-Expression
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["License"] is None  # the legacy free-text field is not written
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# snowauth\n")  # the README is the long description
    classifiers = set(meta.get_all("Classifier") or [])
    for wanted in (
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Operating System :: OS Independent",
        "Environment :: Console",
        "Topic :: Software Development",
        "Typing :: Typed",
    ):
        assert wanted in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression says it
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= urls.keys()
    assert all(u.startswith("https://") for u in urls.values())
    runtime = {_name(r) for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r}
    assert runtime == {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    entry_points = dists.wheel_text(f"snowauth-{snowauth.__version__}.dist-info/entry_points.txt")
    assert "snowauth = snowauth.cli:main" in entry_points


def test_the_wheel_holds_the_package_and_nothing_else(dists: Dists, tmp_path: Path) -> None:
    names = dists.wheel_names()
    dist_info = f"snowauth-{snowauth.__version__}.dist-info/"
    package = [n for n in names if not n.startswith(dist_info)]
    assert all(n.startswith("snowauth/") for n in package), package
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/") or "conftest" in n]
    assert not [n for n in names if n.endswith((".pyc", ".orig", ".rej")) or "__pycache__" in n]
    assert {n for n in package if not n.endswith(".py")} == DATA_FILES
    # every module of the source tree is there
    source = tracked_copy(tmp_path, "server/snowauth") / "server"
    modules = {str(p.relative_to(source)) for p in source.rglob("*.py")}
    assert modules == {n for n in package if n.endswith(".py")}
    # RECORD lists every file (and itself)
    record = {line.split(",")[0] for line in dists.wheel_text(f"{dist_info}RECORD").splitlines() if line}
    assert record == set(names)
    assert dists.wheel_text(f"{dist_info}licenses/LICENSE") == (REPO / "LICENSE").read_text("utf-8")


def test_the_sdist_holds_what_builds_the_wheel(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "server/snowauth/cli.py"} <= names
    assert "server/snowauth/emulator/default.toml" in names
    assert not [n for n in names if n.split("/")[0] in ("tests", "client-vscode", "benchmarks", "examples", "docs")]


def test_pipx_installs_a_snowauth_command_that_prints_its_version(pipx: Pipx, user_env: dict[str, str]) -> None:
    command = pipx.bin_dir / "snowauth"
    assert command.is_file()
    done = run_installed(command, "--version", cwd=Path(user_env["HOME"]), env=user_env)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"snowauth {snowauth.__version__}\n", "")
    # it runs the installed wheel, not this checkout
    where = subprocess.run(
        [str(pipx.venv_python()), "-c", "import snowauth; print(snowauth.__file__)"],
        cwd=user_env["HOME"],
        env=user_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(pipx.home), where
    assert not Path(where).is_relative_to(REPO)


def test_the_installed_command_checks_a_real_file(pipx: Pipx, user_env: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "dev.snowauth.toml"
    path.write_text(
        '# café ✓\n[connections.dev]\ninstance = "dev12345"\ngrant_type = "password"\n'
        'client_secret = "${env:SNOW_CLIENT_SECRET}"\nusername = "integration.user"\npassword = "${prompt}"\n',
        encoding="utf-8",
    )
    done = run_installed(pipx.bin_dir / "snowauth", "check", ".", cwd=work, env=user_env)
    assert done.returncode == 1, done.stderr
    assert "dev.snowauth.toml:2:1: error: The connection dev is missing client_id (required) [missing-key]" in (
        done.stdout.splitlines()
    )
    path.write_text(
        path.read_text("utf-8").replace(
            'grant_type = "password"\n', 'grant_type = "password"\nclient_id = "' + "a" * 32 + '"\n'
        ),
        encoding="utf-8",
    )
    with_secret = {**user_env, "SNOW_CLIENT_SECRET": "not-a-real-secret"}
    done = run_installed(pipx.bin_dir / "snowauth", "check", ".", cwd=work, env=with_secret)
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, "1 file checked, no problems"), done.stdout


def test_the_installed_language_server_answers_initialize(pipx: Pipx, user_env: dict[str, str]) -> None:
    result, status = lsp_handshake([str(pipx.bin_dir / "snowauth"), "lsp"], cwd=Path(user_env["HOME"]), env=user_env)
    assert result["serverInfo"] == {"name": "snowauth", "version": snowauth.__version__}
    capabilities = result["capabilities"]
    for provider in ("completionProvider", "hoverProvider", "codeLensProvider", "documentSymbolProvider"):
        assert capabilities.get(provider), provider
    assert status == 0  # shutdown, then exit


def test_the_installed_emulator_serves_the_demo_instance(pipx: Pipx, user_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [str(pipx.bin_dir / "snowauth"), "emulator", "--port", "0"],
        cwd=user_env["HOME"],
        env=user_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert re.fullmatch(r"snowauth emulator listening on http://127\.0\.0\.1:\d+\n", line), line
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
