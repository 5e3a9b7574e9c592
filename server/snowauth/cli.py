"""The `snowauth` command line: check, schema, lsp, emulator, token, exec, export, register, doctor,
reference.

Imports stay inside the subcommands: `snowauth check` must not pay for the LSP stack
(lsprotocol alone costs ~0.4 s) or for httpx.

Exit statuses: 0 success, 1 problems found or the operation failed, 2 a usage error (or
nothing to do: no file to check, no value entered at a prompt), 130 interrupted (Ctrl-C),
141 the reader of stdout went away (`snowauth schema | head -c 300`), as a shell reports
a command that SIGPIPE ended. `exec` exits with its command's status (snowauth.exec_cli).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
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


class _Parser(argparse.ArgumentParser):
    """Every subcommand's parser: its help page formatted by `_HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _VersionAction(argparse.Action):
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="snowauth",
        description="ServiceNow OAuth connections kept in *.snowauth.toml files: check them as an editor "
        "would, serve them to an editor (a language server), get tokens from the instance and hand them to "
        "other tools, and run a local emulator of an instance.",
        epilog=EXAMPLES["snowauth"],
    )
    parser.add_argument("--version", action=_VersionAction, help="print `snowauth VERSION` and exit")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="commands", parser_class=_Parser
    )

    p = sub.add_parser(
        "check",
        help="report the problems of *.snowauth.toml files",
        description="Report the problems of *.snowauth.toml files, as the editor does. Exit status: 0 no "
        "errors (warnings allowed), 1 errors, 2 no *.snowauth.toml file found. Text output ends with a "
        "summary line on stdout.",
        epilog=EXAMPLES["check"],
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files (checked whatever their name), or folders searched for *.snowauth.toml; required",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one `path:line:col: severity: message [code]` line per problem and a summary; "
        "json: a list of objects (default: %(default)s)",
    )

    p = sub.add_parser(
        "lsp",
        help="run the language server (stdio unless --tcp)",
        description="Run the snowauth language server for an editor: diagnostics, completion, hover, "
        "symbols, code lenses, quick fixes and the token commands (Fetch, Refresh, Revoke, Test, Insert). "
        "An editor starts it and speaks the Language Server Protocol on its stdin and stdout; nothing is "
        "printed there but protocol messages. Logs go to stderr or $SNOWAUTH_LOG_FILE, never with a "
        "secret. Exit status: 0 after the editor's shutdown request and exit notification, 1 after an "
        "exit without a shutdown (as the protocol says).",
        epilog=EXAMPLES["lsp"],
    )
    p.add_argument("--tcp", metavar="HOST:PORT", default=None, help="listen on TCP instead of stdio (default: stdio)")
    p.add_argument(
        "--log-level",
        default=None,
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR, to stderr or $SNOWAUTH_LOG_FILE "
        "(default: $SNOWAUTH_LOG_LEVEL, else WARNING)",
    )

    sub.add_parser(
        "schema",
        help="print the JSON Schema of the file format (for taplo / Even Better TOML)",
        description="Print the JSON Schema of *.snowauth.toml files on stdout: taplo (and the Even Better "
        "TOML extension built on it) then completes and validates the keys without the language server.",
        epilog=EXAMPLES["schema"],
    )
    sub.add_parser(
        "reference",
        help="print docs/reference.md (generated from the model)",
        description="Print the reference of the file format as Markdown on stdout: every key, its type, "
        "the grants that need it and where ServiceNow shows its value (docs/reference.md is this output).",
        epilog=EXAMPLES["reference"],
    )
    sub.add_parser(
        "emulator",
        help="run a local ServiceNow instance emulator (see `snowauth emulator --help`)",
        description="A local ServiceNow instance for demos and tests; its options and the demo instance's "
        "clients and users: snowauth emulator --help.",
    )

    p = sub.add_parser(
        "token",
        help="fetch (or reuse) a token and print it",
        description="Reuse a stored token with at least 60 s left, refresh an expired one, or run the "
        "connection's grant; print the token on stdout. Questions and progress go to stderr. Exit status: "
        "0 the token was printed, 1 no token (the reason is on stderr), 2 a usage error or nothing entered "
        "at a question, 130 Ctrl-C.",
        epilog=EXAMPLES["token"],
    )
    _file_and_connection(p)
    p.add_argument(
        "--format",
        choices=("json", "header", "env"),
        default="json",
        help="json: the token and its expiry; header: an `Authorization: Bearer` line; env: a "
        "SNOW_ACCESS_TOKEN= shell assignment (default: %(default)s)",
    )
    _write_option(p)
    p = sub.add_parser(
        "export",
        help="fetch (or reuse) a token and rewrite the files the connection exports it to",
        description="Get a token as `snowauth token` does, then rewrite every file declared in "
        "[connections.<name>.export] (dotenv, http_client, postman; docs/reference.md). The files "
        "written are listed on stdout; the token is never printed. Exit status: 0 done, 1 no token "
        "or a file not written, 2 the connection exports nothing.",
        epilog=EXAMPLES["export"],
    )
    _file_and_connection(p)
    _write_option(p)

    p = sub.add_parser(
        "doctor",
        help="diagnose a connection live, link by link",
        description="Walk the connection's chain on the instance, in order, and stop at the first broken "
        "link: the host resolves, TLS verifies, the instance is awake, OAuth is active, the client's record "
        "exists and fits the grant, the grant is enabled, the user can sign in, a token is issued (not "
        "kept), and on failure the instance's system log. The record checks need an admin's rights, asked "
        "once (without a terminal: SNOW_ADMIN_USER and SNOW_ADMIN_PASSWORD). Exit status: 0 all good "
        "(skipped checks allowed), 1 a check failed, 2 a usage error.",
        epilog=EXAMPLES["doctor"],
    )
    _file_and_connection(p)
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a checklist (✓ passed, ✗ failed, – skipped); json: the checks as objects (default: %(default)s)",
    )
    p.add_argument(
        "--admin-connection",
        metavar="NAME",
        default=None,
        help="read the instance's records with the token of this connection of the file (an admin's)",
    )
    p.add_argument(
        "--no-admin",
        action="store_true",
        help="do not ask for an admin: the checks of the instance's records are skipped",
    )

    p = sub.add_parser(
        "exec",
        help="run a command with a fresh token in its environment",
        usage="%(prog)s FILE [--connection NAME] -- COMMAND [ARGS ...]",
        description="Obtain a token as `snowauth token` does, then run COMMAND with SNOWAUTH_INSTANCE_URL, "
        "SNOWAUTH_ACCESS_TOKEN, SNOWAUTH_AUTHORIZATION (`Bearer <token>`) and the ServiceNow SDK's "
        "SN_SDK_INSTANCE_URL and SN_SDK_SESSION_BEARER_TOKEN in its environment. COMMAND gets the "
        "terminal and the signals sent to snowauth. Exit status: COMMAND's (128 + N when signal N "
        "ended it); 2 no token could be had (COMMAND is not run) or a usage error; 126 COMMAND cannot "
        "be run; 127 COMMAND not found; 130 Ctrl-C before COMMAND started.",
        epilog=EXAMPLES["exec"],
    )
    _file_and_connection(p)
    p.set_defaults(usage_error=p.error)

    p = sub.add_parser(
        "register",
        help="create the connection's OAuth client on the instance",
        description="Create the Application Registry record (oauth_entity) the connection's grant needs, "
        "as an instance admin asked for once (never stored), then write client_id into the file and the "
        'generated client secret into the .env beside it (client_secret = "${env:…}"). Without a '
        "terminal the admin comes from SNOW_ADMIN_USER and SNOW_ADMIN_PASSWORD. The result is printed as "
        "JSON. Exit status: 0 registered, 1 a failure, 2 no value entered, 130 Ctrl-C.",
        epilog=EXAMPLES["register"],
    )
    _file_and_connection(p)
    p.add_argument(
        "--admin-connection",
        metavar="NAME",
        default=None,
        help="a connection of the same file whose token belongs to an admin (default: ask for an "
        "admin's user name and password)",
    )
    p.add_argument(
        "--application-user",
        metavar="NAME",
        default=None,
        help="client credentials: the user the client acts as, its OAuth Application User (default: ask)",
    )
    fetch = p.add_mutually_exclusive_group()
    fetch.add_argument(
        "--fetch",
        dest="fetch",
        action="store_const",
        const=True,
        default=None,
        help="fetch the first token afterwards (default: ask on a terminal, else do not)",
    )
    fetch.add_argument("--no-fetch", dest="fetch", action="store_const", const=False, help="do not fetch a token")
    return parser


