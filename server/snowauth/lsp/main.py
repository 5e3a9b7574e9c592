"""Start the language server (`snowauth lsp`)."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# pygls' warnings about what a client may do at any time: cancelling a request that
# has already been answered, a notification the server does not handle. Not errors.
_BENIGN = (
    "Cancel notification for unknown message id",
    "Ignoring notification for unknown method",
)


class BenignPyglsWarnings(logging.Filter):
    """Turns pygls' warnings about ordinary client behaviour into DEBUG records, shown
    only when the log level is DEBUG (editors show each stderr line as an error)."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pygls") and isinstance(record.msg, str) and record.msg.startswith(_BENIGN):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.threshold <= logging.DEBUG
        return True


def configure_logging(level: str | None) -> None:
    """Log to stderr (or $SNOWAUTH_LOG_FILE) at --log-level / $SNOWAUTH_LOG_LEVEL.

    pygls logs every JSON-RPC message at DEBUG: that trace is off unless
    $SNOWAUTH_TRACE=1. Every handler redacts registered secrets (snowauth.redact)."""
    from snowauth.lsp.server import QuietReportedFailures
    from snowauth.redact import install

    name = (level or os.environ.get("SNOWAUTH_LOG_LEVEL") or "WARNING").upper()
    threshold = getattr(logging, name, logging.WARNING)
    log_file = os.environ.get("SNOWAUTH_LOG_FILE")
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # before the redacting filter, which folds a traceback into the message: a command
    # failure the user was told about (window/showMessage, window/logMessage) is no
    # error of the server, and pygls' warnings about ordinary client behaviour are none
    handler.addFilter(QuietReportedFailures())
    handler.addFilter(BenignPyglsWarnings(threshold))
    install(handler)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(threshold)
    trace = os.environ.get("SNOWAUTH_TRACE") == "1"
    logging.getLogger("pygls").setLevel(logging.DEBUG if trace else logging.WARNING)


@contextmanager
def start_up_collection() -> Iterator[None]:
    """The start's imports (pygls, lsprotocol, ours) make ~100,000 objects that live as
    long as the server: no full pass of the cyclic collector over them while they are
    made (one such pass was 20-60 ms of the start), the young generations collected as
    usual (they hold the garbage of making attrs classes), and what survives is put out
    of the collector's sight (``gc.freeze``, as ``server.freeze_survivors`` does after
    every full pass) with the thresholds as they were."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        yield
    finally:
        gc.collect(1)
        gc.freeze()
        gc.set_threshold(*thresholds)


def create_server() -> object:
    from snowauth.lsp import commands, features, hint_features, layout_features, workspace_features
    from snowauth.lsp.auto_refresh import AutoRefresh
    from snowauth.lsp.server import SnowauthServer

    ls = SnowauthServer()
    features.register(ls)
    from snowauth.lsp import navigation_features

    navigation_features.register(ls)
    hint_features.register(ls)
    layout_features.register(ls)
    workspace_features.register(ls)
    ls.auto_refresh = AutoRefresh(ls, commands.register(ls))
    return ls


def serve(tcp: str | None, log_level: str | None) -> int:
    with start_up_collection():
        configure_logging(log_level)
        ls = create_server()
    from snowauth.lsp.server import SnowauthServer

    assert isinstance(ls, SnowauthServer)
    if tcp:
        host, _, port = tcp.rpartition(":")
        ls.start_tcp(host or "127.0.0.1", int(port))
    else:
        ls.start_io()
    return 0
