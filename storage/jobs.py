"""The durable queue behind async speech jobs, shared by every router process."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from storage.models import SpeechJob, UTCDateTime, utcnow

__all__ = [
    "COMPLETED",
    "ERROR",
    "PROCESSING",
    "QUEUED",
    "WORKER_LOST",
    "JobRepository",
    "QueueFullError",
]

QUEUED: Final = "QUEUED"
PROCESSING: Final = "PROCESSING"
COMPLETED: Final = "COMPLETED"
ERROR: Final = "ERROR"
UNFINISHED: Final = (QUEUED, PROCESSING)
FINISHED: Final = (COMPLETED, ERROR)

WORKER_LOST: Final = "worker_lost"
"""The error code of a job whose workers kept losing their lease until no attempts were left."""

DEFAULT_RETENTION: Final = timedelta(days=1)
MAX_ERROR_MESSAGE: Final = 1024
ENQUEUE_LOCK: Final = "speech_jobs.enqueue"


class QueueFullError(Exception):
    """The queue already holds as many unfinished jobs as it may."""

    def __init__(self, max_queued: int) -> None:
        super().__init__(f"the speech job queue is full ({max_queued} unfinished jobs)")
        self.max_queued = max_queued


class JobRepository:
    """Enqueues speech jobs, leases them to workers one at a time, and records how they ended."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def enqueue(
        self,
        *,
        job_id: str,
        tenant_id: str,
        key_id: str | None,
        dialect: str,
        model: str,
        request: dict[str, Any],
        max_queued: int,
    ) -> SpeechJob:
        """Commit a QUEUED job; raises `QueueFullError`, adding nothing, when the queue is full."""
        job = SpeechJob(
            id=job_id,
            tenant_id=tenant_id,
            key_id=key_id,
            dialect=dialect,
            model=model,
            request=request,
            status=QUEUED,
            created_at=utcnow(),
            attempts=0,
        )
        async with self._sessions.begin() as session:
            if _dialect(session) == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": ENQUEUE_LOCK}
                )
            # On SQLite this INSERT is the transaction's first statement, so it takes the write
            # lock before anything is counted: concurrent enqueues queue behind it.
            session.add(job)
            await session.flush()
            if await _count_unfinished(session) > max_queued:
                raise QueueFullError(max_queued)
        return job

    async def claim(
        self,
        worker: str,
        lease: timedelta,
        max_attempts: int,
        *,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> SpeechJob | None:
        """Lease the oldest waiting job to `worker`, or `None` if no job is waiting.

        A job whose lease ran out after `max_attempts` attempts becomes an ERROR, kept for
        `retention`, and the search goes on.
        """
        async with self._sessions.begin() as session:
            while True:
                job = await session.scalar(
                    _claim_statement(worker, utcnow(), lease, max_attempts, retention),
                    execution_options={"synchronize_session": False},
                )
                if job is None or job.status == PROCESSING:
                    return job

    async def renew(self, job_id: str, worker: str, lease: timedelta) -> bool:
        """Extend the lease of `worker` on the job; `False` if it no longer holds it."""
        return await self._update_held(job_id, worker, lease_until=utcnow() + lease)

    async def complete(
        self, job_id: str, worker: str, *, audio_id: str, expires_at: datetime
    ) -> bool:
        """Record the job's audio; `False`, changing nothing, if `worker` no longer holds it."""
        return await self._update_held(
            job_id,
            worker,
            status=COMPLETED,
            audio_id=audio_id,
            expires_at=expires_at,
            finished_at=utcnow(),
            lease_until=None,
        )

    async def fail(
        self, job_id: str, worker: str, *, code: str, message: str, expires_at: datetime
    ) -> bool:
        """Record the job's error; `False`, changing nothing, if `worker` no longer holds it."""
        return await self._update_held(
            job_id,
            worker,
            status=ERROR,
            error_code=code,
            error_message=message[:MAX_ERROR_MESSAGE],
            expires_at=expires_at,
            finished_at=utcnow(),
            lease_until=None,
        )

    async def release(self, job_id: str, worker: str) -> bool:
        """Put a job `worker` holds back in the queue, without spending an attempt."""
        return await self._update_held(
            job_id,
            worker,
            status=QUEUED,
            worker=None,
            lease_until=None,
            attempts=SpeechJob.attempts - 1,
        )

    async def get(self, tenant_id: str, job_id: str) -> SpeechJob | None:
        """The tenant's job with this id, if any."""
        async with self._sessions() as session:
            return await session.scalar(
                select(SpeechJob).where(SpeechJob.id == job_id, SpeechJob.tenant_id == tenant_id)
            )

    async def purge_expired(self, now: datetime | None = None) -> list[str]:
        """Delete finished jobs that expired by `now`; returns the ids of their stored audio."""
        moment = now or utcnow()
        async with self._sessions.begin() as session:
            audio_ids = await session.scalars(
                delete(SpeechJob)
                .where(SpeechJob.status.in_(FINISHED), SpeechJob.expires_at <= moment)
                .returning(SpeechJob.audio_id),
                execution_options={"synchronize_session": False},
            )
            return [audio_id for audio_id in audio_ids if audio_id is not None]

    async def depth(self) -> int:
        """How many jobs are queued or being processed."""
        async with self._sessions() as session:
            return await _count_unfinished(session)

    async def _update_held(self, job_id: str, holder: str, **values: Any) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(SpeechJob)
                .where(
                    SpeechJob.id == job_id,
                    SpeechJob.worker == holder,
                    SpeechJob.status == PROCESSING,
                )
                .values(**values),
                execution_options={"synchronize_session": False},
            )
        return cast(CursorResult[Any], result).rowcount == 1


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _count_unfinished(session: AsyncSession) -> int:
    query = select(func.count()).select_from(SpeechJob).where(SpeechJob.status.in_(UNFINISHED))
    return await session.scalar(query) or 0


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Waiting, or leased to a worker whose lease ran out."""
    return or_(
        SpeechJob.status == QUEUED,
        and_(SpeechJob.status == PROCESSING, SpeechJob.lease_until <= now),
    )


def _claim_statement(
    worker: str, now: datetime, lease: timedelta, max_attempts: int, retention: timedelta
) -> ReturningUpdate[SpeechJob]:
    """One UPDATE of the oldest claimable job: leased to `worker`, or an ERROR if exhausted.

    The subquery locks its row and skips rows other workers have locked on PostgreSQL; SQLite
    ignores FOR UPDATE but takes the database's write lock before the subquery reads.
    """
    oldest = (
        select(SpeechJob.id)
        .where(_claimable(now))
        .order_by(SpeechJob.created_at, SpeechJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    exhausted = and_(SpeechJob.status == PROCESSING, SpeechJob.attempts >= max_attempts)
    moment = literal(now, UTCDateTime())
    return (
        update(SpeechJob)
        .where(SpeechJob.id == oldest, _claimable(now))
        .values(
            status=case((exhausted, ERROR), else_=PROCESSING),
            worker=case((exhausted, SpeechJob.worker), else_=worker),
            lease_until=case((exhausted, None), else_=literal(now + lease, UTCDateTime())),
            started_at=func.coalesce(SpeechJob.started_at, moment),
            attempts=case((exhausted, SpeechJob.attempts), else_=SpeechJob.attempts + 1),
            error_code=case((exhausted, WORKER_LOST), else_=None),
            error_message=case(
                (exhausted, "every worker that took the job lost its lease"), else_=None
            ),
            finished_at=case((exhausted, moment), else_=None),
            expires_at=case((exhausted, literal(now + retention, UTCDateTime())), else_=None),
        )
        .returning(SpeechJob)
    )
