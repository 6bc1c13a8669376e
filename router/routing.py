"""Public model names, and the ordered provider chain that serves each."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from providers.api import ModelCard, Provider
from router.errors import ModelNotFoundError
from router.settings import RouteSettings


class RoutingConfigError(Exception):
    """A route names a provider or model that does not exist."""


@dataclass(frozen=True, slots=True)
class Target:
    """One provider model a route can send a request to."""

    provider: Provider
    card: ModelCard


@dataclass(frozen=True, slots=True)
class Route:
    """A public model name and its chain of targets, tried in order."""

    model: str
    targets: tuple[Target, ...]


class Catalog:
    """Resolves a requested model name to its route."""

    def __init__(self, routes: Sequence[Route], aliases: Mapping[str, str]) -> None:
        self._routes = {route.model: route for route in routes}
        self._names = {name: self._routes[target] for name, target in aliases.items()}
        self._names.update(self._routes)

    @classmethod
    def build(cls, routes: Sequence[RouteSettings], providers: Mapping[str, Provider]) -> Catalog:
        """Check every route against the providers' declared models and build the catalog."""
        built: list[Route] = []
        aliases: dict[str, str] = {}
        for route in routes:
            targets = tuple(
                _target(route.model, step.provider, step.model, providers) for step in route.chain
            )
            built.append(Route(route.model, targets))
            for alias in route.aliases:
                if alias in aliases or any(alias == other.model for other in routes):
                    msg = f"model name {alias!r} is claimed by more than one route"
                    raise RoutingConfigError(msg)
                aliases[alias] = route.model
        return cls(built, aliases)

    def resolve(self, model: str) -> Route:
        """The route for a public model name or alias."""
        route = self._names.get(model)
        if route is None:
            msg = f"The model `{model}` does not exist or you do not have access to it."
            raise ModelNotFoundError(msg, param="model")
        return route

    def knows(self, model: str) -> bool:
        """Whether `model` is a public model name or alias."""
        return model in self._names

    def names(self) -> Iterator[tuple[str, Route]]:
        """Every public name with its route, in a stable order."""
        return iter(sorted(self._names.items()))


def _target(
    route: str, provider_name: str, model: str, providers: Mapping[str, Provider]
) -> Target:
    provider = providers[provider_name]
    for card in provider.models():
        if card.id == model:
            return Target(provider, card)
    served = ", ".join(card.id for card in provider.models())
    msg = f"route {route!r}: provider {provider_name!r} has no model {model!r} (it has: {served})"
    raise RoutingConfigError(msg)
