"""The stdio transport: stdin read by the event loop, every byte of a message written,
headers found again after stray bytes, and an exit that does not wait forever.

pygls reads each line of stdin in a worker thread, a hop of ~0.1 ms per line and three
lines a message; ``serve`` reads it on the event loop instead, when stdin is a pipe or
socket that is not the one stdout writes to (``can_serve``); else the server falls
back to pygls' own way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import stat
import threading
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

logger = logging.getLogger("snowauth.lsp")

EXIT_GRACE = 2.0  # seconds the background work has to end once the client said exit


def can_serve(stdin: BinaryIO, stdout: BinaryIO) -> bool:
    """Whether the event loop can read ``stdin``: a pipe or socket (not a file,
    /dev/null or a terminal), and not the very socket or pipe stdout writes to (the loop
    makes stdin non-blocking)."""
    try:
        st_in = os.fstat(stdin.fileno())
        st_out = os.fstat(stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (stat.S_ISFIFO(st_in.st_mode) or stat.S_ISSOCK(st_in.st_mode)) and (
        (st_in.st_dev, st_in.st_ino) != (st_out.st_dev, st_out.st_ino)
    )


def serve(server: LanguageServer, stdin: BinaryIO, stdout: BinaryIO, stop: threading.Event) -> None:
    """Run ``server`` over ``stdin``/``stdout`` on a new event loop until the client
    exits or goes away; then cancel what still runs and shut the server down."""
    from pygls.io_ import run_async

    server.protocol.set_writer(WholeWriter(stdout))
    widen_pipe(stdout)

    async def run() -> None:
        reader = asyncio.StreamReader(limit=1 << 20)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
        try:
            await run_async(
                stop_event=stop,
                reader=Resynchronising(reader),
                protocol=server.protocol,
                logger=logger,
                error_handler=server.report_server_error,
            )
        except asyncio.IncompleteReadError:
            logger.info("The client closed the connection in the middle of a message")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # as asyncio.run does (subprocesses, get_event_loop)
    try:
        loop.run_until_complete(run())
    except BrokenPipeError:
        logger.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        try:
            cancel_within(loop, EXIT_GRACE)
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            server.shutdown()  # type: ignore[no-untyped-call]


PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process


def widen_pipe(stream: BinaryIO) -> None:
    """Let ``stream``'s pipe hold 1 MiB (where the system allows) instead of 64 KiB: a
    long file's outline (2.6 MB of JSON) then crosses in three writes, not forty, each
    waiting for the client to read (docs/performance.md)."""
    try:
        import fcntl

        setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
        if setsize is not None and stat.S_ISFIFO(os.fstat(stream.fileno()).st_mode):
            fcntl.fcntl(stream.fileno(), setsize, PIPE_BYTES)
    except (OSError, ValueError, AttributeError, ImportError):
        pass  # a smaller limit, not a pipe, another system: the default buffer


class WholeWriter:
    """Writes every byte of a message. pygls' writer gives up on the rest of a short
    write, which a non-blocking pipe (some editors hand one over) or a signal can cause,
    and a message cut in the middle ends the session."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._fd = stream.fileno()

    def write(self, data: bytes) -> None:
        self._stream.flush()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:
                select.select([], [self._fd], [], 5.0)
            except InterruptedError:
                continue

    def close(self) -> None:
        self._stream.close()


class Resynchronising:
    """A header reader that finds `Content-Length:` anywhere in a line: stray bytes
    without a line break (a client bug, a broken proxy) are glued by the reader to the
    next header line, and pygls, which wants the header at the start of the line, would
    then ignore every message that follows."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        line = await self._reader.readline()
        at = line.find(b"Content-Length:")
        if at > 0:
            logger.warning("dropped %d stray bytes before a message header", at)
            return line[at:]
        return line

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)


def cancel_within(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    """Cancel what still runs on ``loop`` and give it ``grace`` seconds to end. asyncio.run
    waits for every cancelled task without bound, and one that did not end (seen once in
    a hundred exits under load, with git checks in flight) kept the process alive after
    the client's `exit`: the editor then waits for a server that never goes."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _done, stuck = loop.run_until_complete(asyncio.wait(pending, timeout=grace))
    for task in stuck:
        logger.warning("Exiting without waiting for %r", task.get_coro())
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
