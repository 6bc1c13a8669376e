"""The one place where a request's usage is recorded."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Protocol

from storage.models import UsageRecord
from storage.usage import UsageRepository

logger = logging.getLogger("tts_router.usage")


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """What one speech request asked for, what served it and what it produced."""

    request_id: str
    dialect: str
    tenant_id: str
    key_id: str | None
    requested_model: str
    provider: str | None
    upstream_model: str | None
    voice: str | None
    response_format: str | None
    input_characters: int
    audio_seconds: float
    output_bytes: int
    time_to_first_byte_ms: float | None
    latency_ms: float
    status: int
    error_code: str | None


class UsageRecorder(Protocol):
    """Where usage events go."""

    async def record(self, event: UsageEvent) -> None:
        """Persist one event; must not raise for a well-formed event."""
        ...


class LogUsageRecorder:
    """Writes each event as one structured log line."""

    async def record(self, event: UsageEvent) -> None:
        """Log the event at INFO."""
        logger.info("usage", extra={"usage": asdict(event)})


class DatabaseUsageRecorder:
    """Writes each event as one usage row."""

    def __init__(self, repository: UsageRepository) -> None:
        self._repository = repository

    async def record(self, event: UsageEvent) -> None:
        """Insert the event; a failure to store it is logged with the event, never raised."""
        try:
            await self._repository.add(UsageRecord(**asdict(event)))
        except Exception:
            logger.exception("could not store usage", extra={"usage": asdict(event)})
