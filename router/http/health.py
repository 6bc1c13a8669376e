"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST

from providers.api import QueueReporter
from router.http.services import Services, services
from router.speech.breaker import BreakerState


def _providers(found: Services) -> dict[str, dict[str, Any]]:
    states = found.breakers.states()
    return {
        name: {"ready": provider.ready(), "breaker": states[name].label}
        for name, provider in found.providers.items()
    }


def _models(found: Services) -> dict[str, dict[str, Any]]:
    """Each public model, ready when a provider of its chain is loaded and not skipped."""
    states = found.breakers.states()
    models: dict[str, dict[str, Any]] = {}
    for name, route in found.speech.catalog.names():
        usable = [
            target.provider.name
            for target in route.targets
            if target.provider.ready() and states[target.provider.name] is not BreakerState.OPEN
        ]
        models[name] = {"ready": bool(usable), "providers": usable}
    return models


def readiness(found: Services) -> tuple[bool, dict[str, Any]]:
    """Whether every model can be served now, with the detail per provider and model."""
    models = _models(found)
    ready = all(model["ready"] for model in models.values())
    body = {
        "status": "ready" if ready else "degraded",
        "providers": _providers(found),
        "models": models,
    }
    return ready, body


@get("/health")
async def health(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Liveness with the readiness detail; 200 whenever the process serves HTTP."""
    return readiness(services(request))[1]


@get("/health/live")
async def live() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@get("/health/ready")
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when every model has a loaded provider whose breaker is not open, else 503."""
    ok, body = readiness(services(request))
    return Response(body, status_code=200 if ok else 503)


# Litestar adds the charset itself.
METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST.split("; charset")[0]


@get("/metrics", media_type=METRICS_MEDIA_TYPE)
async def metrics(request: Request[Any, Any, Any]) -> bytes:
    """Every series in Prometheus' text format."""
    found = services(request)
    queues = {
        name: provider.queue_depth()
        for name, provider in found.providers.items()
        if isinstance(provider, QueueReporter)
    }
    queues["jobs"] = await found.jobs.depth()
    return found.metrics.exposition(found.breakers.states(), queues)


HEALTH_HANDLERS = (health, live, ready, metrics)
