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

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    from snowauth.cli_help import Parser, VersionAction

    parser = Parser(
        prog="snowauth",
        description="ServiceNow OAuth connections kept in *.snowauth.toml files: check them as an editor "
        "would, serve them to an editor (a language server), get tokens from the instance and hand them to "
        "other tools, and run a local emulator of an instance.",
    )
    parser.add_argument("--version", action=VersionAction, help="print `snowauth VERSION` and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands", parser_class=Parser)

    p = sub.add_parser(
        "check",
        help="report the problems of *.snowauth.toml files",
        description="Report the problems of *.snowauth.toml files, as the editor does. Exit status: 0 no "
        "errors (warnings allowed), 1 errors, 2 no *.snowauth.toml file found. Text output ends with a "
        "summary line on stdout.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files (checked whatever their name), or folders searched for *.snowauth.toml; required",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="text: one `path:line:col: severity: message [code]` line per problem and a summary; "
        "json: a list of objects; sarif: a SARIF 2.1.0 log for code scanning; github: GitHub Actions "
        "annotations (workflow commands) (default: %(default)s)",
    )
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="CODE",
        help="exit with status 1 when a problem with this code is found, whatever its severity "
        "(repeatable; e.g. tokens-in-git, as the pre-commit hook does)",
    )

    p = sub.add_parser(
        "fmt",
        help="give *.snowauth.toml files their canonical layout (the editor's Format Document)",
        description="Format *.snowauth.toml files in place: keys in the documented order, one blank line "
        "between tables, comments and values kept. Exit status: 0 nothing left to change, 1 with --check "
        "when a file would change, 2 when a file could not be formatted (a syntax error, not UTF-8, a link "
        "out of the folder) or none was found. Changed files are listed on stdout.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders searched for *.snowauth.toml")
    p.add_argument("--check", action="store_true", help="write nothing; list the files that would change")
    p.add_argument("--align-values", action="store_true", help="align the values of each table in a column")

    p = sub.add_parser("lsp", help="run the language server (stdio unless --tcp)")
    p.add_argument("--tcp", metavar="HOST:PORT", default=None, help="listen on TCP instead of stdio (default: stdio)")
    p.add_argument(
        "--log-level",
        default=None,
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR, to stderr or $SNOWAUTH_LOG_FILE "
        "(default: $SNOWAUTH_LOG_LEVEL, else WARNING)",
    )

    sub.add_parser("schema", help="print the JSON Schema of the file format (for taplo / Even Better TOML)")
    sub.add_parser("reference", help="print docs/reference.md (generated from the model)")
    sub.add_parser("emulator", help="run a local ServiceNow instance emulator (see `snowauth emulator --help`)")

    p = sub.add_parser(
        "token",
        help="fetch (or reuse) a token and print it",
        description="Reuse a stored token with at least 60 s left, refresh an expired one, or run the "
        "connection's grant; print the token on stdout. Questions and progress go to stderr. Exit status: "
        "0 the token was printed, 1 no token (the reason is on stderr), 2 a usage error or nothing entered "
        "at a question, 130 Ctrl-C.",
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


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        code = _run(args)
        if sys.stdout is not None and not sys.stdout.closed:  # the language server closes it at exit
            sys.stdout.flush()  # a closed pipe shows here, not at exit as "Exception ignored"
        if argv is None and args[:1] == ["check"]:
            # a long file's analysis leaves a million objects, which the interpreter would
            # free one by one at exit (~10% of the run): all is printed, nothing else to do
            sys.stderr.flush()
            os._exit(code)
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


_CHECK_FORMATS = ("text", "json", "sarif", "github")


def _defer_inspect() -> None:
    """`inspect` imported at its first use, not by `dataclasses` at its import (with `ast`,
    `dis` and `tokenize`, ~6 ms of a check: docs/performance.md). dataclasses uses it only
    to write a signature into a class without a docstring, so every dataclass on check's
    path has one (tests/perf/test_startup.py). The stand-in puts the real module in its
    place at the first attribute asked of it."""
    if "inspect" in sys.modules:
        return
    import types

    class Inspect(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if sys.modules.get("inspect") is self:
                del sys.modules["inspect"]
            import inspect

            return getattr(inspect, name)

    sys.modules["inspect"] = Inspect("inspect")


def _check_arguments(args: list[str]) -> tuple[list[str], str, list[str]] | None:
    """`snowauth check`'s usual arguments read without argparse (its import and the whole
    parser are ~10% of checking a long file: docs/performance.md): PATHs in one run, before
    or after `--format FORMAT` and `--fail-on CODE` (also as `--option=value`). None for
    anything else (`--help`, `--`, an abbreviation, a PATH starting with `-`, a missing or
    invalid value, PATHs on both sides of an option...): argparse reads those, so its
    pages and messages stay its own."""
    paths: list[str] = []
    fmt = "text"
    fail_on: list[str] = []
    runs = 0  # runs of PATHs: argparse takes one
    after_path = False
    i, n = 0, len(args)
    while i < n:
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            runs += not after_path
            after_path = True
            paths.append(arg)
            continue
        after_path = False
        name, eq, value = arg.partition("=")
        if name not in ("--format", "--fail-on"):
            return None
        if not eq:
            if i >= n:
                return None
            value = args[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        if name == "--format":
            if value not in _CHECK_FORMATS:
                return None
            fmt = value
        else:
            fail_on.append(value)
    if runs != 1:
        return None
    return paths, fmt, fail_on


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
    if args_list == ["lsp"]:  # how editors start the server: no parser to build (~10 ms of its start)
        from snowauth.lsp.main import serve

        return serve(None, None)
    if args_list[:1] == ["check"] and (read := _check_arguments(args_list[1:])) is not None:
        from snowauth.collector import gc_paused

        # the imports make ~14,000 objects the collector tracks and free almost none: its
        # ~20 passes over them were ~3 ms; run_check keeps it paused for the check too
        # (check._collector_paused), and it is back on for a caller in a longer process
        with gc_paused():
            _defer_inspect()
            from snowauth.check import run_check

            return run_check(read[0], read[1], sys.stdout, fail_on=read[2])
    args = build_parser().parse_args(args_list)
    if args.command == "check":
        from snowauth.check import run_check

        return run_check(args.paths, args.format, sys.stdout, fail_on=args.fail_on)
    if args.command == "fmt":
        from snowauth.fmt_cli import run_fmt

        return run_fmt(args.paths, check=args.check, align_values=args.align_values)
    if args.command == "schema":
        import json

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
