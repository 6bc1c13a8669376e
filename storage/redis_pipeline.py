"""Script calls made in one event-loop tick, sent to Redis as one pipeline."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError


class AutoPipeline:
    """Coalesces concurrent script calls: one round trip and one connection per batch."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._pending: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def call(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run `script`, batched with the other calls made before the loop next turns."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._send(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(
        self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]
    ) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for script, keys, args, _ in batch:
                    await script(keys=keys, args=args, client=pipe)
                replies = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as exc:  # the whole batch failed: every caller hears of it
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
