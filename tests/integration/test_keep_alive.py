"""Idle keep-alive connections outlive the clients' own idle limit, so reuse never races a close."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

from tests.support.server import RunningRouter

# httpx, and the SDKs built on it, drop a pooled connection after 5 idle seconds.
CLIENT_IDLE_SECONDS = 5.0


def _status(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/health/live")
    response = connection.getresponse()
    response.read()
    return response.status


def test_an_idle_connection_is_kept_past_the_clients_limit(router: RunningRouter) -> None:
    address = urlsplit(router.base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        assert _status(connection) == 200
        first = connection.sock
        time.sleep(CLIENT_IDLE_SECONDS + 1.0)
        # On a connection the server had closed this raises RemoteDisconnected.
        assert _status(connection) == 200
        assert connection.sock is first
    finally:
        connection.close()