def _file_and_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the *.snowauth.toml file that holds the connection")
    p.add_argument(
        "-c",
        "--connection",
        metavar="NAME",
        default=None,
        help="the connection to use (default: the file's `default`, or its only connection)",
    )


def _write_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--write",
        action="store_true",
        help='store a new token in the file as the editor does (token_store = "file"); '
        "default: the file is not changed",
    )


# The EXAMPLES section of each help page (printed as written: `_HelpFormatter`).
EXAMPLES: dict[str, str] = {
    "snowauth": """\
Examples:
  snowauth check .                                 the problems of every *.snowauth.toml below .
  snowauth token dev.snowauth.toml --write         a token, kept in the file as the editor keeps it
  snowauth exec dev.snowauth.toml -- npx now-sdk deploy
                                                   a command with a fresh token in its environment
  snowauth doctor dev.snowauth.toml                why a connection fails, link by link
  snowauth register dev.snowauth.toml --fetch      create the connection's OAuth client as an admin
  snowauth lsp                                     the language server an editor starts (stdio)

Exit status: 0 success, 1 problems found or the operation failed, 2 a usage error (or nothing to
do), 130 Ctrl-C, 141 the reader of stdout went away; each command's page says more.

Every command has its own page: snowauth COMMAND --help. The file format: snowauth reference.""",
    "check": """\
Examples:
  snowauth check .                                 every *.snowauth.toml below the current folder
  snowauth check dev.snowauth.toml other.toml      these files, whatever their names
  snowauth check --format json conf/ | jq -r '.[] | select(.severity == "error") | .message'""",
    "lsp": """\
Examples:
  snowauth lsp                                     what an editor runs: stdio
  SNOWAUTH_LOG_FILE=/tmp/snowauth.log snowauth lsp --log-level DEBUG
                                                   the same, with a debug log in a file
  snowauth lsp --tcp 127.0.0.1:2087                listen on a loopback port for an editor""",
    "schema": """\
Examples:
  snowauth schema > snowauth.schema.json
  # .taplo.toml, read by taplo and Even Better TOML:
  [[rule]]
  include = ["**/*.snowauth.toml"]
  schema = { path = "./snowauth.schema.json" }""",
    "reference": """\
Examples:
  snowauth reference > reference.md
  snowauth reference | less""",
    "token": """\
Examples:
  snowauth token dev.snowauth.toml                 the token as JSON, with its expiry
  snowauth token dev.snowauth.toml --write         and a new one stored in the file
  snowauth token dev.snowauth.toml -c prod --format header
                                                   `Authorization: Bearer …` for connection prod
  eval "$(snowauth token dev.snowauth.toml --format env)"
                                                   SNOW_ACCESS_TOKEN set in this shell""",
    "export": """\
Examples:
  snowauth export dev.snowauth.toml                rewrite the files [connections.dev.export] names
  snowauth export dev.snowauth.toml -c prod --write
                                                   and keep a new token in the file too""",
    "doctor": """\
Examples:
  snowauth doctor dev.snowauth.toml                asks for an admin when a terminal is there
  snowauth doctor dev.snowauth.toml --admin-connection admin
                                                   the records read with connection admin's token
  snowauth doctor dev.snowauth.toml -c prod --no-admin --format json""",
    "exec": """\
Examples:
  snowauth exec dev.snowauth.toml -- npx now-sdk deploy
                                                   the ServiceNow SDK, without `now-sdk auth`
  snowauth exec dev.snowauth.toml -c prod -- python sync.py
  snowauth exec dev.snowauth.toml -- sh -c 'echo "Authorization: $SNOWAUTH_AUTHORIZATION" |
      curl -sS -H @- "$SNOWAUTH_INSTANCE_URL/api/now/table/sys_user?sysparm_limit=1"'
                                                   the header on curl's stdin, not its command line""",
    "register": """\
Examples:
  snowauth register dev.snowauth.toml --fetch      as an admin asked for once; then the first token
  snowauth register dev.snowauth.toml -c ci --admin-connection admin --no-fetch
                                                   the admin's token from connection admin
  snowauth register dev.snowauth.toml -c svc --application-user svc.integration
                                                   client credentials acting as svc.integration""",
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        if sys.stdout is not None and not sys.stdout.closed:  # the language server closes it at exit
            sys.stdout.flush()  # a closed pipe shows here, not at exit as "Exception ignored"
        return code
    except BrokenPipeError:  # `snowauth schema | head -c 300`: the reader has seen enough
        _drop_stdout()
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        print("\nsnowauth: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered is dropped, nothing fails at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        sys.stdout = None


def _run(args_list: list[str]) -> int:
    if args_list[:1] == ["emulator"]:
        # the emulator parses its own options (argparse's REMAINDER drops a leading --flag)
        from snowauth.emulator import main as emulator_main

        return emulator_main(args_list[1:])
    command: list[str] = []
    if args_list[:1] == ["exec"] and "--" in args_list:
        # everything after the first `--` is COMMAND, its options included
        split = args_list.index("--")
        args_list, command = args_list[:split], args_list[split + 1 :]
    args = build_parser().parse_args(args_list)
    if args.command == "check":
        from snowauth.check import run_check

        return run_check(args.paths, args.format, sys.stdout)
    if args.command == "schema":
        from snowauth.schema import json_schema

        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
        return 0
    if args.command == "reference":
        from snowauth.reference import reference_markdown

        sys.stdout.write(reference_markdown())
        return 0
    if args.command == "lsp":
        from snowauth.lsp.main import serve

        return serve(args.tcp, args.log_level)
    if args.command == "token":
        from snowauth.token_cli import run_token

        return run_token(args.file, args.connection, args.format, args.write)
    if args.command == "export":
        from snowauth.token_cli import run_export

        return run_export(args.file, args.connection, args.write)
    if args.command == "register":
        from snowauth.register_cli import run_register

        return run_register(
            args.file,
            args.connection,
            admin_connection=args.admin_connection,
            application_user=args.application_user,
            fetch=args.fetch,
        )

    if args.command == "doctor":
        from snowauth.doctor_cli import run_doctor

        return run_doctor(args.file, args.connection, args.format, args.admin_connection, args.no_admin)
    if args.command == "exec":
        if not command:
            args.usage_error("give the command to run after `--`: snowauth exec FILE -- COMMAND [ARGS ...]")
        from snowauth.exec_cli import run_exec

        return run_exec(args.file, args.connection, command)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
