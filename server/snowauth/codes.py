"""Every diagnostic code a finding can carry, in one list: its usual severity, a title and
what it means. The checks name their codes as strings (docs/decisions.md, "Diagnostics");
this list is what the reports built for other tools read (`snowauth check --format
sarif`'s rules, `report_formats.py`) and what docs/reference.md's "Diagnostic codes"
section is generated from. `tests/cli/test_check_formats.py` reads every code the checks
write and fails on one missing here."""

from __future__ import annotations

from dataclasses import dataclass

from snowauth.findings import ERROR, HINT, INFORMATION, WARNING


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    severity: int  # the usual one; a result carries its own
    title: str  # one line, no markdown
    text: str  # what it means and what to do, in markdown
    #: who reports it: "check" (the file's checks: `snowauth check` and the editor),
    #: "cli" (`snowauth check` only) or "editor" (the language server only)
    by: str = "check"


def _c(code: str, severity: int, title: str, text: str, by: str = "check") -> Code:
    return Code(code, severity, title, text, by)


CODES: tuple[Code, ...] = (
    # TOML itself (docs/decisions.md, "TOML validity")
    _c(
        "toml-syntax",
        ERROR,
        "The file is not valid TOML",
        "The text breaks TOML 1.0.0's grammar (an unclosed string, a missing `=`, an invalid escape…). "
        "The rest of the file is still read, so the other problems are reported too.",
    ),
    _c(
        "nesting-too-deep",
        ERROR,
        "Arrays, inline tables or key parts nested too deep",
        "More than 100 levels of arrays, inline tables or dotted key parts: snowauth stops reading there.",
    ),
    _c("duplicate-key", ERROR, "A key is defined twice", "TOML forbids defining the same key twice in a table."),
    _c(
        "duplicate-table",
        ERROR,
        "A table is defined twice",
        "TOML forbids a second `[table]` header for a table already defined (by a header or dotted keys).",
    ),
    _c(
        "duplicate-connection",
        ERROR,
        "A connection is defined twice",
        "Two `[connections.<name>]` tables have the same name: rename one of them.",
    ),
    _c(
        "array-of-tables",
        ERROR,
        "An array of tables where a table belongs",
        "`[[connections]]` and other arrays of tables are not part of the file format: each connection is "
        "a table `[connections.<name>]`.",
    ),
    _c(
        "encoding",
        ERROR,
        "The file is not UTF-8",
        "TOML files are UTF-8; the bytes that are not were replaced before checking.",
        by="cli",
    ),
    # the file format (docs/reference.md)
    _c(
        "wrong-type",
        ERROR,
        "A value of the wrong type",
        "The key's value has another type than the file format says (a string for a number, a value for "
        "a table…): see the key in the reference.",
    ),
    _c(
        "unknown-key",
        ERROR,
        "A key the file format does not have",
        "A misspelt or unknown key: the message suggests the closest known key, and a quick fix in the "
        "editor writes it.",
    ),
    _c(
        "unknown-connection",
        ERROR,
        "`default` names no connection",
        "The top-level `default` must be the name of a connection of the file.",
    ),
    _c(
        "connection-named-connections",
        INFORMATION,
        "Dotted `connections.` keys under `[connections]`",
        "Under a `[connections]` header, dotted keys `connections.x.*` make a connection named "
        "`connections`: the `connections.` prefix is probably one too many.",
    ),
    _c(
        "invalid-grant-type",
        ERROR,
        "An unknown grant",
        "`grant_type` must be one of the grants in the reference (`password`, `client_credentials`, "
        "`authorization_code`, `refresh_token`, the JWT bearer grant).",
    ),
    _c(
        "client-grant",
        ERROR,
        "A grant the named client does not use",
        '`client = "servicenow-sdk"` signs in with the authorization code grant: write '
        "`authorization_code`, or leave `grant_type` out.",
    ),
    _c(
        "missing-key",
        ERROR,
        "A key the grant needs is missing",
        "Each grant needs its keys (see *Required keys per grant* in the reference).",
    ),
    _c(
        "ignored-key",
        WARNING,
        "A key the grant does not use",
        "The key is read by another grant only and is ignored here; the editor offers to remove the line.",
    ),
    # values
    _c(
        "invalid-value",
        ERROR,
        "A value out of its range",
        "The value is not one the key accepts (its allowed values, a positive number…).",
    ),
    _c(
        "invalid-instance",
        ERROR,
        "Not an instance address",
        "`instance` must be an instance's name (`dev12345`), its host or an `https://` URL.",
    ),
    _c(
        "insecure-instance",
        ERROR,
        "`http://` to an instance that is not this machine",
        "Credentials would travel unencrypted: use `https://` (plain `http://` is allowed for a loopback "
        "address only, such as the emulator).",
    ),
    _c(
        "invalid-redirect-uri",
        ERROR,
        "A redirect URL that cannot work",
        "`redirect_uri` must be an absolute URL; a loopback one needs `http://` and an explicit port.",
    ),
    _c(
        "paste-code",
        INFORMATION,
        "The code will be pasted",
        "`redirect_uri` is not a loopback address of this machine: after you sign in, you paste the code "
        "the page shows (or the address the browser landed on).",
    ),
    _c(
        "client-id-shape",
        WARNING,
        "A client ID that does not look like ServiceNow's",
        "ServiceNow's client IDs are 32 hexadecimal characters; this one is not, which is often a copy of "
        "the wrong field.",
    ),
    _c(
        "otp-not-prompt",
        WARNING,
        '`otp` is not `"${prompt}"`',
        "A one-time code changes at each sign-in: `otp` must be asked each time.",
    ),
    # secrets (SECURITY.md)
    _c(
        "literal-secret",
        WARNING,
        "A secret written in the file",
        "A password, client secret or token written as is ends up in version control and in screenshots: "
        'use `"${env:NAME}"`, `"${file:path}"` or `"${prompt}"`. The editor\'s quick fix moves the value '
        "to `.env`.",
    ),
    _c(
        "invalid-reference",
        WARNING,
        "A malformed secret reference",
        'A reference must be the whole value (`"${env:NAME}"`, `"${file:path}"`, `"${prompt}"`); anything '
        "else is read literally.",
    ),
    _c(
        "unresolved-reference",
        WARNING,
        "A secret reference with no value",
        "The environment variable is not set (neither in the process nor in `.env`), or the file is missing.",
    ),
    _c(
        "missing-file",
        WARNING,
        "A file that does not exist",
        "`jwt_key_file` or `ca_bundle` names a file that is not there.",
    ),
    _c(
        "not-pem",
        WARNING,
        "A file that is not PEM",
        "The key or certificate file does not hold PEM text (`-----BEGIN …-----`).",
    ),
    _c(
        "file-outside-roots",
        WARNING,
        "A file outside the allowed folders",
        "A file named by the connection is outside the connection file's folder and "
        "`$SNOWAUTH_FILE_ROOTS`: it is not read (SECURITY.md).",
    ),
    _c(
        "export-outside-roots",
        WARNING,
        "An export target outside the allowed folders",
        "An `export` path is outside the connection file's folder and `$SNOWAUTH_FILE_ROOTS`: nothing is "
        "written there.",
    ),
    # the stored token
    _c(
        "invalid-token",
        ERROR,
        "A stored token snowauth will not use",
        "The stored token holds characters outside visible ASCII.",
    ),
    _c(
        "token-expired",
        INFORMATION,
        "The stored token has expired",
        "Refresh it, or fetch a new one.",
    ),
    _c(
        "tokens-in-git",
        WARNING,
        "Tokens in a file git would publish",
        "The file holds a token and git tracks it (or would add it): keep tokens in the token cache "
        '(`token_store = "cache"`) or ignore the file.',
    ),
    _c(
        "export-in-git",
        WARNING,
        "An export target git would publish",
        "The file a token is exported to is tracked by git, or not ignored: ignore it.",
    ),
    # several files: `snowauth check` given several, and the editor's workspace (docs/decisions.md,
    # "Workspace-wide diagnostics")
    _c(
        "duplicate-connection-across-files",
        WARNING,
        "A connection name is defined in another file too",
        "Two connection files of the workspace (or of one `snowauth check` run) define a connection of the same "
        "name: a task or command that names only the connection (`snowauth.accessToken`) takes the first file "
        "by path. Rename one of them, or name the file too.",
    ),
    _c(
        "default-across-files",
        HINT,
        "More than one file declares a `default`",
        "Several connection files declare a `default`: each applies to its own file only, which a reader may "
        "not expect.",
    ),
    # `snowauth check` only
    _c("unreadable", ERROR, "The file cannot be read", "The file could not be opened or read.", by="cli"),
    _c("not-found", ERROR, "No such file or folder", "A path given to `snowauth check` does not exist.", by="cli"),
    # the editor only
    _c(
        "fetch-failed",
        ERROR,
        "Fetching a token failed",
        "The last fetch, refresh or revoke of the connection failed; the message says why.",
        by="editor",
    ),
    _c(
        "too-many-problems",
        INFORMATION,
        "More problems than shown",
        "The editor shows at most 1,000 problems per file, the most severe first.",
        by="editor",
    ),
)

BY_ID: dict[str, Code] = {c.id: c for c in CODES}
#: a code the list does not know (never expected: the tests read every code the checks write)
_UNKNOWN_TEXT = "A problem snowauth reports."


def code_info(code: str) -> Code:
    """The code's entry; one the list lacks gets a neutral one rather than failing a report."""
    return BY_ID.get(code) or Code(code, WARNING, code, _UNKNOWN_TEXT)
