"""A TCP proxy on loopback that can be cut, to take a real server away from a router."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BUFFER = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `cut()` drops every connection and refuses more."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._open = threading.Event()
        self.restore()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """`redis://` URL of the proxy, for a Redis target."""
        return f"redis://127.0.0.1:{self.port}/0"

    def cut(self) -> None:
        """Reset every forwarded connection; new ones are closed as soon as they arrive."""
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                # A reset, as a server that went away leaves its clients.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                _end(sock)
            self._sockets.clear()

    def restore(self) -> None:
        """Forward new connections again."""
        self._open.set()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                for sock in (source, sink):
                    self._sockets.discard(sock)
                    _end(sock)


def _end(sock: socket.socket) -> None:
    """Close `sock`, first waking the thread that may be blocked reading it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    """A proxy to `host`:`port` for the length of the block."""
    proxy = TcpProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
