"""Prometheus series, observed from the same usage events that the ledger stores."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from router.accounts.ledger import UsageEvent, UsageLedger
from router.speech.breaker import BreakerState
from router.speech.routing import Catalog

# `_created` timestamps double the series count and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

OTHER_MODEL = "other"
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """Every series the router exports, in a registry of its own."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "tts_router_requests",
            "Speech requests by dialect, public model and HTTP status.",
            ["dialect", "model", "status"],
            registry=registry,
        )
        self.errors = Counter(
            "tts_router_errors",
            "Failed speech requests by error code.",
            ["code"],
            registry=registry,
        )
        self.attempts = Counter(
            "tts_router_provider_attempts",
            "Provider tries by provider and HTTP status of the try.",
            ["provider", "status"],
            registry=registry,
        )
        self.failovers = Counter(
            "tts_router_failovers",
            "Requests answered by a later provider after earlier tries failed.",
            ["model"],
            registry=registry,
        )
        self.breaker_state = Gauge(
            "tts_router_breaker_state",
            "Circuit breaker state per provider: 0 closed, 1 open, 2 half-open.",
            ["provider"],
            registry=registry,
        )
        self.time_to_first_byte = Histogram(
            "tts_router_time_to_first_byte_seconds",
            "From request to the first audio byte sent.",
            ["model"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.latency = Histogram(
            "tts_router_request_duration_seconds",
            "From request to the last byte or the error.",
            ["model"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "tts_router_queue_depth",
            "Requests queued or in flight: per local provider, and async jobs.",
            ["queue"],
            registry=registry,
        )
        self.audio_seconds = Counter(
            "tts_router_audio_seconds",
            "Seconds of audio produced, by provider.",
            ["provider"],
            registry=registry,
        )

    def observe(self, event: UsageEvent) -> None:
        """Count a finished request."""
        model = event.requested_model
        if not self._catalog.knows(model):
            model = OTHER_MODEL
        self.requests.labels(event.dialect, model, str(event.status)).inc()
        if event.error_code is not None:
            self.errors.labels(event.error_code).inc()
        for attempt in event.attempts:
            self.attempts.labels(attempt.provider, str(attempt.status)).inc()
        if event.status == 200 and len(event.attempts) > 1:
            self.failovers.labels(model).inc()
        if event.time_to_first_byte_ms is not None:
            self.time_to_first_byte.labels(model).observe(event.time_to_first_byte_ms / 1000)
        if event.latency_ms is not None:
            self.latency.labels(model).observe(event.latency_ms / 1000)
        if event.provider is not None and event.audio_seconds > 0:
            self.audio_seconds.labels(event.provider).inc(event.audio_seconds)

    def exposition(self, breakers: Mapping[str, BreakerState], queues: Mapping[str, int]) -> bytes:
        """The text format, with the breaker states and queue depths of this moment."""
        for provider, state in breakers.items():
            self.breaker_state.labels(provider).set(int(state))
        for queue, depth in queues.items():
            self.queue_depth.labels(queue).set(depth)
        return generate_latest(self.registry)


class MeteredLedger:
    """A usage ledger that also counts every finished request in the metrics."""

    def __init__(self, ledger: UsageLedger, metrics: Metrics) -> None:
        self._ledger = ledger
        self._metrics = metrics

    def open(self, event: UsageEvent) -> None:
        """Keep the in-progress row."""
        self._ledger.open(event)

    def record(self, event: UsageEvent) -> None:
        """Count a finished request, then keep it."""
        self._metrics.observe(event)
        self._ledger.record(event)

    async def flush(self) -> None:
        """Wait until the rows kept so far are written."""
        await self._ledger.flush()
