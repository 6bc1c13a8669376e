"""The JSON shapes the console's endpoints answer: session, models, requests, provider health."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from annotated_types import Ge, Le

from providers.api import (
    AUDIO_FORMATS,
    MAX_INPUT_CHARS,
    MAX_SPEED,
    MIN_SPEED,
    SAMPLING_CONTROLS,
    Provider,
    SamplingControl,
    SpeechRequest,
)
from router.accounts.auth import Principal
from router.http.object_views import timestamp
from router.speech.breaker import BreakerState
from router.speech.routing import Route
from storage.models import UsageRecord
from storage.usage_records import ProviderActivity


def session_view(principal: Principal) -> dict[str, Any]:
    """Who the key acts for, and whether it opens the admin views."""
    return {
        "object": "console.session",
        "tenant_id": principal.tenant_id,
        "tenant_name": principal.tenant_name,
        "key_id": principal.key_id,
        "is_admin": principal.is_admin,
        "models": None if principal.models is None else sorted(principal.models),
    }


def request_view(record: UsageRecord) -> dict[str, Any]:
    """One request as the latest-requests table lists it; status 0 is still in progress."""
    return {
        "object": "console.request",
        "request_id": record.request_id,
        "created_at": timestamp(record.created_at),
        "tenant_id": record.tenant_id,
        "key_id": record.key_id,
        "dialect": record.dialect,
        "model": record.requested_model,
        "provider": record.provider,
        "voice": record.voice,
        "response_format": record.response_format,
        "input_characters": record.input_characters,
        "audio_seconds": record.audio_seconds,
        "status": record.status,
        "error_code": record.error_code,
        "time_to_first_byte_ms": record.time_to_first_byte_ms,
        "latency_ms": record.latency_ms,
        "failovers": record.failovers,
        "cost_usd": record.cost_usd,
    }


def control_view(control: SamplingControl) -> dict[str, Any]:
    """A sampling control with the bounds every request is checked against."""
    field = SpeechRequest.model_fields[control]
    bounds: dict[str, Any] = {"min": None, "max": None}
    for rule in field.metadata:
        if isinstance(rule, Ge):
            bounds["min"] = rule.ge
        elif isinstance(rule, Le):
            bounds["max"] = rule.le
    integer = int in get_args(field.annotation)
    return {"name": control, "type": "integer" if integer else "number", **bounds}


def _public_voices(route: Route) -> list[dict[str, str | None]]:
    """The voices of the route's lead target, under the names callers use for them."""
    target = route.lead()
    voices: list[dict[str, str | None]] = [
        {"id": ours, "description": "", "language": None, "gender": None} for ours in target.voices
    ]
    voices += [
        {
            "id": voice.id,
            "description": voice.description,
            "language": voice.language,
            "gender": voice.gender,
        }
        for voice in target.card.voices
        if voice.id not in target.voices
    ]
    return voices


def model_view(name: str, route: Route, states: Mapping[str, BreakerState]) -> dict[str, Any]:
    """A public model name: what the targets that can serve it now can do together.

    A target whose provider is not ready (a GPU model on a CPU host) is left out, since its
    requests fail over to the others; when none is ready, every target counts.
    """
    cards = [target.card for target in route.targets if target.provider.ready()] or [
        target.card for target in route.targets
    ]
    controls = [
        control_view(control)
        for control in SAMPLING_CONTROLS
        if any(control in card.sampling_controls for card in cards)
    ]
    return {
        "id": name,
        "object": "console.model",
        "route": route.model,
        "ready": any(
            target.provider.ready() and states[target.provider.name] is not BreakerState.OPEN
            for target in route.targets
        ),
        "voices": _public_voices(route),
        "formats": list(AUDIO_FORMATS),
        "max_input_chars": min(MAX_INPUT_CHARS, max(card.max_input_chars for card in cards)),
        "speed": {"min": MIN_SPEED, "max": MAX_SPEED, "default": 1.0},
        "sampling_controls": controls,
        "voice_cloning": any(card.voice_cloning for card in cards),
        "instructions": any(card.instructions for card in cards),
    }


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` in (0, 1]) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def provider_view(
    name: str, provider: Provider, state: BreakerState, activity: ProviderActivity
) -> dict[str, Any]:
    """One provider's health over the recent window `activity` covers."""
    first_bytes = activity.first_byte_ms
    return {
        "object": "console.provider",
        "name": name,
        "ready": provider.ready(),
        "breaker": state.label,
        "attempts": activity.attempts,
        "errors": activity.errors,
        "error_rate": activity.errors / activity.attempts if activity.attempts else None,
        "time_to_first_byte_ms": {
            "p50": percentile(first_bytes, 0.50),
            "p95": percentile(first_bytes, 0.95),
            "samples": len(first_bytes),
        },
    }
