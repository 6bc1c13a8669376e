"""Group commit for usage rows: writes queued while one commits share the next transaction."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import ProviderAttempt, UsageRecord

logger = logging.getLogger("tts_router.usage")

USAGE: Table = UsageRecord.__table__  # type: ignore[assignment]
ATTEMPTS: Table = ProviderAttempt.__table__  # type: ignore[assignment]
RESTORE_CHUNK = 500


@dataclass(slots=True)
class _Write:
    """A row to upsert with its attempts; an empty row only marks a place in the queue."""

    row: Mapping[str, Any]
    attempts: Sequence[Mapping[str, Any]] = ()
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class UsageWriter:
    """Upserts usage rows in batches; each caller awaits its own commit."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Write | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Held between batches: a checkout with its liveness ping per batch costs round trips.
        self._connection: AsyncConnection | None = None

    async def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="usage-writer")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_connection()

    async def insert(
        self, row: Mapping[str, Any], attempts: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Insert or replace the usage row of its `request_id`, add its attempts; await the commit.

        A re-run async job writes its row again under the job's id, so the row is replaced.
        """
        await self._submit(_Write(row, attempts))

    async def flush(self) -> None:
        """Return once every write queued before this call is committed or has failed."""
        if self._task is None or self._task.done():
            return
        marker = _Write({})
        await self._queue.put(marker)
        with contextlib.suppress(Exception):
            await asyncio.shield(marker.done)

    async def restore(
        self, rows: Sequence[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]
    ) -> int:
        """Insert each (row, attempts) whose `request_id` has no row yet; returns how many."""
        restored = 0
        async with self._engine.begin() as connection:
            for start in range(0, len(rows), RESTORE_CHUNK):
                chunk = rows[start : start + RESTORE_CHUNK]
                ids = [row["request_id"] for row, _ in chunk]
                found = await connection.execute(
                    select(USAGE.c.request_id).where(USAGE.c.request_id.in_(ids))
                )
                present = set(found.scalars())
                missing = [
                    _Write(row, attempts)
                    for row, attempts in chunk
                    if row["request_id"] not in present
                ]
                if missing:
                    await _apply(connection, missing)
                restored += len(missing)
        return restored

    async def _submit(self, write: _Write) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("the usage writer is not running")
        await self._queue.put(write)
        await asyncio.shield(write.done)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Write] = []
            first = await self._queue.get()
            stopping = first is None
            if first is not None:
                batch.append(first)
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            if batch:
                await self._write(batch)

    async def _write(self, batch: list[_Write]) -> None:
        try:
            await self._commit(batch)
        except Exception as exc:
            logger.exception("could not write %d usage rows", len(batch))
            for write in batch:
                if not write.done.done():
                    write.done.set_exception(exc)
            return
        for write in batch:
            if not write.done.done():
                write.done.set_result(None)

    async def _commit(self, batch: list[_Write]) -> None:
        """Commit `batch` on the writer's connection; one that was lost is replaced once."""
        for last_try in (False, True):
            if self._connection is None:
                self._connection = await self._engine.connect()
            try:
                async with self._connection.begin():
                    await _apply(self._connection, batch)
                return
            except Exception as exc:
                await self._drop_connection()
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if last_try or not lost:
                    raise

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                await connection.close()


async def _apply(connection: AsyncConnection, batch: list[_Write]) -> None:
    inserts = [write for write in batch if write.row]
    if inserts:
        statement = _upsert(connection.dialect.name)
        await connection.execute(statement, [dict(write.row) for write in inserts])
    attempts = [
        {"match_request_id": write.row["request_id"], **attempt}
        for write in batch
        for attempt in write.attempts
    ]
    if attempts:
        usage_id = (
            select(USAGE.c.id)
            .where(USAGE.c.request_id == bindparam("match_request_id"))
            .scalar_subquery()
        )
        await connection.execute(insert(ATTEMPTS).values(usage_id=usage_id), attempts)


@functools.cache
def _upsert(dialect: str) -> Insert:
    """INSERT of usage rows that replaces the row of a `request_id` already written."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(USAGE)
    replaced = {
        column.name: statement.excluded[column.name]
        for column in USAGE.columns
        if column.name not in ("id", "request_id")
    }
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[USAGE.c.request_id], set_=replaced
    )
    return upsert
