"""`snowauth check --format sarif|github` run as a subprocess: SARIF 2.1.0 validated against
its JSON schema, rules from the one list of codes, columns in UTF-16 code units, GitHub
workflow commands escaped, exit statuses as for text, and no secret in any of it."""

from __future__ import annotations

import ast
import itertools
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import snowauth
from snowauth import workspace
from snowauth.codes import BY_ID, CODES
from snowauth.report_formats import escape_data, escape_property
from tests.kit.cli import run_snowauth
from tests.kit.consumers import sarif_validator
from tests.kit.git import git

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-do-not-print"
ACCESS = "tok3n-do-not-print"

# non-ASCII before the findings: "é😀" is 2 code points and 3 UTF-16 code units
UNICODE = """# café ✓ 😀
[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "é😀"
client_secret = "${prompt}"
export = { dotenv = "😀.env", fooo = "x" }
"""

# each file its own connection name (a name in two files of one run is reported: cross-file)
CLEAN = """[connections.prd]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${prompt}"
"""

ERRORS = f"""[connections.err]
instance = "http://example.com"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "{SECRET}"
"""

TOKEN = f"""[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${{prompt}}"
token_store = "file"

[connections.dev.token]
access_token = "{ACCESS}"
"""


def check(*args: str, cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOW")}
    env["PYTHONIOENCODING"] = "utf-8"
    done = run_snowauth("check", *args, cwd=cwd, env=env)
    return done.returncode, done.stdout, done.stderr


def sarif(*args: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = check("--format", "sarif", *args, cwd=cwd)
    log = json.loads(out)
    errors = sorted(sarif_validator().iter_errors(log), key=str)
    assert errors == [], [e.message for e in errors]
    assert SECRET not in out and ACCESS not in out and SECRET not in err
    return code, log


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "u.snowauth.toml").write_text(UNICODE, encoding="utf-8")
    (tmp_path / "clean.snowauth.toml").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "sub" / "err.snowauth.toml").write_text(ERRORS, encoding="utf-8")
    return tmp_path


def _region(result: dict[str, Any]) -> tuple[str, int, int, int, int]:
    loc = result["locations"][0]["physicalLocation"]
    r = loc["region"]
    return loc["artifactLocation"]["uri"], r["startLine"], r["startColumn"], r["endLine"], r["endColumn"]


def test_sarif_log_of_several_files(project: Path) -> None:
    code, log = sarif(".", cwd=project)
    assert code == 1  # errors: as for text
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("snowauth", snowauth.__version__)
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "utf16CodeUnits"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": project.resolve().as_uri() + "/"}}
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [c.id for c in CODES]
    found = [(r["ruleId"], r["level"], *_region(r)) for r in run["results"]]
    assert found == [
        ("client-id-shape", "warning", "u.snowauth.toml", 5, 13, 5, 18),
        ("unknown-key", "error", "u.snowauth.toml", 7, 31, 7, 35),
        ("missing-key", "error", "sub/err.snowauth.toml", 1, 1, 1, 18),
        ("missing-key", "error", "sub/err.snowauth.toml", 1, 1, 1, 18),
        ("insecure-instance", "error", "sub/err.snowauth.toml", 2, 12, 2, 32),
        ("literal-secret", "warning", "sub/err.snowauth.toml", 5, 17, 5, 39),
    ]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert "`" not in result["message"]["text"]  # plain text; the markdown is beside it
    unknown = next(r for r in run["results"] if r["ruleId"] == "unknown-key")
    assert unknown["message"]["text"].startswith("Unknown key fooo in the export table of dev")
    assert unknown["message"]["markdown"].startswith("Unknown key `fooo`")


def test_text_columns_count_code_points_sarif_utf16(project: Path) -> None:
    # the same findings: text counts characters (code points), SARIF UTF-16 code units
    _, out, _ = check("u.snowauth.toml", cwd=project)
    assert out.splitlines()[:2] == [
        "u.snowauth.toml:5:13: warning: Client IDs generated by ServiceNow are 32 hexadecimal characters: "
        "check that this is the Client ID of the Application Registry record [client-id-shape]",
        "u.snowauth.toml:7:30: error: Unknown key fooo in the export table of dev (known keys: dotenv, "
        "http_client, postman) [unknown-key]",
    ]
    _, log = sarif("u.snowauth.toml", cwd=project)
    line5, line7 = UNICODE.splitlines()[4], UNICODE.splitlines()[6]
    [shape, unknown] = log["runs"][0]["results"]
    region = shape["locations"][0]["physicalLocation"]["region"]
    units = line5.encode("utf-16-le")
    assert units[(region["startColumn"] - 1) * 2 : (region["endColumn"] - 1) * 2].decode("utf-16-le") == '"é😀"'
    region = unknown["locations"][0]["physicalLocation"]["region"]
    units = line7.encode("utf-16-le")
    assert units[(region["startColumn"] - 1) * 2 : (region["endColumn"] - 1) * 2].decode("utf-16-le") == "fooo"


