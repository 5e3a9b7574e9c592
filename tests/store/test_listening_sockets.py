"""trust's view of the sockets listening on a port (is the loopback emulator the user's
own?): the kernel's socket diagnostics (netlink) and /proc/net/tcp agree, on real sockets
of this process."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator

import pytest

from snowauth import trust

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="netlink and /proc are Linux's")


@pytest.fixture
def listening() -> Iterator[tuple[int, set[str]]]:
    """A port with a listening socket on 127.0.0.1 and one on ::1, and their inodes."""
    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(("127.0.0.1", 0))
    v4.listen()
    port = v4.getsockname()[1]
    sockets = [v4]
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        v6.bind(("::1", port))
        v6.listen()
        sockets.append(v6)
    except OSError:
        pass  # no IPv6 loopback here: the IPv4 socket alone
    try:
        yield port, {f"socket:[{os.fstat(s.fileno()).st_ino}]" for s in sockets}
    finally:
        for s in sockets:
            s.close()


def test_netlink_and_proc_list_the_same_listening_sockets(listening: tuple[int, set[str]]) -> None:
    port, ours = listening
    by_netlink = trust._listening_netlink(port)
    by_proc = trust._listening_proc(port)
    if by_netlink is None:
        pytest.skip("the kernel's socket diagnostics are not available here")
    assert by_proc is not None
    assert by_netlink == by_proc == ours


def test_a_connected_socket_on_the_port_is_not_a_listening_one(listening: tuple[int, set[str]]) -> None:
    port, ours = listening
    client = socket.create_connection(("127.0.0.1", port))
    try:
        found = trust._listening_sockets(port)
        assert found == ours
    finally:
        client.close()
