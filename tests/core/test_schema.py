"""`snowauth schema`: valid draft-07 JSON Schema that taplo applies like the editor's checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from snowauth import model
from snowauth.schema import json_schema
from tests.kit.analysis import HEX32

TAPLO = Path(sys.executable).parent / "taplo"


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = subprocess.run(
        [sys.executable, "-m", "snowauth", "schema"], capture_output=True, text=True, timeout=60, check=True
    )
    path = tmp_path_factory.mktemp("schema") / "snowauth.schema.json"
    path.write_text(out.stdout)
    return path


def taplo_ok(schema: Path, tmp_path: Path, text: str) -> tuple[bool, str]:
    doc = tmp_path / "x.snowauth.toml"
    doc.write_text(text)
    r = subprocess.run(
        [str(TAPLO), "lint", "--no-auto-config", "--schema", schema.as_uri(), str(doc)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return r.returncode == 0, r.stdout + r.stderr


def test_schema_is_draft_07_json(schema_file: Path) -> None:
    data = json.loads(schema_file.read_text())
    assert data == json_schema()
    assert data["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert data["type"] == "object"
    assert data["additionalProperties"] is False
    conn = data["properties"]["connections"]["additionalProperties"]
    assert set(conn["properties"]) == {*model.CONNECTION_KEYS, "token", "export"}
    assert set(conn["properties"]["export"]["properties"]) == set(model.EXPORT_KEYS)
    assert set(conn["properties"]["token"]["properties"]) == set(model.TOKEN_KEYS)
    # every connection names its instance; one without `client = "servicenow-sdk"` its grant and client too
    assert conn["required"] == ["instance"]
    assert conn["if"] == {"properties": {"client": {"const": "servicenow-sdk"}}, "required": ["client"]}
    assert conn["else"]["required"] == ["instance", "grant_type", "client_id"]
    assert conn["properties"]["grant_type"]["enum"] == [*model.GRANTS, "jwt_bearer"]
    for key, spec in model.CONNECTION_KEYS.items():
        prop = conn["properties"][key]
        assert prop["markdownDescription"] == spec.doc_markdown()
        assert "**" not in prop["description"]


DRAFT_07_KEYWORDS = {
    "$schema", "$id", "$ref", "$comment", "title", "description", "default", "examples",
    "type", "enum", "const", "format", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "items", "additionalItems",
    "maxItems", "minItems", "uniqueItems", "contains", "maxProperties", "minProperties",
    "required", "properties", "patternProperties", "additionalProperties", "dependencies",
    "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not", "definitions",
    "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    "markdownDescription",  # the VS Code / taplo extension for hover docs
}  # fmt: skip


def test_schema_uses_only_draft_07_keywords_with_draft_07_shapes(schema_file: Path) -> None:
    def walk(node: object, path: str) -> None:
        assert isinstance(node, dict), path
        for key, value in node.items():
            assert key in DRAFT_07_KEYWORDS, f"{path}/{key}"
            if key in ("properties", "definitions", "patternProperties"):
                for name, sub in value.items():
                    walk(sub, f"{path}/{key}/{name}")
            elif key in ("additionalProperties", "if", "then", "else", "not", "items") and isinstance(value, dict):
                walk(value, f"{path}/{key}")
            elif key in ("allOf", "anyOf", "oneOf"):
                for i, sub in enumerate(value):
                    walk(sub, f"{path}/{key}/{i}")
            elif key == "required":
                assert isinstance(value, list) and all(isinstance(x, str) for x in value)
            elif key in ("exclusiveMinimum", "maximum"):
                assert isinstance(value, int | float)  # a number in draft-07, not a boolean
            elif key == "type":
                assert value in ("object", "string", "number", "boolean", "integer", "array")

    walk(json.loads(schema_file.read_text()), "")


BASE = {
    "password": ["username = 'u'", "password = '${prompt}'"],
    "refresh_token": ["refresh_token = '${env:RT}'"],
    "client_credentials": [],
    "authorization_code": ["redirect_uri = 'http://127.0.0.1:53682/callback'"],
    "urn:ietf:params:oauth:grant-type:jwt-bearer": ["jwt_key_file = 'k.pem'", "jwt_subject = 's'"],
    "jwt_bearer": ["jwt_key_file = 'k.pem'", "jwt_subject = 's'"],
}


def connection(grant: str, *extra: str, drop: str = "", secret: bool = True) -> str:
    lines = [
        'default = "dev"',
        "[connections.dev]",
        'instance = "dev12345"',
        f'grant_type = "{grant}"',
        f'client_id = "{HEX32}"',
    ]
    if secret:
        lines.append('client_secret = "${env:SNOW_SECRET}"')
    lines += BASE[grant]
    lines += extra
    lines = [line for line in lines if not (drop and line.startswith(drop + " "))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("grant", list(BASE))
def test_taplo_accepts_valid_files(schema_file: Path, tmp_path: Path, grant: str) -> None:
    text = connection(grant, "scope = 'useraccount'", "timeout = 12.5", "client_auth = 'basic'")
    text += "[connections.dev.token]\naccess_token = 'a'\nexpires_at = 2026-11-28T10:29:59Z\n"
    ok, out = taplo_ok(schema_file, tmp_path, text)
    assert ok, out


def test_taplo_accepts_a_public_authorization_code_client(schema_file: Path, tmp_path: Path) -> None:
    ok, out = taplo_ok(schema_file, tmp_path, connection("authorization_code", secret=False))
    assert ok, out
    ok, out = taplo_ok(schema_file, tmp_path, connection("authorization_code", "pkce = true", secret=False))
    assert ok, out


def test_taplo_takes_the_sdk_client_alone_and_no_other_grant_with_it(schema_file: Path, tmp_path: Path) -> None:
    sdk = '[connections.dev]\ninstance = "dev12345"\nclient = "servicenow-sdk"\n'
    ok, out = taplo_ok(schema_file, tmp_path, sdk)
    assert ok, out
    ok, out = taplo_ok(schema_file, tmp_path, sdk + 'grant_type = "authorization_code"\n')
    assert ok, out
    ok, out = taplo_ok(schema_file, tmp_path, sdk + 'grant_type = "password"\n')
    assert not ok and "grant_type" in out, out
    ok, out = taplo_ok(schema_file, tmp_path, '[connections.dev]\ninstance = "dev12345"\n')
    assert not ok and "grant_type" in out, out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (connection("password", "scop = 'x'"), "scop"),
        (connection("password") + "[connections.dev.token]\nfoo = 1\n", "foo"),
        (connection("password") + "extra = 1\n".replace("extra", "[oops]\nextra"), "oops"),
        (connection("password", "timeout = '30'"), "timeout"),
        (connection("password", "timeout = 0"), "timeout"),
        (connection("password", "timeout = 601"), "timeout"),
        (connection("password", "pkce = 'yes'"), "pkce"),
        (connection("password", "client_auth = 'basc'"), "basc"),
        (connection("password", "token_store = 'disk'"), "disk"),
        (connection("password").replace('"password"', '"pasword"'), "pasword"),
        (connection("password") + "[connections.dev.token]\nexpires_at = 1\n", "expires_at"),
        (connection("password", drop="password"), "password"),
        (connection("password", drop="username"), "username"),
        (connection("password", drop="instance"), "instance"),
        (connection("client_credentials", secret=False), "client_secret"),
        (connection("refresh_token", drop="refresh_token"), "refresh_token"),
        (connection("authorization_code", drop="redirect_uri"), "redirect_uri"),
        (connection("authorization_code", "pkce = false", secret=False), "client_secret"),
        (connection("jwt_bearer", drop="jwt_subject"), "jwt_subject"),
        (connection("urn:ietf:params:oauth:grant-type:jwt-bearer", drop="jwt_key_file"), "jwt_key_file"),
        ("default = 1\n", "default"),
    ],
)
def test_taplo_rejects(schema_file: Path, tmp_path: Path, text: str, says: str) -> None:
    ok, out = taplo_ok(schema_file, tmp_path, text)
    assert not ok, text
    assert says in out


def test_the_extensions_copy_is_the_schema_snowauth_prints(schema_file: Path) -> None:
    # client-vscode/package.json points Even Better TOML at this file: it must follow the
    # model (regenerate it with `snowauth schema > client-vscode/schema/snowauth.schema.json`)
    shipped = Path(__file__).resolve().parents[2] / "client-vscode" / "schema" / "snowauth.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == json.loads(schema_file.read_text(encoding="utf-8"))
