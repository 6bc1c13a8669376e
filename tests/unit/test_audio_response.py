"""A streamed response stops when its client leaves, and only then."""

from __future__ import annotations

import asyncio

import pytest
from litestar.types import HTTPDisconnectEvent, Receive

from router.http.audio_response import until_client_leaves

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _leaving_when(left: asyncio.Event) -> Receive:
    """An ASGI `receive` that reports the client gone once `left` is set."""

    async def receive() -> HTTPDisconnectEvent:
        await left.wait()
        return {"type": "http.disconnect"}

    return receive


async def test_leaving_mid_stream_stops_the_sending_quietly() -> None:
    left = asyncio.Event()
    sent: list[int] = []

    async def sending() -> None:
        for chunk in range(100):
            sent.append(chunk)
            if chunk == 3:
                left.set()
            await asyncio.sleep(0.01)

    await until_client_leaves(sending(), _leaving_when(left))
    assert 4 <= len(sent) <= 5


async def test_a_client_leaving_as_the_last_chunk_goes_cancels_nothing_after() -> None:
    left = asyncio.Event()

    async def sending() -> None:
        left.set()
        # The listener sees the client leave in the loop's next pass, and this coroutine
        # ends in the same pass, after it: the listener's callback runs once it has ended.
        await asyncio.sleep(0)

    await until_client_leaves(sending(), _leaving_when(left))
    try:
        await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        pytest.fail("a response that had ended cancelled the task that sent it")


async def test_a_cancellation_from_elsewhere_still_cancels() -> None:
    async def sending() -> None:
        await asyncio.sleep(10)

    task = asyncio.ensure_future(until_client_leaves(sending(), _leaving_when(asyncio.Event())))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
