"""The console's views: time-to-first-byte percentiles, and what a model's controls are."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from providers.api import ProviderContext
from router.http.console.payloads import model_view, percentile
from router.speech.breaker import BreakerState
from router.speech.routing import Route, Target
from tests.plugins.scripted import ScriptedProvider


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.95, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.5, 50.0),
        ([float(n) for n in range(1, 101)], 0.95, 95.0),
        ([float(n) for n in range(1, 11)], 0.95, 10.0),
    ],
)
def test_nearest_rank(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == expected


def _target(tmp_path: Path, name: str, model: str, *, started: bool) -> Target:
    provider = ScriptedProvider(ProviderContext(name, tmp_path))
    if started:
        asyncio.run(provider.start())
    card = next(card for card in provider.models() if card.id == model)
    return Target(provider, card)


def _controls(route: Route) -> list[str]:
    states = {target.provider.name: BreakerState.CLOSED for target in route.targets}
    view = model_view(route.model, route, states)
    return [control["name"] for control in view["sampling_controls"]]


def test_controls_come_from_the_providers_that_can_serve(tmp_path: Path) -> None:
    expressive = _target(tmp_path, "gpu", "expressive", started=False)
    plain = _target(tmp_path, "cpu", "tone", started=True)
    assert _controls(Route("Chatterbox", (expressive, plain))) == []
    ready = _target(tmp_path, "gpu-ready", "expressive", started=True)
    assert _controls(Route("Chatterbox", (ready, plain))) == [
        "temperature",
        "exaggeration",
        "cfg_weight",
    ]


def test_with_no_provider_ready_every_target_counts(tmp_path: Path) -> None:
    expressive = _target(tmp_path, "gpu", "expressive", started=False)
    assert _controls(Route("Chatterbox", (expressive,))) == [
        "temperature",
        "exaggeration",
        "cfg_weight",
    ]
