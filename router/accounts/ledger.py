"""The one place where a request's usage is recorded."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from storage.database import is_unreachable
from storage.models import IN_PROGRESS, utcnow
from storage.usage_journal import JournalEntry, UsageJournal
from storage.usage_writer import UsageWriter

logger = logging.getLogger("tts_router.usage")
# The status of a request whose process died while it was being answered.
INTERRUPTED = 500


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one provider."""

    provider: str
    upstream_model: str
    status: int
    error_code: str | None
    latency_ms: float


@dataclass(slots=True)
class UsageEvent:
    """Everything recorded about one request."""

    request_id: str
    dialect: str
    tenant_id: str
    key_id: str | None
    requested_model: str
    voice: str | None = None
    response_format: str | None = None
    input_characters: int = 0
    provider: str | None = None
    upstream_model: str | None = None
    audio_seconds: float = 0.0
    output_bytes: int = 0
    time_to_first_byte_ms: float | None = None
    latency_ms: float | None = None
    status: int = IN_PROGRESS
    error_code: str | None = None
    cost_usd: float = 0.0
    created_at: datetime = field(default_factory=utcnow)
    attempts: list[Attempt] = field(default_factory=list)


class UsageLedger(Protocol):
    """Where usage goes: an answered request's row as it starts streaming, then its outcome.

    Each call keeps the row durably before it returns, without waiting for a database.
    """

    def open(self, event: UsageEvent) -> None:
        """Keep the answered request's row, before its first byte is sent."""
        ...

    def record(self, event: UsageEvent) -> None:
        """Keep a finished request: one that was opened, or one that ended before any audio."""
        ...

    async def flush(self) -> None:
        """Wait until the rows kept so far are written to the database."""
        ...


class NullLedger:
    """Records nothing: usage metering switched off."""

    def open(self, event: UsageEvent) -> None:
        """Nothing to keep."""

    def record(self, event: UsageEvent) -> None:
        """Nothing to keep."""

    async def flush(self) -> None:
        """Nothing to write."""


class DatabaseLedger:
    """One usage row per request and one attempt row per provider try, written in batches.

    Every row is appended to the journal first: an answered request's in-progress row before its
    first byte, and each finished row before it is queued for the database. A row's journal
    entries are settled once it is committed; journals of processes that died are restored.
    """

    def __init__(self, writer: UsageWriter, journal: UsageJournal) -> None:
        self._writer = writer
        self._journal = journal

    def open(self, event: UsageEvent) -> None:
        """Journal the in-progress row."""
        self._journal.append(event.request_id, _row(event), _attempts(event))

    def record(self, event: UsageEvent) -> None:
        """Journal a finished row and queue it, with its provider attempts."""
        row, attempts = _row(event), _attempts(event)
        self._journal.append(event.request_id, row, attempts)
        settle = functools.partial(self._journal.settle, event.request_id)
        self._writer.submit(row, attempts, committed=settle)

    async def flush(self) -> None:
        """Wait until the rows queued so far are written."""
        await self._writer.flush()

    async def restore_orphans(self) -> int:
        """Write the rows that dead processes journaled and never wrote; returns how many."""
        orphans = self._journal.claim_orphans()
        if not orphans:
            return 0
        latest: dict[str, JournalEntry] = {}
        for entry in (entry for orphan in orphans for entry in orphan.entries):
            request_id = entry.row["request_id"]
            kept = latest.get(request_id)
            if kept is None or _order(entry) >= _order(kept):
                latest[request_id] = entry
        try:
            restored = await self._writer.restore(
                [(_ended(entry.row), entry.attempts) for entry in latest.values()]
            )
        except Exception as exc:
            for orphan in orphans:
                orphan.release()
            if is_unreachable(exc):
                logger.warning("could not restore %d usage journals yet: %s", len(orphans), exc)
            else:
                logger.exception("could not restore %d usage journals", len(orphans))
            return 0
        for orphan in orphans:
            orphan.discard()
        if restored:
            logger.info("restored %d usage rows from the journals of stopped processes", restored)
        return restored

    async def keep_restoring(self, interval: float) -> None:
        """Restore orphaned journals every `interval` seconds, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.restore_orphans()
            except OSError:
                logger.exception("could not read the usage journals")


def _ended(row: dict[str, Any]) -> dict[str, Any]:
    """A dead process's row as it ended: one still in progress was cut off by the death."""
    if row["status"] != IN_PROGRESS:
        return row
    return {**row, "status": INTERRUPTED, "error_code": "interrupted", "finished_at": utcnow()}


def _order(entry: JournalEntry) -> tuple[bool, datetime]:
    """Finished rows over in-progress ones, then the later one."""
    finished: datetime | None = entry.row.get("finished_at")
    return finished is not None, finished or entry.row["created_at"]


def _row(event: UsageEvent) -> dict[str, Any]:
    return {
        "request_id": event.request_id,
        "created_at": event.created_at,
        "day": event.created_at.date().isoformat(),
        "dialect": event.dialect,
        "tenant_id": event.tenant_id,
        "key_id": event.key_id,
        "requested_model": event.requested_model,
        "voice": event.voice,
        "response_format": event.response_format,
        "input_characters": event.input_characters,
        **_outcome(event),
    }


def _outcome(event: UsageEvent) -> dict[str, Any]:
    return {
        "provider": event.provider,
        "upstream_model": event.upstream_model,
        "audio_seconds": round(event.audio_seconds, 3),
        "output_bytes": event.output_bytes,
        "time_to_first_byte_ms": event.time_to_first_byte_ms,
        "latency_ms": event.latency_ms,
        "status": event.status,
        "error_code": event.error_code,
        "cost_usd": event.cost_usd,
        "failovers": max(0, len(event.attempts) - 1),
        "finished_at": None if event.status == IN_PROGRESS else utcnow(),
    }


def _attempts(event: UsageEvent) -> list[dict[str, Any]]:
    return [
        {
            "attempt": number,
            "provider": attempt.provider,
            "upstream_model": attempt.upstream_model,
            "status": attempt.status,
            "error_code": attempt.error_code,
            "latency_ms": attempt.latency_ms,
        }
        for number, attempt in enumerate(event.attempts, start=1)
    ]
