"""Idle keep-alive connections outlive the clients' own idle limit, so reuse never races a close."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.support.server import RunningRouter

# httpx and the openai SDK drop a pooled connection after 5 idle seconds.
CLIENT_IDLE_SECONDS = 5.0
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: router\r\n\r\n"


def _answer(sock: socket.socket) -> bytes:
    sock.sendall(REQUEST)
    return sock.recv(65536)


def test_an_idle_connection_is_kept_past_the_clients_limit(router: RunningRouter) -> None:
    address = urlsplit(router.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        assert _answer(sock).startswith(b"HTTP/1.1 200")
        time.sleep(CLIENT_IDLE_SECONDS + 1.0)
        assert _answer(sock).startswith(b"HTTP/1.1 200")
