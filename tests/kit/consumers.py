"""Tools no one here wrote that read snowauth's exports, installed from npm by
`make consumer-deps` (tests/consumers/package.json pins them): nothing downloads while
the tests run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.kit.cli import run_snowauth
from tests.kit.emulator import password_connection

#: a `.http` request of the Table API with the `http_client` export's two variables
TABLE_REQUEST = """GET {{instance_url}}/api/now/table/sys_user?sysparm_limit=1
Authorization: Bearer {{access_token}}
"""

ROOT = Path(__file__).resolve().parents[1] / "consumers"
HTTPYAC = ROOT / "node_modules" / ".bin" / "httpyac"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
#: the SARIF 2.1.0 JSON schema as Microsoft's SARIF SDK ships it (@microsoft/jest-sarif, MIT):
#: the OASIS standard's schema before its errata, which only add `type` next to each `enum`
#: and require a region to say where it starts (docs/decisions.md, "Reports for code scanning")
SARIF_SCHEMA = ROOT / "node_modules" / "@microsoft" / "jest-sarif" / "lib" / "schemas" / "sarif-2.1.0-rtm.5.json"


def sarif_validator() -> Any:
    """A jsonschema validator of SARIF 2.1.0 logs (the schema is JSON Schema draft 4)."""
    import jsonschema

    assert SARIF_SCHEMA.is_file(), "the SARIF schema is not installed: run `make consumer-deps`"
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def node() -> str:
    """The node program; the test is skipped (with the reason) when there is none."""
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: the npm consumer tests (httpyac, newman) need Node.js 18+")
    return found


def httpyac(http_file: Path, env: str, *, cwd: Path) -> list[dict[str, Any]]:
    """`httpyac send FILE --env ENV --all --json` run from ``cwd``: the requests it sent,
    each with its response, as httpyac reports them. Its output is never shown (the
    request it reports carries the token); a failure says only the exit status."""
    program = node()
    assert HTTPYAC.is_file(), "the httpyac CLI is not installed: run `make consumer-deps`"
    done = subprocess.run(
        [program, str(HTTPYAC), "send", str(http_file), "--env", env, "--all", "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"httpyac exited with {done.returncode}"
    requests: list[dict[str, Any]] = json.loads(done.stdout)["requests"]
    return requests


def newman(collection: Path, environment: Path, *, cwd: Path) -> tuple[int, dict[str, Any], str]:
    """`newman run COLLECTION -e ENVIRONMENT --reporters json` run from ``cwd``: its exit
    status, the run of its JSON report, and what it printed (for a test to check that no
    token is in it). Only the JSON reporter runs: the report, which holds the request with
    its token, goes to a file beside the collection and is never shown."""
    program = node()
    assert NEWMAN.is_file(), "the newman CLI is not installed: run `make consumer-deps`"
    report = collection.with_name(collection.stem + ".newman.json")
    report.unlink(missing_ok=True)
    done = subprocess.run(
        [
            program,
            str(NEWMAN),
            "run",
            str(collection),
            "-e",
            str(environment),
            "--reporters",
            "json",
            "--reporter-json-export",
            str(report),
            "--color",
            "off",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert report.is_file(), f"newman exited with {done.returncode} and wrote no report"
    run: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["run"]
    return done.returncode, run, done.stdout + done.stderr


def export_project(tmp_path: Path, url: str, fmt: str, target: str) -> tuple[Path, Path, dict[str, str]]:
    """A project folder with a password connection on the emulator at ``url`` that exports
    ``fmt`` to ``target`` (token in the cache), after a successful `snowauth export`: the
    folder, the connection file and the environment the CLI ran with."""
    project = tmp_path / "project"
    project.mkdir()
    conn = project / "sn.snowauth.toml"
    extra = f'token_store = "cache"\n\n[connections.dev.export]\n{fmt} = "{target}"\n'
    conn.write_text(
        password_connection(url, secret="demo-client-secret", password="demo-password", extra=extra),
        encoding="utf-8",
    )
    env = {**os.environ, "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache")}
    out = run_snowauth("export", str(conn), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [target]
    return project, conn, env
