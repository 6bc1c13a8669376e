"""Script calls that arrive while a round trip is in flight, sent together as one pipeline."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError


class AutoPipeline:
    """Coalesces concurrent script calls: an idle pipe sends at once, a busy one batches."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._pending: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def call(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """Run `script` now, or with the next batch if a round trip is in flight."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((script, keys, args, future))
        if self._sending is None:
            self._send_pending()
        return await future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        self._sending = asyncio.ensure_future(self._send(batch))
        self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        if self._pending:
            self._send_pending()

    async def _send(
        self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]
    ) -> None:
        try:
            replies = await self._run(batch)
        except (RedisError, OSError) as exc:  # the whole batch failed: every caller hears of it
            replies = [exc] * len(batch)
        for (*_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _run(
        self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]
    ) -> list[Any]:
        if len(batch) == 1:
            script, keys, args, _ = batch[0]
            return [await script(keys=keys, args=args)]
        # Plain EVALSHA in a pipeline: redis-py's script objects would add a SCRIPT EXISTS
        # round trip to every pipeline.
        async with self._client.pipeline(transaction=False) as pipe:
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):  # Redis restarted or was flushed
                script, keys, args, _ = batch[index]
                replies[index] = await script(keys=keys, args=args)
        return replies
