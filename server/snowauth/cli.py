"""The `snowauth` command line: check, schema, lsp, emulator, token, reference.

Imports stay inside the subcommands: `snowauth check` must not pay for the LSP stack
(lsprotocol alone costs ~0.4 s) or for httpx.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["emulator"]:
        # the emulator parses its own options (argparse's REMAINDER drops a leading --flag)
        from snowauth.emulator import main as emulator_main

        return emulator_main(args_list[1:])
    parser = argparse.ArgumentParser(prog="snowauth", description="ServiceNow OAuth connections: check, serve, fetch.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="report the problems of *.snowauth.toml files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, or folders searched for *.snowauth.toml")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("lsp", help="run the language server (stdio unless --tcp)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default) or ERROR, to stderr")

    sub.add_parser("schema", help="print the JSON Schema of the file format")
    sub.add_parser("reference", help="print docs/reference.md (generated from the model)")

    p = sub.add_parser("emulator", help="run a local ServiceNow instance emulator", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser("token", help="fetch (or reuse) a token and print it")
    p.add_argument("file")
    p.add_argument("--connection", "-c")
    p.add_argument("--format", choices=("json", "header", "env"), default="json")
    p.add_argument("--write", action="store_true", help="store the token as the editor does")

    args = parser.parse_args(args_list)
    if args.command == "check":
        from snowauth.check import run_check

        try:
            return run_check(args.paths, args.format, sys.stdout)
        except BrokenPipeError:  # `snowauth check … | head`: the reader has seen enough
            sys.stdout = None  # nothing left to flush at exit
            return 1
    if args.command == "schema":
        from snowauth.schema import json_schema

        print(json.dumps(json_schema(), indent=2))
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
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
