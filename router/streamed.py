"""Streaming responses sent by the request's own task, cut short when the client leaves."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Receive, Send


class Streamed(Stream):
    """A `Stream` whose chunks the request's own task sends.

    Litestar's sends them from a task group holding two tasks, one sending and one listening
    for the client to leave; here a single listening task cancels the sending one.
    """

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        """The ASGI response, streamed by the task that calls it."""
        response = super().to_asgi_response(*args, **kwargs)
        # The same object with only `send_body` changed; both classes have the same slots.
        response.__class__ = _SentByItsTask
        return response


class _SentByItsTask(ASGIStreamingResponse):
    __slots__ = ()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """Send every chunk; stop quietly if the client leaves first."""
        sending = asyncio.current_task()
        if sending is None:
            raise RuntimeError("a streamed response must be sent from a task")
        left = sent = False

        def client_left(_: asyncio.Future[None]) -> None:
            nonlocal left
            if not sent:  # it may run after the last chunk, once this callback was scheduled
                left = True
                sending.cancel()

        listening = asyncio.ensure_future(_until_disconnect(receive))
        listening.add_done_callback(client_left)
        try:
            await self._stream(send)
        except asyncio.CancelledError:
            # Swallow only the cancellation this response caused, not one from outside.
            if not left or sending.uncancel() > 0:
                raise
        finally:
            sent = True
            listening.remove_done_callback(client_left)
            listening.cancel()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
