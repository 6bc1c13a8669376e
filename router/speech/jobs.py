"""Async speech jobs: committed to the shared queue, then run by workers in every router process."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import uuid
from datetime import timedelta

import anyio

from providers.api import SpeechRequest
from router.accounts.auth import Principal
from router.accounts.limits import Limiter
from router.errors import InternalError, RateLimitError, RouterError
from router.settings import JobSettings
from router.speech.outputs import AudioOutputs
from router.speech.service import QUEUED, SpeechCall, SpeechService
from router.speech.stream import collect_wav
from storage.database import is_unreachable
from storage.jobs import JobRepository, QueueFullError
from storage.models import SpeechJob, utcnow

logger = logging.getLogger("tts_router.jobs")

# How long a client should wait before offering a job to a full queue again.
QUEUE_FULL_RETRY_SECONDS = 5


class SpeechJobs:
    """Accepts jobs for tenants and runs queued jobs with a pool of workers.

    A job's requests per minute and characters are claimed when it is accepted; it is spoken
    under the `QUEUED` policy, without limits and with its usage settled before it ends.
    """

    def __init__(
        self,
        repository: JobRepository,
        speech: SpeechService,
        outputs: AudioOutputs,
        settings: JobSettings,
        limiter: Limiter | None = None,
    ) -> None:
        self._repository = repository
        self._limiter = limiter
        self._speech = speech
        self._outputs = outputs
        self._settings = settings
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._retention = timedelta(seconds=settings.retention_seconds)
        # Whether the last claim found the database unreachable, so an outage is logged once.
        self._unreachable = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._process = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    async def submit(self, call: SpeechCall, request: SpeechRequest) -> SpeechJob:
        """Check, admit and commit a job; its id is only returned once it is durable."""
        await self._speech.check(call.principal, request)
        job_id = str(uuid.uuid4())
        admission = None
        if self._limiter is not None:
            admission = await self._limiter.admit(call.principal, job_id, len(request.input))
        try:
            job = await self._repository.enqueue(
                job_id=job_id,
                tenant_id=call.principal.tenant_id,
                key_id=call.principal.key_id,
                dialect=call.dialect,
                model=request.model,
                request=request.model_dump(mode="json"),
                max_queued=self._settings.max_queued,
            )
        except QueueFullError as exc:
            if admission is not None:
                await admission.finish(produced_audio=False)
            msg = f"The speech job queue is full ({exc.max_queued} jobs waiting); try again later."
            raise RateLimitError(
                msg, code="queue_full", retry_after=QUEUE_FULL_RETRY_SECONDS
            ) from None
        # The job runs later, outside any concurrency slot; its characters stay reserved.
        if admission is not None:
            await admission.finish(produced_audio=True)
        self._wake.set()
        return job

    async def find(self, tenant_id: str, job_id: str) -> SpeechJob | None:
        """The tenant's job with this id, if it exists and has not expired."""
        job = await self._repository.get(tenant_id, job_id)
        if job is None or (job.expires_at is not None and job.expires_at <= utcnow()):
            return None
        return job

    async def depth(self) -> int:
        """How many jobs are queued or running, in every process."""
        return await self._repository.depth()

    async def start(self) -> None:
        """Start the workers and the purge of expired results."""
        for number in range(self._settings.workers):
            worker = f"{self._process}:{number}"
            self._tasks.append(asyncio.create_task(self._work(worker), name=f"job-{worker}"))
        self._tasks.append(asyncio.create_task(self._purge(), name="job-purge"))

    async def close(self) -> None:
        """Stop the workers; a job they were running goes back to the queue."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _work(self, worker: str) -> None:
        while True:
            try:
                job = await self._repository.claim(
                    worker, self._lease, self._settings.max_attempts, retention=self._retention
                )
            except Exception as exc:
                if not is_unreachable(exc):
                    logger.exception("worker %s could not claim a job", worker)
                elif not self._unreachable:
                    logger.warning("the database is unreachable: %s; jobs wait for it", exc)
                self._unreachable = is_unreachable(exc)
                job = None
            else:
                self._unreachable = False
            if job is None:
                await self._idle()
                continue
            try:
                await self._run(job, worker)
            except asyncio.CancelledError:
                with anyio.CancelScope(shield=True):
                    await self._repository.release(job.id, worker)
                raise
            except Exception:
                logger.exception("worker %s failed on job %s", worker, job.id)

    async def _idle(self) -> None:
        with anyio.move_on_after(self._settings.poll_seconds):
            await self._wake.wait()
        self._wake.clear()

    async def _run(self, job: SpeechJob, worker: str) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._keep_lease, job.id, worker)
            try:
                await self._synthesize(job, worker)
            finally:
                group.cancel_scope.cancel()

    async def _keep_lease(self, job_id: str, worker: str) -> None:
        while True:
            await anyio.sleep(self._settings.lease_seconds / 3)
            if not await self._repository.renew(job_id, worker, self._lease):
                logger.warning("worker %s lost its lease on job %s", worker, job_id)
                return

    async def _synthesize(self, job: SpeechJob, worker: str) -> None:
        request = SpeechRequest.model_validate(job.request)
        # The key's model list and limits were checked when the job was accepted.
        principal = Principal(tenant_id=job.tenant_id, tenant_name="", key_id=job.key_id)
        call = SpeechCall(job.id, job.dialect, principal, QUEUED)
        try:
            async with self._speech.recording_refusals(call, request):
                speech = await self._speech.open(call, request)
            wav = await collect_wav(speech)
        except RouterError as error:
            await self._fail(job, worker, error)
            return
        except Exception as exc:
            logger.exception("job %s failed", job.id)
            await self._fail(job, worker, InternalError(f"The job failed: {type(exc).__name__}."))
            return
        audio = await self._outputs.keep(job.tenant_id, wav, self._retention)
        # A job is finished only once its usage row is written.
        await self._speech.flush_usage()
        if not await self._repository.complete(
            job.id, worker, audio_id=audio.id, expires_at=audio.expires_at
        ):
            logger.warning("job %s finished after its lease was lost; result dropped", job.id)
            await self._outputs.discard([audio])

    async def _fail(self, job: SpeechJob, worker: str, error: RouterError) -> None:
        await self._speech.flush_usage()
        await self._repository.fail(
            job.id,
            worker,
            code=error.error_code or "internal_error",
            message=error.message,
            expires_at=utcnow() + self._retention,
        )

    async def _purge(self) -> None:
        while True:
            await anyio.sleep(self._settings.purge_seconds)
            try:
                await self._repository.purge_expired()
                await self._outputs.purge_expired()
            except Exception as exc:
                if not is_unreachable(exc):
                    logger.exception("could not purge expired jobs and audio")
