"""Streaming responses sent by the request's own task, cut short when the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Coroutine
from typing import Any

from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import HTTPResponseStartEvent, Receive, Send


class Streamed(Stream):
    """A `Stream` whose chunks the request's own task sends, through Litestar or without it.

    Litestar's sends them from a task group holding two tasks, one sending and one listening
    for the client to leave; here a single listening task cancels the sending one.
    """

    def __init__(self, content: AsyncIterable[bytes], **options: Any) -> None:
        super().__init__(content, **options)
        self.chunks = content

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        """The ASGI response, streamed by the task that calls it."""
        response = super().to_asgi_response(*args, **kwargs)
        # The same object with only `send_body` changed; both classes have the same slots.
        response.__class__ = _SentByItsTask
        return response

    async def send(self, send: Send, receive: Receive, *headers: tuple[bytes, bytes]) -> None:
        """Send the whole response straight to the server, with `headers` added to its own."""
        await send(self._start(headers))
        await until_client_leaves(self._send_chunks(send), receive)

    def _start(self, extra: tuple[tuple[bytes, bytes], ...]) -> HTTPResponseStartEvent:
        """Status and headers as Litestar would send them."""
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers.items()
        ]
        if all(name != b"content-type" for name, _ in headers):
            media_type = str(self.media_type)
            if media_type.startswith("text/"):
                media_type = f"{media_type}; charset={self.encoding}"
            headers.append((b"content-type", media_type.encode("latin-1")))
        status = self.status_code or 200
        return {"type": "http.response.start", "status": status, "headers": [*headers, *extra]}

    async def _send_chunks(self, send: Send) -> None:
        async for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _SentByItsTask(ASGIStreamingResponse):
    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Send every chunk; stop quietly if the client leaves first."""
        await until_client_leaves(self._stream(send), receive)


async def until_client_leaves(sending: Coroutine[Any, Any, None], receive: Receive) -> None:
    """Await `sending` in this task; cancel it, quietly, if the client leaves first."""
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("a streamed response must be sent from a task")
    left = sent = False

    def client_left(_: asyncio.Future[None]) -> None:
        nonlocal left
        if not sent:  # it may run after the last chunk, once this callback was scheduled
            left = True
            task.cancel()

    listening = asyncio.ensure_future(_until_disconnect(receive))
    listening.add_done_callback(client_left)
    try:
        await sending
    except asyncio.CancelledError:
        # Swallow only the cancellation this response caused, not one from outside.
        if not left or task.uncancel() > 0:
            raise
    finally:
        sent = True
        listening.remove_done_callback(client_left)
        listening.cancel()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
