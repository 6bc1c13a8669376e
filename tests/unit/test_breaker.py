"""The circuit breaker's states, and the order a route's targets are tried in."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from providers.api import ProviderContext
from router.settings import BreakerSettings
from router.speech.breaker import BreakerState, CircuitBreaker
from router.speech.routing import Route, Target
from tests.plugins.scripted import ScriptedProvider


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state_of(subject: CircuitBreaker) -> BreakerState:
    """The breaker's state, read afresh (mypy would keep an earlier read narrowed)."""
    return subject.state


def breaker(clock: Clock, **settings: object) -> CircuitBreaker:
    defaults: dict[str, object] = {"consecutive_failures": 3, "open_seconds": 10.0}
    return CircuitBreaker(BreakerSettings.model_validate({**defaults, **settings}), clock)


def test_consecutive_failures_open_it_and_a_success_resets_the_count() -> None:
    clock = Clock()
    subject = breaker(clock)
    for _ in range(2):
        subject.failed()
    subject.succeeded()
    for _ in range(2):
        subject.failed()
    assert state_of(subject) is BreakerState.CLOSED
    assert subject.allow()
    subject.failed()
    assert state_of(subject) is BreakerState.OPEN
    assert not subject.allow()
    assert subject.retry_after() == 10.0


def test_a_failure_rate_opens_it_once_enough_calls_were_made() -> None:
    subject = breaker(Clock(), consecutive_failures=100, failure_rate=0.5, window=10, min_calls=6)
    for _ in range(2):
        subject.failed()
        subject.succeeded()
    subject.failed()
    assert state_of(subject) is BreakerState.CLOSED  # 3 of 5: not enough calls yet
    subject.succeeded()
    subject.failed()
    assert state_of(subject) is BreakerState.OPEN  # 4 of 7 failed


def test_half_open_lets_one_probe_through_and_its_success_closes_it() -> None:
    clock = Clock()
    subject = breaker(clock, consecutive_failures=1)
    subject.failed()
    clock.now += 10.0
    assert state_of(subject) is BreakerState.HALF_OPEN
    assert subject.allow()
    assert not subject.allow()  # the probe is out
    subject.succeeded()
    assert state_of(subject) is BreakerState.CLOSED
    assert subject.allow()
    assert subject.allow()


def test_a_failed_probe_opens_it_again_and_an_abandoned_one_frees_the_probe() -> None:
    clock = Clock()
    subject = breaker(clock, consecutive_failures=1)
    subject.failed()
    clock.now += 10.0
    assert subject.allow()
    subject.abandoned()
    assert subject.allow()
    subject.failed()
    assert state_of(subject) is BreakerState.OPEN
    clock.now += 9.9
    assert not subject.allow()


def test_a_disabled_breaker_never_blocks() -> None:
    subject = breaker(Clock(), enabled=False, consecutive_failures=1)
    subject.failed()
    assert state_of(subject) is BreakerState.CLOSED
    assert subject.allow()


def test_weighted_targets_share_load_at_their_place_in_the_chain() -> None:
    provider = ScriptedProvider(ProviderContext("scripted", Path()))
    card = provider.models()[0]
    first, heavy, light, last = (
        Target(provider, card),
        Target(provider, card, weight=3.0),
        Target(provider, card, weight=1.0),
        Target(provider, card),
    )
    route = Route("m", (first, heavy, light, last))
    rng = random.Random(7)  # noqa: S311 - a reproducible draw
    orders = Counter(tuple(route.ordered(rng)) for _ in range(4000))
    assert set(orders) == {(first, heavy, light, last), (first, light, heavy, last)}
    share = orders[(first, heavy, light, last)] / 4000
    assert 0.72 <= share <= 0.78
