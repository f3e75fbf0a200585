"""Free TCP ports for servers that a test starts in another process.

A port found by binding port 0 comes from the kernel's ephemeral range, the same range an
outgoing connection takes its local port from: between the test closing its probe socket and
the server binding the port, any connection on the machine (a ZeroMQ peer, a database client)
can take it, and the server fails with "Address already in use". The ports here lie below that
range, where the kernel never hands out a port by itself; each is checked free when chosen.
"""
from __future__ import annotations

import itertools
import os
import random
import socket

_LOW_PORT = 20000


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_candidates = list(range(_LOW_PORT, max(_LOW_PORT + 1000, _ephemeral_low())))
random.Random(os.getpid()).shuffle(_candidates)
_next = itertools.cycle(_candidates)


def free_port() -> int:
    """A TCP port on 127.0.0.1, outside the ephemeral range, free when chosen."""
    for port in itertools.islice(_next, len(_candidates)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port below the ephemeral range")


def free_endpoint() -> str:
    """``tcp://127.0.0.1:PORT`` with :func:`free_port`."""
    return f"tcp://127.0.0.1:{free_port()}"
