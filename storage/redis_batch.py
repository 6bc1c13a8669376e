"""One script call for every operation that arrives while a round trip is in flight."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError


@dataclass(slots=True)
class _Operation:
    name: str
    keys: list[str]
    args: list[Any]
    reply: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BatchedScript:
    """Runs a batch script: an idle one sends at once, a busy one gathers the next batch.

    The script takes every operation's keys in KEYS and, in ARGV, per operation: its name, its
    key count, then its arguments. It returns one reply per operation, in order.
    """

    def __init__(self, script: AsyncScript) -> None:
        self._script = script
        self._pending: list[_Operation] = []
        self._sending: asyncio.Task[None] | None = None

    async def call(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run operation `name` with the next batch and return its reply."""
        operation = _Operation(name, keys, args)
        self._pending.append(operation)
        if self._sending is None:
            self._send_pending()
        return await operation.reply

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        self._sending = asyncio.ensure_future(self._send(batch))
        self._sending.add_done_callback(self._sent)

    def _sent(self, _: asyncio.Task[None]) -> None:
        self._sending = None
        if self._pending:
            self._send_pending()

    async def _send(self, batch: list[_Operation]) -> None:
        keys: list[str] = []
        args: list[Any] = []
        for operation in batch:
            keys += operation.keys
            args += [operation.name, len(operation.keys), *operation.args]
        try:
            replies: list[Any] = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:  # the whole batch failed: every caller hears of it
            replies = [exc] * len(batch)
        for operation, reply in zip(batch, replies, strict=True):
            if operation.reply.done():
                continue
            if isinstance(reply, BaseException):
                operation.reply.set_exception(reply)
            else:
                operation.reply.set_result(reply)
