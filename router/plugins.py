"""Providers built from config through their plugins; one whose plugin cannot import stays out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from providers.api import Audio, ModelCard, Provider, ProviderContext, SpeechRequest
from providers.errors import ProviderUnavailableError
from providers.registry import PluginImportError, discover, load_factory
from router.settings import RouteSettings, Settings

logger = logging.getLogger("tts_router.plugins")
# What a route may assume of a model it cannot ask: 24 kHz speech, no voices known.
MISSING_SAMPLE_RATE = 24_000


class MissingProvider:
    """A configured provider whose plugin is not installed: never ready, so routes pass it over."""

    def __init__(self, name: str, models: Sequence[str], reason: str) -> None:
        self.name = name
        self.reason = reason
        self._cards = tuple(
            ModelCard(id=model, voices=(), sample_rate=MISSING_SAMPLE_RATE) for model in models
        )

    def models(self) -> Sequence[ModelCard]:
        """A bare card for each model the routes name on this provider."""
        return self._cards

    async def start(self) -> None:
        """Nothing to load."""

    async def close(self) -> None:
        """Nothing to release."""

    def ready(self) -> bool:
        """Never: its plugin is not installed."""
        return False

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[Audio]:
        """Refuse every request, saying what to install."""
        raise ProviderUnavailableError(f"provider {self.name!r} is not installed: {self.reason}")
        yield  # pragma: no cover (makes this an async generator)


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Every configured provider, through its plugin's entry point.

    A plugin that cannot import (its extra is not installed) is logged once and stands in as
    a provider that is never ready; any other plugin or option error is fatal.
    """
    plugins = discover(settings.plugins)
    providers: dict[str, Provider] = {}
    for name, config in settings.providers.items():
        try:
            factory = load_factory(config.plugin, plugins)
        except PluginImportError as exc:
            logger.warning("provider %s is not ready: %s", name, exc)
            models = routed_models(settings.routes, name)
            providers[name] = MissingProvider(name, models, str(exc))
            continue
        providers[name] = factory(ProviderContext(name, settings.data_dir, config.options))
    return providers


def routed_models(routes: Sequence[RouteSettings], provider: str) -> list[str]:
    """The models `routes` ask of `provider`, in the order they first name them."""
    steps = [step for route in routes for step in route.chain]
    return list(dict.fromkeys(step.model for step in steps if step.provider == provider))
