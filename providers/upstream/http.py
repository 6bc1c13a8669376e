"""What every upstream provider shares: its HTTP client options and the vendor error mapping."""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.api import ModelCard
from providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

ERROR_BODY_LIMIT = 4096


class UpstreamOptions(BaseModel):
    """Where an upstream API is, how to authenticate, and how long to wait for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(min_length=1)
    api_key: str | None = Field(default=None, repr=False)
    # The name of an environment variable holding the key, so config files hold no secret.
    api_key_env: str | None = None
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # The longest wait for any bytes of the answer, first or later.
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _one_key_source(self) -> UpstreamOptions:
        if self.api_key and self.api_key_env:
            raise ValueError("give api_key or api_key_env, not both")
        return self

    def key(self) -> str | None:
        """The API key, read from the environment when configured so."""
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return self.api_key

    def headers(self, auth_header: str = "authorization", scheme: str = "Bearer") -> dict[str, str]:
        """The headers that carry the key, if there is one."""
        key = self.key()
        return {auth_header: f"{scheme} {key}".strip()} if key else {}

    def session(
        self,
        auth_header: str = "authorization",
        scheme: str = "Bearer",
        *,
        decompress: bool = False,
    ) -> aiohttp.ClientSession:
        """An HTTP client for this upstream, carrying its key, decoding gzip bodies if told to."""
        timeout = aiohttp.ClientTimeout(
            sock_connect=self.connect_timeout_seconds, sock_read=self.read_timeout_seconds
        )
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        return aiohttp.ClientSession(
            headers=self.headers(auth_header, scheme),
            timeout=timeout,
            connector=connector,
            auto_decompress=decompress,
        )


def card_for(provider: str, cards: Sequence[ModelCard], model: str) -> ModelCard:
    """The card of `model` among a provider's configured upstream models."""
    for card in cards:
        if card.id == model:
            return card
    raise ProviderError(f"provider {provider!r} has no model {model!r}")


def cannot_connect(exc: aiohttp.ClientError) -> bool:
    """Whether `exc` means no connection to the upstream could be made."""
    return isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def transport_error(provider: str, exc: aiohttp.ClientError) -> ProviderError:
    """The provider error for a failure to talk to the upstream at all."""
    if cannot_connect(exc):
        return ProviderUnavailableError(f"provider {provider!r}: cannot connect to the upstream")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return ProviderTimeoutError(f"provider {provider!r}: the upstream stopped answering")
    return ProviderUnavailableError(
        f"provider {provider!r}: the upstream connection failed ({type(exc).__name__})"
    )


def status_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> ProviderError:
    """The provider error for an upstream's non-2xx answer, with its own message when safe."""
    said = vendor_message(body)
    retry_after = retry_after_seconds(headers)
    prefix = f"provider {provider!r}: upstream answered {status}"
    if status in {401, 403}:
        # Vendors echo part of the key in these messages; the caller must never see it.
        return ProviderAuthError(f"{prefix}: it refused the router's credentials")
    if status == 429:
        return ProviderRateLimitedError(f"{prefix}: {said}", retry_after=retry_after)
    if status in {408, 504}:
        return ProviderTimeoutError(f"{prefix}: {said}", retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailableError(f"{prefix}: {said}", retry_after=retry_after)
    return ProviderRejectedError(said, param=vendor_param(body))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body[:ERROR_BODY_LIMIT])
    except ValueError:
        return None


def vendor_message(body: bytes) -> str:
    """The message in an OpenAI, FastAPI or plain error body."""
    data = _json(body)
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, list) and error and isinstance(error[0], dict):
            error = error[0].get("msg")
        if isinstance(error, str) and error:
            return error
    text = body[:200].decode("utf-8", errors="replace").strip()
    return text or "no message"


def vendor_param(body: bytes) -> str | None:
    """The parameter an OpenAI-style error body blames."""
    data = _json(body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        param = data["error"].get("param")
        return param if isinstance(param, str) else None
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, or `Retry-After` in seconds or as an HTTP date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