def test_rules_come_from_the_one_list_with_levels_and_help(project: Path) -> None:
    _, log = sarif("clean.snowauth.toml", cwd=project)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    levels = {1: "error", 2: "warning", 3: "note", 4: "note"}
    assert len({r["id"] for r in rules}) == len(rules) == len(CODES)
    for rule, c in zip(rules, CODES, strict=True):
        assert rule["id"] == c.id
        assert rule["name"] == "".join(p.capitalize() for p in c.id.split("-"))
        assert rule["shortDescription"]["text"] == c.title
        assert rule["fullDescription"]["markdown"] == rule["help"]["markdown"] == c.text
        assert rule["defaultConfiguration"]["level"] == levels[c.severity]
        anchor = rule["helpUri"].rsplit("#", 1)[1]
        assert rule["helpUri"].split("#")[0].endswith("/docs/reference.md") and anchor == c.id
        assert f"\n### {anchor}\n" in reference  # GitHub's anchor of that heading is the code
    assert next(r for r in rules if r["id"] == "tokens-in-git")["defaultConfiguration"]["level"] == "warning"


def test_no_findings_is_one_run_with_no_results(project: Path) -> None:
    code, log = sarif("clean.snowauth.toml", cwd=project)
    assert code == 0
    [run] = log["runs"]
    assert run["results"] == [] and run["invocations"] == [{"executionSuccessful": True}]


def test_warnings_only_exit_zero_and_no_file_exit_two(project: Path) -> None:
    (project / "w").mkdir()
    (project / "w" / "warn.snowauth.toml").write_text(CLEAN.replace('"0123', '"x0123'), encoding="utf-8")
    code, log = sarif("w", cwd=project)
    assert code == 0
    assert [r["level"] for r in log["runs"][0]["results"]] == ["warning"]
    (project / "empty").mkdir()
    code, log = sarif("empty", cwd=project)
    assert code == 2  # a CI job pointed at the wrong folder must not pass
    [run] = log["runs"]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is False
    code, out, err = check("--format", "github", "empty", cwd=project)
    assert (code, out) == (2, "") and "no *.snowauth.toml file" in err


def test_paths_outside_the_working_directory_are_file_uris(project: Path) -> None:
    (project / "in dir").mkdir()
    (project / "in dir" / "x%y é.snowauth.toml").write_text(UNICODE, encoding="utf-8")
    _, log = sarif("--", str(project / "in dir"), cwd=project / "sub")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    [uri] = uris
    assert uri == (project / "in dir" / "x%y é.snowauth.toml").as_uri()
    assert "%20" in uri and "%25" in uri and "%C3%A9" in uri and unquote(uri).endswith("/in dir/x%y é.snowauth.toml")
    result = log["runs"][0]["results"][0]
    assert "uriBaseId" not in result["locations"][0]["physicalLocation"]["artifactLocation"]
    _, log = sarif("../in dir", cwd=project / "sub")
    [uri] = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uri.startswith("file:///")


def test_github_workflow_commands(project: Path) -> None:
    code, out, err = check("--format", "github", ".", cwd=project)
    assert code == 1 and err == ""
    assert SECRET not in out
    assert out.splitlines() == [
        "::warning file=u.snowauth.toml,line=5,col=13,endLine=5,endColumn=18,title=snowauth client-id-shape::"
        "Client IDs generated by ServiceNow are 32 hexadecimal characters: check that this is the Client ID "
        "of the Application Registry record",
        "::error file=u.snowauth.toml,line=7,col=31,endLine=7,endColumn=35,title=snowauth unknown-key::"
        "Unknown key fooo in the export table of dev (known keys: dotenv, http_client, postman)",
        "::error file=sub/err.snowauth.toml,line=1,col=1,endLine=1,endColumn=18,title=snowauth missing-key::"
        "The connection err is missing username (required for the password grant)",
        "::error file=sub/err.snowauth.toml,line=1,col=1,endLine=1,endColumn=18,title=snowauth missing-key::"
        "The connection err is missing password (required for the password grant)",
        "::error file=sub/err.snowauth.toml,line=2,col=12,endLine=2,endColumn=32,title=snowauth insecure-instance::"
        "http:// sends credentials in clear text: use https://example.com (plain http is allowed only for "
        "loopback hosts such as 127.0.0.1)",
        "::warning file=sub/err.snowauth.toml,line=5,col=17,endLine=5,endColumn=39,title=snowauth literal-secret::"
        "client_secret is written in plain text: move it to an environment variable, e.g. "
        "${env:SNOW_ERR_CLIENT_SECRET}",
    ]


