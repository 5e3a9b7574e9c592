"""Start the language server (`snowauth lsp`)."""

from __future__ import annotations

import logging
import os
import sys


def configure_logging(level: str | None) -> None:
    name = (level or os.environ.get("SNOWAUTH_LOG_LEVEL") or "WARNING").upper()
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, name, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pygls logs every message (with its content) at INFO/DEBUG: keep it quiet
    logging.getLogger("pygls").setLevel(logging.WARNING)
    from snowauth.lsp.server import QuietReportedFailures

    logging.getLogger("pygls.protocol.json_rpc").addFilter(QuietReportedFailures())


def create_server() -> object:
    from snowauth.lsp import features
    from snowauth.lsp.server import SnowauthServer

    ls = SnowauthServer()
    features.register(ls)
    try:
        from snowauth.lsp import commands
    except ImportError:  # pragma: no cover - during development only
        return ls
    commands.register(ls)
    return ls


def serve(tcp: str | None, log_level: str | None) -> int:
    configure_logging(log_level)
    from snowauth.lsp.server import SnowauthServer

    ls = create_server()
    assert isinstance(ls, SnowauthServer)
    if tcp:
        host, _, port = tcp.rpartition(":")
        ls.start_tcp(host or "127.0.0.1", int(port))
    else:
        ls.start_io()
    return 0
