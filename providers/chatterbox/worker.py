"""One thread per model that runs its inference jobs in order, behind a bounded admission count."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from providers.errors import ProviderOverloadedError, ProviderUnavailableError

__all__ = ["ModelWorker"]

T = TypeVar("T")
_Job = tuple[Callable[[], Any], concurrent.futures.Future[Any]]
# Weight of the newest job in the running mean of job durations.
_SMOOTHING = 0.2


class ModelWorker:
    """Runs one model's jobs on its own thread, one at a time, in the order they come."""

    # At most `capacity` requests are admitted at once, one running and the rest waiting.
    # Each has at most one job queued at a time, so the queue is bounded by `capacity` too.

    def __init__(self, name: str, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.admitted = 0
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._job_seconds = 1.0

    def start(self) -> None:
        """Start the thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish the running job, fail the waiting ones, and end the thread; blocks."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        thread.join()
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[1].set_exception(ProviderUnavailableError(f"{self.name} stopped"))

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread is not None and self._thread.is_alive()

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of the `capacity` places for a request, or refuse it when none is free."""
        if self.admitted >= self.capacity:
            retry_after = max(1.0, math.ceil(self._job_seconds * self.admitted))
            raise ProviderOverloadedError(
                f"{self.name} already has {self.admitted} requests in flight",
                retry_after=retry_after,
            )
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def run(self, job: Callable[[], T]) -> T:
        """The result of `job`, run on the thread after the jobs queued before it."""
        if not self.alive:
            raise ProviderUnavailableError(f"{self.name} is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((job, future))
        # Cancelling the await cancels the job too, unless it has already begun.
        return await asyncio.wrap_future(future)

    def _serve(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            started = time.perf_counter()
            try:
                result = job()
            except BaseException as exc:  # noqa: BLE001 (handed to the awaiting request)
                future.set_exception(exc)
            else:
                future.set_result(result)
            elapsed = time.perf_counter() - started
            self._job_seconds += _SMOOTHING * (elapsed - self._job_seconds)
