"""docs/reference.md, generated from the model and the diagnostic codes (`codes.py`; a test
fails when the file is stale)."""

from __future__ import annotations

from snowauth import model
from snowauth.codes import CODES
from snowauth.findings import SEVERITY_NAMES


def _row(spec: model.KeySpec) -> str:
    grants = ", ".join(f"`{g}`" for g in sorted(spec.grants)) if spec.grants else "all"
    default = (
        ""
        if spec.default is None
        else f"`{str(spec.default).lower() if isinstance(spec.default, bool) else spec.default}`"
    )
    values = ", ".join(f"`{v}`" for v in spec.values) if spec.values else ""
    text = spec.summary + (f" *In ServiceNow:* {spec.where}" if spec.where else "")
    return f"| `{spec.name}` | {spec.type} | {grants} | {default} | {values} | {text} |"


def reference_markdown() -> str:
    lines = [
        "# Connection file reference",
        "",
        "<!-- Generated from server/snowauth/model.py by `snowauth reference`; do not edit. -->",
        "",
        "A `*.snowauth.toml` file holds `default` (optional, the connection the CLI uses) and one",
        "`[connections.<name>]` table per connection. Any string value may be a secret reference:",
        "`${env:NAME}`, `${file:path}` or `${prompt}`.",
        "",
        "## Required keys per grant",
        "",
        "| grant_type | required keys |",
        "|---|---|",
    ]
    for grant in model.GRANTS:
        keys = ", ".join(f"`{k}`" for k in model.required_keys(grant, pkce=True))
        note = " (`client_secret` too when `pkce = false`)" if grant == model.GRANT_AUTHORIZATION_CODE else ""
        lines.append(f"| `{grant}` | {keys}{note} |")
    sdk = ", ".join(f"`{k}`" for k in model.required_keys(None, client=model.CLIENT_SDK))
    lines.append(
        f'| left out, with `client = "{model.CLIENT_SDK}"` | {sdk} (the grant is `{model.GRANT_AUTHORIZATION_CODE}`) |'
    )
    lines += [
        "",
        "## Keys of `[connections.<name>]`",
        "",
        "| key | type | grants | default | values | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(s) for s in model.CONNECTION_KEYS.values()]
    lines += [
        "",
        "## Keys of `[connections.<name>.token]`",
        "",
        "| key | type | grants | default | values | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(s) for s in model.TOKEN_KEYS.values()]
    lines += [
        "",
        "## Keys of `[connections.<name>.export]`",
        "",
        model.EXPORT_TABLE_DOC.replace("**export**: f", "F"),
        "",
        "| key | type | grants | default | values | meaning |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(s) for s in model.EXPORT_KEYS.values()]
    lines += ["", "## Grants", ""]
    lines += [f"- `{g}`: {doc}" for g, doc in model.GRANT_DOCS.items()]
    lines += _codes()
    return "\n".join(lines) + "\n"


_WHO = {"check": "", "cli": " (`snowauth check` only)", "editor": " (the editor only)"}


def _codes() -> list[str]:
    """One heading per code: its anchor is the code itself (the help link of a SARIF rule,
    `report_formats.py`)."""
    lines = ["", "## Diagnostic codes", ""]
    lines.append(
        "Each problem snowauth reports carries one of these codes (in the editor, `snowauth check`'s "
        "`[code]` and its JSON and SARIF output). The severity is the usual one."
    )
    for c in CODES:
        lines += ["", f"### {c.id}", "", f"{SEVERITY_NAMES[c.severity].capitalize()}{_WHO[c.by]}: {c.title}. {c.text}"]
    return lines
