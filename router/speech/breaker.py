"""A circuit breaker per provider: skip a provider that keeps failing, probe it to come back."""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Mapping

from router.settings import BreakerSettings


class BreakerState(enum.IntEnum):
    """Where a breaker stands; the value is what metrics report."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2

    @property
    def label(self) -> str:
        """The state as health reports word it: `closed`, `open` or `half-open`."""
        return self.name.lower().replace("_", "-")


class CircuitBreaker:
    """Opens after consecutive failures or a failure rate; half-opens for one probe at a time."""

    def __init__(
        self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._recent: deque[bool] = deque(maxlen=settings.window)
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """Closed, open, or half-open once the open period is over."""
        if self._opened_at is None or not self._settings.enabled:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self._settings.open_seconds:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._settings.open_seconds - self._clock())

    def allow(self) -> bool:
        """Whether to try the provider now; a half-open breaker lets one probe through."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def succeeded(self) -> None:
        """A try made audio: close the breaker."""
        self._recent.append(True)
        self._consecutive_failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        """A try failed through the provider's fault: maybe open the breaker."""
        self._recent.append(False)
        self._consecutive_failures += 1
        if self._probing or self._tripped():
            self._opened_at = self._clock()
            self._recent.clear()
            self._consecutive_failures = 0
        self._probing = False

    def abandoned(self) -> None:
        """A try ended with no verdict on the provider (the caller left): free the probe."""
        self._probing = False

    def _tripped(self) -> bool:
        settings = self._settings
        if self._consecutive_failures >= settings.consecutive_failures:
            return True
        if len(self._recent) < settings.min_calls:
            return False
        failures = self._recent.count(False)
        return failures / len(self._recent) >= settings.failure_rate


class Breakers:
    """One breaker per provider name."""

    def __init__(self, breakers: Mapping[str, CircuitBreaker]) -> None:
        self._breakers = dict(breakers)

    def __getitem__(self, provider: str) -> CircuitBreaker:
        return self._breakers[provider]

    def states(self) -> dict[str, BreakerState]:
        """Each provider's breaker state."""
        return {name: breaker.state for name, breaker in self._breakers.items()}
