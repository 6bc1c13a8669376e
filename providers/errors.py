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


class ProviderRejectedError(ProviderError):
    """The provider refuses this request as given; another attempt would fail the same way."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param
