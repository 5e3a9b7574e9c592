"""A consumer no one here wrote: newman (Postman's own command-line collection runner,
from npm) runs a Postman collection with the `postman` environment export of
`snowauth export`, against the emulator over loopback HTTP, and its test script checks
the instance answered 200."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth
from tests.kit.consumers import export_project, newman

COLLECTION = {
    "info": {
        "name": "snowauth consumer",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "item": [
        {
            "name": "one user",
            "request": {
                "method": "GET",
                "url": "{{instance_url}}/api/now/table/sys_user?sysparm_limit=1",
                "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{access_token}}", "type": "string"}]},
            },
            "event": [
                {
                    "listen": "test",
                    "script": {
                        "type": "text/javascript",
                        "exec": ['pm.test("200", () => pm.response.to.have.status(200))'],
                    },
                }
            ],
        }
    ],
}


def outcome(run: dict[str, Any]) -> tuple[list[int], list[tuple[str, bool]], int]:
    """What newman reports, without the request (it holds the token): the response codes,
    each assertion with whether it failed, and how many failures the run counted."""
    codes = [e["response"]["code"] for e in run["executions"]]
    assertions = [(a["assertion"], "error" in a) for e in run["executions"] for a in e.get("assertions", [])]
    return codes, assertions, len(run["failures"])


def test_newman_runs_a_collection_with_the_exported_environment(tmp_path: Path, emulator: Emulator) -> None:
    project, conn, env = export_project(tmp_path, emulator.url, "postman", "dev.postman_environment.json")
    environment = project / "dev.postman_environment.json"
    exported = json.loads(environment.read_text(encoding="utf-8"))
    values = {v["key"]: v["value"] for v in exported["values"]}
    assert values["instance_url"] == emulator.url
    token = values["access_token"]
    honoured = emulator.state.bearer(token) is not None
    assert honoured, "the instance does not know the exported token"
    collection = project / "collection.json"
    collection.write_text(json.dumps(COLLECTION), encoding="utf-8")

    # run from another folder: the paths are given
    status, run, printed = newman(collection, environment, cwd=tmp_path)
    assert status == 0
    assert outcome(run) == ([200], [("200", False)], 0)
    assert run["stats"]["assertions"] == {"total": 1, "pending": 0, "failed": 0}
    assert token not in printed

    # the token is what made it pass: without it (as revoke leaves the file) or with one
    # the instance did not issue, the test script reports the 401 as a failed assertion
    for wrong in ("", "not-a-token-the-instance-issued"):
        for v in exported["values"]:
            if v["key"] == "access_token":
                v["value"] = wrong
        environment.write_text(json.dumps(exported), encoding="utf-8")
        status, run, printed = newman(collection, environment, cwd=tmp_path)
        assert status == 1
        assert outcome(run) == ([401], [("200", True)], 1)
        assert run["stats"]["assertions"] == {"total": 1, "pending": 0, "failed": 1}
        assert token not in printed

    # `snowauth export` again (the token is reused from the cache) puts it back
    again = run_snowauth("export", str(conn), env=env)
    assert again.returncode == 0, again.stderr
    status, run, printed = newman(collection, environment, cwd=tmp_path)
    assert (status, outcome(run)) == (0, ([200], [("200", False)], 0))
    assert token not in printed + again.stdout + again.stderr
