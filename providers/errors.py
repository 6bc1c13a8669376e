"""The errors providers raise; each plugin translates its vendor's failures into these."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider could not serve a request."""

    retryable: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """The provider is not loaded or cannot be reached."""

    retryable = True


class ProviderOverloadedError(ProviderError):
    """The provider's queue is full; try again shortly."""

    retryable = True


class ProviderTimeoutError(ProviderError):
    """The provider took longer than allowed."""

    retryable = True


class ProviderRateLimitedError(ProviderError):
    """The provider refused for rate; worth retrying only when it said when."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Retry only within the provider's `Retry-After`."""
        return self.retry_after is not None


class ProviderAuthError(ProviderError):
    """The provider refused the router's own credentials: a configuration fault."""


class ProviderProtocolError(ProviderError):
    """The provider answered with something that is not what it promised (garbage audio)."""

    retryable = True


class ProviderRejectedError(ProviderError):
    """The provider refuses this request as given; another attempt would fail the same way."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param
