"""Streamed answers sent by the request's own task, cut short when the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send


class StreamedAudio(ASGIStreamingResponse):
    """Litestar's streaming response, its body sent by the task that serves the request.

    Litestar's own sends the body from a task group of two tasks, one sending and one
    listening for the client to leave; here a single listening task cancels the sending one.
    """

    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Send every chunk; stop quietly if the client leaves first."""
        await until_client_leaves(self._send_chunks(send), receive)

    async def _send_chunks(self, send: Send) -> None:
        async for chunk in self.iterator:
            body = chunk if isinstance(chunk, bytes) else chunk.encode(self.encoding)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


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
