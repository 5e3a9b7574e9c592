"""A consumer no one here wrote: httpYac (the CLI of the httpYac VS Code extension, from
npm) sends a `.http` request with the `http_client` export of `snowauth export`, against
the emulator over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth
from tests.kit.consumers import TABLE_REQUEST, export_project, httpyac


def test_httpyac_sends_with_the_exported_token(tmp_path: Path, emulator: Emulator) -> None:
    project, conn, env = export_project(tmp_path, emulator.url, "http_client", "http-client.private.env.json")
    exported = json.loads((project / "http-client.private.env.json").read_text(encoding="utf-8"))
    assert exported["dev"]["instance_url"] == emulator.url
    (project / "api.http").write_text(TABLE_REQUEST, encoding="utf-8")

    # run from another folder: httpYac finds the environment file beside the .http file
    sent = httpyac(project / "api.http", "dev", cwd=tmp_path)
    assert [r["response"]["statusCode"] for r in sent] == [200]
    body = json.loads(sent[0]["response"]["body"])
    assert [u["user_name"] for u in body["result"]] == ["integration.user"]
    assert sent[0]["response"]["request"]["url"] == f"{emulator.url}/api/now/table/sys_user?sysparm_limit=1"

    # the token is what made it pass: another one in the file is refused by the instance
    exported["dev"]["access_token"] = "not-a-token-the-instance-issued"
    (project / "http-client.private.env.json").write_text(json.dumps(exported), encoding="utf-8")
    refused = httpyac(project / "api.http", "dev", cwd=tmp_path)
    assert [r["response"]["statusCode"] for r in refused] == [401]

    # `snowauth export` again (the token is reused from the cache) puts it back
    again = run_snowauth("export", str(conn), env=env)
    assert again.returncode == 0, again.stderr
    assert [r["response"]["statusCode"] for r in httpyac(project / "api.http", "dev", cwd=tmp_path)] == [200]
