"""Public model names, and the ordered provider chain that serves each."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from providers.api import ModelCard, Provider
from router.errors import ModelNotFoundError
from router.settings import RouteSettings


class RoutingConfigError(Exception):
    """A route names a provider or model that does not exist."""


@dataclass(frozen=True, slots=True, eq=False)
class Target:
    """One provider model a route can send a request to, and its names for our voices."""

    provider: Provider
    card: ModelCard
    voices: Mapping[str, str] = field(default_factory=dict)
    weight: float | None = None

    def voice_for(self, name: str) -> str:
        """The provider's name for the public voice `name`."""
        return self.voices.get(name, name)


@dataclass(frozen=True, slots=True)
class Route:
    """A public model name and its chain of targets, tried in order."""

    model: str
    targets: tuple[Target, ...]

    def lead(self) -> Target:
        """The target that answers for the route: its first ready one, else its first."""
        return next((t for t in self.targets if t.provider.ready()), self.targets[0])

    def ordered(self, rng: random.Random) -> list[Target]:
        """The targets in the order to try them; a run of weighted targets is drawn by weight."""
        order: list[Target] = []
        pool: list[Target] = []
        for target in (*self.targets, None):
            if target is not None and target.weight is not None:
                pool.append(target)
                continue
            while pool:
                weights = [entry.weight or 0.0 for entry in pool]
                (drawn,) = rng.choices(pool, weights=weights)
                order.append(drawn)
                pool.remove(drawn)
            if target is not None:
                order.append(target)
        return order


class Catalog:
    """Resolves a requested model name to its route."""

    def __init__(self, routes: Sequence[Route], aliases: Mapping[str, str]) -> None:
        self._routes = {route.model: route for route in routes}
        self._names = {name: self._routes[target] for name, target in aliases.items()}
        self._names.update(self._routes)

    @classmethod
    def build(cls, routes: Sequence[RouteSettings], providers: Mapping[str, Provider]) -> Catalog:
        """Check every route against the providers' declared models and build the catalog."""
        problems = route_problems(routes, providers)
        if problems:
            raise RoutingConfigError("; ".join(problems))
        built = [
            Route(
                route.model,
                tuple(
                    Target(
                        providers[step.provider],
                        _card(providers[step.provider], step.model),
                        dict(step.voices),
                        step.weight,
                    )
                    for step in route.chain
                ),
            )
            for route in routes
        ]
        aliases = {alias: route.model for route in routes for alias in route.aliases}
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


def _card(provider: Provider, model: str) -> ModelCard:
    return next(card for card in provider.models() if card.id == model)


def route_problems(routes: Sequence[RouteSettings], providers: Mapping[str, Provider]) -> list[str]:
    """Every mistake in `routes`, each with its place in the config."""
    problems: list[str] = []
    claimed: dict[str, int] = {}
    for index, route in enumerate(routes):
        for name in (route.model, *route.aliases):
            if name in claimed:
                problems.append(
                    f"routes[{index}]: model name {name!r} is already claimed by "
                    f"routes[{claimed[name]}]"
                )
            claimed.setdefault(name, index)
        for position, step in enumerate(route.chain):
            place = f"routes[{index}].chain[{position}]"
            provider = providers.get(step.provider)
            if provider is None:
                problems.append(f"{place}.provider: unknown provider {step.provider!r}")
                continue
            cards = {card.id: card for card in provider.models()}
            card = cards.get(step.model)
            if card is None:
                served = ", ".join(cards)
                problems.append(
                    f"{place}.model: provider {step.provider!r} has no model {step.model!r} "
                    f"(it has: {served})"
                )
                continue
            problems.extend(
                f"{place}.voices.{ours}: model {step.model!r} has no voice {theirs!r}"
                for ours, theirs in step.voices.items()
                if not card.has_voice(theirs)
            )
    return problems
