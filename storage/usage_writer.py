"""Group commit for usage rows: writes queued while one commits share the next transaction."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.database import is_unreachable
from storage.models import ProviderAttempt, UsageRecord

logger = logging.getLogger("tts_router.usage")

USAGE: Table = UsageRecord.__table__  # type: ignore[assignment]
ATTEMPTS: Table = ProviderAttempt.__table__  # type: ignore[assignment]
RESTORE_CHUNK = 500
# Between tries to write a batch while the database is unreachable.
RETRY_FIRST_SECONDS = 0.25
RETRY_MAX_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class _Write:
    """A row to upsert with its attempts, and what to call once it is committed."""

    row: Mapping[str, Any]
    attempts: Sequence[Mapping[str, Any]] = ()
    committed: Callable[[], None] | None = None


class UsageWriter:
    """Upserts usage rows in batches; rows queued within `linger_seconds` share a commit.

    Callers do not wait for the commit: they keep each row durably elsewhere (the usage
    journal) until its `committed` callback runs.
    """

    def __init__(
        self, engine: AsyncEngine, *, max_batch: int = 512, linger_seconds: float = 0.0
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._queue: asyncio.Queue[_Write | asyncio.Future[None] | None] = asyncio.Queue()
        # Set when a batch should be written without lingering: a flush, a backlog, a close.
        self._hurry = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Held between batches: a checkout with its liveness ping per batch costs round trips.
        self._connection: AsyncConnection | None = None
        self._closing = False

    async def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="usage-writer")

    async def close(self) -> None:
        """Write what is queued, then stop; rows the database cannot take stay journaled."""
        self._closing = True
        if self._task is not None:
            self._queue.put_nowait(None)
            self._hurry.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_connection()

    def submit(
        self,
        row: Mapping[str, Any],
        attempts: Sequence[Mapping[str, Any]] = (),
        *,
        committed: Callable[[], None] | None = None,
    ) -> None:
        """Queue the usage row of a `request_id`, replacing any row it has, with its attempts.

        A re-run async job writes its row again under the job's id, so the row is replaced.
        """
        if self._task is None or self._task.done():
            raise RuntimeError("the usage writer is not running")
        self._queue.put_nowait(_Write(row, attempts, committed))
        if self._queue.qsize() >= self._max_batch:
            self._hurry.set()

    async def flush(self) -> None:
        """Return once every row queued before this call is committed or has failed."""
        if self._task is None or self._task.done():
            return
        marker = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(marker)
        self._hurry.set()
        await asyncio.shield(marker)

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

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is not None and self._linger > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger):
                        await self._hurry.wait()
            self._hurry.clear()
            writes: list[_Write] = []
            markers: list[asyncio.Future[None]] = []
            item = first
            while True:
                if item is None:
                    stopping = True
                    break
                if isinstance(item, _Write):
                    writes.append(item)
                else:
                    markers.append(item)
                if len(writes) >= self._max_batch or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if not self._queue.empty():
                self._hurry.set()  # a backlog is written at once
            await self._write(writes)
            for marker in markers:
                if not marker.done():
                    marker.set_result(None)

    async def _write(self, writes: list[_Write]) -> None:
        if not writes:
            return
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                await self._commit(writes)
                break
            except Exception as exc:
                # Either way their rows stay in the journal, which restores them once this
                # process is gone; while it lives, an outage is waited out.
                if not is_unreachable(exc) or self._closing:
                    logger.exception("could not write %d usage rows", len(writes))
                    return
                if delay == RETRY_FIRST_SECONDS:
                    logger.warning("the database is unreachable (%s); usage rows wait", exc)
            await asyncio.sleep(delay)
            delay = min(2 * delay, RETRY_MAX_SECONDS)
        if delay > RETRY_FIRST_SECONDS:
            logger.warning("the database is back; waiting usage rows are written")
        for write in writes:
            if write.committed is not None:
                write.committed()

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
    numbered = await _attempt_numbers(connection, batch)
    statement = _upsert(connection.dialect.name)
    await connection.execute(statement, [dict(write.row) for write in batch])
    attempts = [
        {"match_request_id": write.row["request_id"], **attempt, "attempt": number}
        for write, numbers in zip(batch, numbered, strict=True)
        for attempt, number in zip(write.attempts, numbers, strict=True)
    ]
    if attempts:
        usage_id = (
            select(USAGE.c.id)
            .where(USAGE.c.request_id == bindparam("match_request_id"))
            .scalar_subquery()
        )
        await connection.execute(insert(ATTEMPTS).values(usage_id=usage_id), attempts)


async def _attempt_numbers(connection: AsyncConnection, batch: list[_Write]) -> list[list[int]]:
    """The number of each write's attempts, after those its request already has.

    A job run again after its worker died keeps the attempts of the run before, so the new
    ones are numbered on from them.
    """
    request_ids = {write.row["request_id"] for write in batch if write.attempts}
    taken: dict[str, int] = {}
    if request_ids:
        query = (
            select(USAGE.c.request_id, func.max(ATTEMPTS.c.attempt))
            .join(ATTEMPTS, ATTEMPTS.c.usage_id == USAGE.c.id)
            .where(USAGE.c.request_id.in_(request_ids))
            .group_by(USAGE.c.request_id)
        )
        taken = {row[0]: int(row[1]) for row in await connection.execute(query)}
    numbers: list[list[int]] = []
    for write in batch:
        first = taken.get(write.row["request_id"], 0)
        numbers.append([first + n for n in range(1, len(write.attempts) + 1)])
        taken[write.row["request_id"]] = first + len(write.attempts)
    return numbers


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
