"""The JSON Schema of the file format (draft-07, which taplo / Even Better TOML read)."""

from __future__ import annotations

from typing import Any

from snowauth import model

_TYPES = {"string": "string", "boolean": "boolean", "number": "number", "datetime": "string"}


def _key_schema(spec: model.KeySpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": _TYPES[spec.type],
        "description": spec.doc_markdown().replace("**", ""),
    }
    out["markdownDescription"] = spec.doc_markdown()
    if spec.type == "datetime":
        out["format"] = "date-time"
    if spec.type == "number":
        out["exclusiveMinimum"] = 0
        out["maximum"] = 600  # as analysis checks `timeout`
    if spec.values is not None and spec.type == "string":
        out["enum"] = list(spec.values)
    if spec.default is not None:
        out["default"] = spec.default
    return out


def _required_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for grant in model.GRANTS:
        names = [grant] + ([model.JWT_BEARER_ALIAS] if grant == model.GRANT_JWT_BEARER else [])
        required = list(model.required_keys(grant, pkce=False))
        rule: dict[str, Any] = {
            "if": {"properties": {"grant_type": {"enum": names}}, "required": ["grant_type"]},
            "then": {"required": required},
        }
        if grant == model.GRANT_JWT_BEARER:
            # the key that signs: a key file (RS, ES) or the shared key (HS)
            shared = [alg for alg in model.JWT_ALGORITHMS if model.jwt_shared(alg)]
            rule["then"] = {
                "required": [k for k in required if k != "jwt_key_file"],
                "if": {"properties": {"jwt_algorithm": {"enum": shared}}, "required": ["jwt_algorithm"]},
                "then": {"required": ["jwt_shared_secret"]},
                "else": {"required": ["jwt_key_file"]},
            }
        if grant == model.GRANT_AUTHORIZATION_CODE:
            # client_secret is optional for a public client (pkce = true, the default)
            rule["then"] = {
                "required": [k for k in required if k != "client_secret"],
                "if": {"properties": {"pkce": {"const": False}}, "required": ["pkce"]},
                "then": {"required": ["client_secret"]},
            }
        rules.append(rule)
    return rules


def json_schema() -> dict[str, Any]:
    token = {
        "type": "object",
        "description": model.TOKEN_TABLE_DOC.replace("**", ""),
        "properties": {k: _key_schema(s) for k, s in model.TOKEN_KEYS.items()},
        "additionalProperties": False,
    }
    export = {
        "type": "object",
        "description": model.EXPORT_TABLE_DOC.replace("**", ""),
        "properties": {k: _key_schema(s) for k, s in model.EXPORT_KEYS.items()},
        "additionalProperties": False,
    }
    connection = {
        "type": "object",
        "description": "One ServiceNow OAuth connection.",
        "properties": {
            **{k: _key_schema(s) for k, s in model.CONNECTION_KEYS.items()},
            "token": token,
            model.EXPORT_TABLE: export,
        },
        "required": ["instance"],
        "additionalProperties": False,
        # `client = "servicenow-sdk"`: the instance alone (its grant, if written, is the
        # authorization code); any other connection names its grant and client
        "if": {"properties": {"client": {"const": model.CLIENT_SDK}}, "required": ["client"]},
        "then": {"properties": {"grant_type": {"enum": [model.GRANT_AUTHORIZATION_CODE]}}},
        "else": {"required": ["instance", "grant_type", "client_id"], "allOf": _required_rules()},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://snowauth.invalid/snowauth.schema.json",
        "title": "snowauth connection file (*.snowauth.toml)",
        "type": "object",
        "properties": {
            "default": _key_schema(model.TOP_KEYS["default"]),
            "connections": {
                "type": "object",
                "description": model.CONNECTIONS_DOC.replace("**", ""),
                "additionalProperties": connection,
            },
        },
        "additionalProperties": False,
    }
