"""The API key of a request, in each of the forms the supported clients send it."""

from __future__ import annotations

from typing import Any

from litestar import Request


def bearer_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `Authorization: Bearer <key>`, if any."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def raw_or_bearer_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `authorization: <key>` or `authorization: Bearer <key>`."""
    value = request.headers.get("authorization", "").strip()
    scheme, _, key = value.partition(" ")
    if scheme.lower() == "bearer":
        return key.strip() or None
    return value if value and " " not in value else None


def api_key_header(request: Request[Any, Any, Any]) -> str | None:
    """The key from `x-api-key`, if any."""
    return request.headers.get("x-api-key", "").strip() or None


def bearer_or_api_key(request: Request[Any, Any, Any]) -> str | None:
    """The key from `Authorization: Bearer <key>`, else from `x-api-key`."""
    return bearer_key(request) or api_key_header(request)


def any_key(request: Request[Any, Any, Any]) -> str | None:
    """The key in any form a supported dialect sends it."""
    return raw_or_bearer_key(request) or api_key_header(request)