def test_github_escapes_properties_and_message(tmp_path: Path) -> None:
    # a file name with `,` and `:`, a key with `%`: the command cannot be cut short or forged
    (tmp_path / "a,b:c.snowauth.toml").write_text(
        '[connections.dev]\n"fo%o,x::warning file=y::z" = 1\n', encoding="utf-8"
    )
    code, out, _ = check("--format", "github", ".", cwd=tmp_path)
    assert code == 1
    lines = [line for line in out.splitlines() if "unknown-key" in line]
    assert len(lines) == 1
    props, message = lines[0].removeprefix("::error ").split("::", 1)
    assert props.startswith("file=a%2Cb%3Ac.snowauth.toml,line=2,col=1,")
    assert "fo%25o,x::warning file=y::z" in message  # in the message only % (and CR, LF) are escaped
    assert escape_data("100% a\r\nb") == "100%25 a%0D%0Ab"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_a_token_tracked_by_git_is_reported_without_its_value(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "t.snowauth.toml").write_text(TOKEN, encoding="utf-8")
    git(tmp_path, "add", "t.snowauth.toml")
    code, log = sarif("t.snowauth.toml", cwd=tmp_path)
    assert code == 0  # a warning
    [result] = log["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("tokens-in-git", "warning")
    assert "tracked by git" in result["message"]["text"]
    code, out, _ = check("--format", "github", "--fail-on", "tokens-in-git", "t.snowauth.toml", cwd=tmp_path)
    assert code == 1  # as the pre-commit hook asks
    assert out.startswith("::warning file=t.snowauth.toml,line=9,col=1,") and ACCESS not in out
    code, _, err = check("--fail-on", "no-such-code", "t.snowauth.toml", cwd=tmp_path)
    assert code == 2 and "unknown code no-such-code" in err


def _codes_written_in(source: str) -> set[str]:
    """Every code the source passes to a finding: the string after a severity constant in
    a call (`Finding(…, ERROR, "code", …)`, `ch.add(…, WARNING, "code", …)`), the third
    argument of document.py's `issue(…)`, `code=` and `code: str = "…"` defaults."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            args = node.args
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            # document.py's issue(start, end, code, message)
            third = args[2] if func in {"issue", "Issue"} and len(args) > 2 else None
            if isinstance(third, ast.Constant) and isinstance(third.value, str):
                out.add(third.value)
            for a, b in itertools.pairwise(args):
                severity = isinstance(a, ast.Name) and a.id in {"ERROR", "WARNING", "INFORMATION", "HINT"}
                if severity and isinstance(b, ast.Constant) and isinstance(b.value, str):
                    out.add(b.value)
            out.update(
                k.value.value
                for k in node.keywords
                if k.arg == "code" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
            )
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets}
            if names & {"code", "NESTING_CODE"} and isinstance(node.value.value, str):
                out.add(node.value.value)
        elif isinstance(node, ast.arguments):
            params = [*node.posonlyargs, *node.args, *node.kwonlyargs]
            defaults = [*([None] * (len(node.posonlyargs) + len(node.args) - len(node.defaults))), *node.defaults]
            defaults += node.kw_defaults
            for p, d in zip(params, defaults, strict=True):
                if p.arg == "code" and isinstance(d, ast.Constant) and isinstance(d.value, str):
                    out.add(d.value)
    return out


def test_every_code_the_checks_write_is_in_the_list() -> None:
    package = Path(snowauth.__file__).parent
    written: set[str] = set()
    for path in package.rglob("*.py"):
        if "emulator" in path.parts or "oauth" in path.parts or path.name == "codes.py":
            continue  # the instance's own error codes, never a finding's; the list itself
        written |= _codes_written_in(path.read_text(encoding="utf-8"))
    # the ones a condition picks (document.py's duplicates) and the instance's address
    written |= {"duplicate-connection", "duplicate-table", "duplicate-key", "invalid-instance", "insecure-instance"}
    # the cross-file ones, named by workspace.py's constants
    written |= {workspace.DUPLICATE_ACROSS_FILES, workspace.DEFAULT_ACROSS_FILES}
    assert {"toml-syntax", "nesting-too-deep", "tokens-in-git", "fetch-failed", "unknown-key"} <= written
    assert sorted(written - BY_ID.keys()) == []
    assert sorted(BY_ID.keys() - written) == []


def test_check_only_codes_are_results_too(tmp_path: Path) -> None:
    (tmp_path / "latin1.snowauth.toml").write_bytes(b"# caf\xe9\n[connections.dev]\n")
    code, log = sarif("latin1.snowauth.toml", "missing.snowauth.toml", cwd=tmp_path)
    assert code == 1
    results = log["runs"][0]["results"]
    first = results[0]
    assert (first["ruleId"], first["level"]) == ("encoding", "error")
    assert _region(first) == ("latin1.snowauth.toml", 1, 1, 1, 1)
    assert (results[-1]["ruleId"], *_region(results[-1])) == ("not-found", "missing.snowauth.toml", 1, 1, 1, 1)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
