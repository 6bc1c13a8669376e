"""Router errors, and the one table that turns any failure into (status, code, message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderOverloadedError,
    ProviderProtocolError,
    ProviderRateLimitedError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)


class RouterError(Exception):
    """A failure the caller is told about, with a fixed status and a stable code."""

    status: ClassVar[int] = 500
    code: ClassVar[str | None] = "internal_error"
    retry: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.error_code = code if code is not None else self.code
        self.retry_after = retry_after
        self.should_retry = self.retry if retry is None else retry
        self.headers = dict(headers or {})


class InvalidRequestError(RouterError):
    """The request is malformed or has an invalid value."""

    status = 400
    code = "invalid_value"
    retry = False


class AuthenticationError(RouterError):
    """No valid API key came with the request."""

    status = 401
    code = "invalid_api_key"
    retry = False


class PermissionDeniedError(RouterError):
    """The key is valid but may not do this."""

    status = 403
    code = "permission_denied"
    retry = False


class NotFoundError(RouterError):
    """The path or resource does not exist."""

    status = 404
    code = "not_found"
    retry = False


class ModelNotFoundError(NotFoundError):
    """No route serves the requested model."""

    code = "model_not_found"


class MethodNotAllowedError(RouterError):
    """The path exists but not for this method."""

    status = 405
    code = "method_not_allowed"
    retry = False


class ConflictError(RouterError):
    """The resource already exists."""

    status = 409
    code = "conflict"
    retry = False


class PayloadTooLargeError(RouterError):
    """The request body is over the configured size."""

    status = 413
    code = "request_too_large"
    retry = False


class UnsupportedMediaTypeError(RouterError):
    """The body is not in a format the endpoint reads."""

    status = 415
    code = "unsupported_media_type"
    retry = False


class UnprocessableError(InvalidRequestError):
    """A body that failed schema validation, with every failure in pydantic's own shape."""

    status = 422

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.details = details


class RateLimitError(RouterError):
    """A rate limit or quota was hit."""

    status = 429
    code = "rate_limit_exceeded"


class InternalError(RouterError):
    """A bug: logged with its traceback and request id."""


class BadGatewayError(RouterError):
    """A provider failed in a way another try would not fix by itself."""

    status = 502
    code = "provider_error"


class ServiceUnavailableError(RouterError):
    """No provider can serve the request right now."""

    status = 503
    code = "service_unavailable"


class OverloadedError(ServiceUnavailableError):
    """Every provider queue for the model is full."""

    code = "overloaded"


class UpstreamTimeoutError(RouterError):
    """The provider took longer than allowed."""

    status = 504
    code = "timeout"


@dataclass(frozen=True, slots=True)
class _Translation:
    error: type[RouterError]
    default_retry_after: float | None = None
    code: str | None = None


# Order matters: subclasses before their bases.
_PROVIDER_ERRORS: tuple[tuple[type[ProviderError], _Translation], ...] = (
    (ProviderRejectedError, _Translation(InvalidRequestError)),
    (ProviderOverloadedError, _Translation(OverloadedError, default_retry_after=1.0)),
    (ProviderTimeoutError, _Translation(UpstreamTimeoutError)),
    (ProviderRateLimitedError, _Translation(RateLimitError, code="provider_rate_limited")),
    (ProviderAuthError, _Translation(BadGatewayError, code="provider_auth_failed")),
    (ProviderProtocolError, _Translation(BadGatewayError, code="provider_bad_response")),
    (ProviderUnavailableError, _Translation(ServiceUnavailableError, default_retry_after=5.0)),
    (ProviderError, _Translation(BadGatewayError)),
)


def from_provider_error(exc: ProviderError) -> RouterError:
    """Translate a provider's failure into the router error the caller sees."""
    for provider_error, translation in _PROVIDER_ERRORS:
        if isinstance(exc, provider_error):
            param = exc.param if isinstance(exc, ProviderRejectedError) else None
            retry_after = exc.retry_after or translation.default_retry_after
            return translation.error(
                exc.message, param=param, code=translation.code, retry_after=retry_after
            )
    raise AssertionError("unreachable: ProviderError is the last entry")  # pragma: no cover


def from_http_status(status: int, message: str) -> RouterError:
    """Translate a framework HTTP exception (bad path, oversize body, ...) into a router error."""
    by_status: dict[int, type[RouterError]] = {
        400: InvalidRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        405: MethodNotAllowedError,
        413: PayloadTooLargeError,
        415: UnsupportedMediaTypeError,
        429: RateLimitError,
        503: ServiceUnavailableError,
    }
    return by_status.get(status, InternalError)(message)
