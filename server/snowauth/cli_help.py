"""The command line's help pages (`snowauth [COMMAND] --help`): their formatter (prose
filled to the terminal, examples printed as written), each command's EXAMPLES section,
and `--version`. `snowauth.cli` builds the parser with them."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """A help page's prose paragraphs are filled to the terminal's width; a paragraph with
    indented lines (the EXAMPLES, a file's text) is printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        return "\n\n".join(
            textwrap.indent(p, indent)
            if any(line.startswith(" ") for line in p.splitlines())
            else textwrap.fill(" ".join(p.split()), width, initial_indent=indent, subsequent_indent=indent)
            for p in paragraphs
        )


class Parser(argparse.ArgumentParser):
    """`snowauth`'s parser and each command's: its page formatted by `HelpFormatter`, with
    the command's EXAMPLES as epilog and, where the command gives none, its DESCRIPTIONS
    entry (the command is the last word of the parser's prog: `snowauth check`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        command = str(kwargs.get("prog") or "").rpartition(" ")[2]
        kwargs.setdefault("epilog", EXAMPLES.get(command))
        if not kwargs.get("description"):
            kwargs["description"] = DESCRIPTIONS.get(command)
        super().__init__(*args, **kwargs)


class VersionAction(argparse.Action):
    """`--version`: `snowauth <version>` from the installed package's metadata, looked up
    only when asked (`snowauth check` does not pay for it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(f"snowauth {version()}")
        parser.exit(0)


def version() -> str:
    """The installed distribution's version (the package's own when run from a source tree)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("snowauth")
    except PackageNotFoundError:
        from snowauth import __version__

        return __version__


# The description of the commands whose `add_parser` gives only a one-line help.
DESCRIPTIONS: dict[str, str] = {
    "lsp": "Run the snowauth language server for an editor: diagnostics, completion, hover, symbols, code "
    "lenses, quick fixes and the token commands (Fetch, Refresh, Revoke, Test, Insert). An editor starts it "
    "and speaks the Language Server Protocol on its stdin and stdout; nothing else is printed there. Logs go "
    "to stderr or $SNOWAUTH_LOG_FILE, never with a secret. Exit status: 0 after the editor's shutdown "
    "request and exit notification, 1 after an exit without a shutdown (as the protocol says).",
    "schema": "Print the JSON Schema of *.snowauth.toml files on stdout: taplo (and the Even Better TOML "
    "extension built on it) then completes and validates the keys without the language server.",
    "reference": "Print the reference of the file format as Markdown on stdout: every key, its type, the "
    "grants that need it and where ServiceNow shows its value (docs/reference.md is this output).",
    "emulator": "A local ServiceNow instance for demos and tests; its options and the demo instance's "
    "clients and users: snowauth emulator --help.",
}


# The EXAMPLES section of each help page (printed as written: `HelpFormatter`), 80 columns wide.
EXAMPLES: dict[str, str] = {
    "snowauth": """\
Examples:
  # the problems of every *.snowauth.toml below the current folder
  snowauth check .
  # a token, stored in the file as the editor stores it
  snowauth token dev.snowauth.toml --write
  # a command with a fresh token in its environment
  snowauth exec dev.snowauth.toml -- npx now-sdk deploy
  # why a connection fails, link by link
  snowauth doctor dev.snowauth.toml
  # create the connection's OAuth client on the instance, as an admin
  snowauth register dev.snowauth.toml --fetch
  # the language server an editor starts (stdio)
  snowauth lsp

Exit status: 0 success, 1 problems found or the operation failed, 2 a usage error (or nothing to
do), 130 Ctrl-C, 141 the reader of stdout went away; each command's page says more.

Every command has its own page: snowauth COMMAND --help. The file format: snowauth reference.""",
    "check": """\
Examples:
  # every *.snowauth.toml below the current folder
  snowauth check .
  # these files, whatever their names
  snowauth check dev.snowauth.toml connections/prod.toml
  # the errors only, as JSON objects
  snowauth check --format json . | jq '.[] | select(.severity == "error")'""",
    "fmt": """\
Examples:
  # give every *.snowauth.toml below the current folder its canonical layout
  snowauth fmt .
  # in CI: change nothing; exit 1 and list the files that would change
  snowauth fmt --check .
  # the values of each table aligned in a column
  snowauth fmt --align-values dev.snowauth.toml""",
    "lsp": """\
Examples:
  # what an editor runs: the protocol on stdin and stdout
  snowauth lsp
  # the same, with a debug log in a file
  SNOWAUTH_LOG_FILE=/tmp/snowauth.log snowauth lsp --log-level DEBUG
  # listen on a loopback port for one editor
  snowauth lsp --tcp 127.0.0.1:2087""",
    "schema": """\
Examples:
  snowauth schema > snowauth.schema.json
  # then, in .taplo.toml (read by taplo and by Even Better TOML):
  [[rule]]
  include = ["**/*.snowauth.toml"]
  schema = { path = "./snowauth.schema.json" }""",
    "reference": """\
Examples:
  snowauth reference > reference.md
  snowauth reference | less""",
    "token": """\
Examples:
  # the token as JSON, with its expiry
  snowauth token dev.snowauth.toml
  # the same, and a new token stored in the file
  snowauth token dev.snowauth.toml --write
  # an `Authorization: Bearer …` line for the connection prod
  snowauth token dev.snowauth.toml -c prod --format header
  # SNOW_ACCESS_TOKEN set in this shell
  eval "$(snowauth token dev.snowauth.toml --format env)\"""",
    "export": """\
Examples:
  # rewrite the files that [connections.dev.export] names
  snowauth export dev.snowauth.toml
  # the same for the connection prod, and a new token stored in the file
  snowauth export dev.snowauth.toml -c prod --write""",
    "doctor": """\
Examples:
  # asks for an admin on a terminal, to read the instance's OAuth records
  snowauth doctor dev.snowauth.toml
  # the records read with the token of the connection admin
  snowauth doctor dev.snowauth.toml --admin-connection admin
  # no admin: the record checks are skipped; the checks as JSON
  snowauth doctor dev.snowauth.toml -c prod --no-admin --format json""",
    "exec": """\
Examples:
  # the ServiceNow SDK, without `now-sdk auth`
  snowauth exec dev.snowauth.toml -- npx now-sdk deploy
  # a script of yours reads SNOWAUTH_ACCESS_TOKEN and SNOWAUTH_INSTANCE_URL
  snowauth exec dev.snowauth.toml -c prod -- python sync.py
  # curl gets the header on its stdin, never on its command line
  snowauth exec dev.snowauth.toml -- sh -c \\
    'echo "Authorization: $SNOWAUTH_AUTHORIZATION" | curl -sS -H @- \\
      "$SNOWAUTH_INSTANCE_URL/api/now/table/sys_user?sysparm_limit=1"'""",
    "register": """\
Examples:
  # as an admin asked for once (never stored); then the first token
  snowauth register dev.snowauth.toml --fetch
  # the admin's token from the connection admin of the same file
  snowauth register dev.snowauth.toml -c ci --admin-connection admin --no-fetch
  # client credentials: the client acts as the user svc.integration
  snowauth register dev.snowauth.toml -c svc --application-user svc.integration""",
}
