"""The catalog: public names and aliases to provider chains, checked against capabilities."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.api import ProviderContext
from router.errors import ModelNotFoundError
from router.settings import ChainStep, RouteSettings
from router.speech.routing import Catalog, RoutingConfigError
from tests.plugins.scripted import ScriptedProvider

PROVIDERS = {"scripted": ScriptedProvider(ProviderContext("scripted", Path()))}


def route(model: str, *aliases: str, target: str = "tone") -> RouteSettings:
    """A one-step route to the scripted provider."""
    return RouteSettings(
        model=model, aliases=aliases, chain=(ChainStep(provider="scripted", model=target),)
    )


def test_names_and_aliases_resolve_to_the_same_route() -> None:
    catalog = Catalog.build([route("tone", "beep", "tts-1")], PROVIDERS)
    assert catalog.resolve("beep") is catalog.resolve("tone")
    assert catalog.resolve("tts-1").targets[0].card.id == "tone"
    assert [name for name, _ in catalog.names()] == ["beep", "tone", "tts-1"]


def test_unknown_model_is_not_found() -> None:
    catalog = Catalog.build([route("tone")], PROVIDERS)
    with pytest.raises(ModelNotFoundError) as raised:
        catalog.resolve("nope")
    assert raised.value.status == 404
    assert raised.value.error_code == "model_not_found"


def test_route_to_a_model_the_provider_lacks_is_refused() -> None:
    with pytest.raises(RoutingConfigError, match="has no model 'missing'"):
        Catalog.build([route("m", target="missing")], PROVIDERS)


def test_alias_claimed_twice_is_refused() -> None:
    with pytest.raises(RoutingConfigError, match="already claimed by routes"):
        Catalog.build([route("a", "shared"), route("b", "shared")], PROVIDERS)
