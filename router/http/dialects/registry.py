"""Every dialect the router speaks, and the choice of one for each request and its errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.response.base import ASGIResponse
from litestar.types import ExceptionHandlersMap

from router.accounts.auth import Principal
from router.errors import RouterError
from router.http.credentials import any_key, bearer_key, bearer_or_api_key, raw_or_bearer_key
from router.http.dialects import BodyReader, aqueduct, dedalus, distribute, openai
from router.http.responses import error_response
from router.http.services import services

KeyReader = Callable[[Request[Any, Any, Any]], str | None]
# A dialect's answer to a speech request: streamed audio, or a JSON response.
SpeechAnswer = ASGIResponse | Response[Any]
SpeechHandler = Callable[[Request[Any, Any, Any], Principal, BodyReader], Awaitable[SpeechAnswer]]


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one dialect reads keys, speaks and words its errors."""

    name: str
    read_key: KeyReader
    speak: SpeechHandler
    error_body: Callable[[RouterError], Any]


DIALECTS: dict[str, Dialect] = {
    dialect.name: dialect
    for dialect in (
        Dialect(openai.DIALECT, bearer_key, openai.speak, openai.error_body),
        Dialect(distribute.DIALECT, raw_or_bearer_key, distribute.speak, distribute.error_body),
        Dialect(dedalus.DIALECT, bearer_or_api_key, dedalus.speak, dedalus.error_body),
        Dialect(aqueduct.DIALECT, bearer_key, aqueduct.speak, aqueduct.error_body),
    )
}
# The first path segment that names a dialect when no handler does (unknown paths).
_PATH_DIALECTS = {
    "async": distribute.DIALECT,
    "outputs": distribute.DIALECT,
    "audio": aqueduct.DIALECT,
    "admin": openai.DIALECT,
    "console": openai.DIALECT,
    **{name: name for name in DIALECTS},
}


def dialect_of(request: Request[Any, Any, Any]) -> Dialect:
    """The dialect a request speaks, for its errors: chosen by its key, its path, or the default."""
    chosen = request.scope.get("state", {}).get("dialect")
    if chosen is None:
        first = request.url.path.strip("/").split("/", 1)[0]
        found = request.app.state.get("services")
        default = found.default_dialect if found is not None else openai.DIALECT
        chosen = _PATH_DIALECTS.get(first, default)
    return DIALECTS[chosen]


def choose(request: Request[Any, Any, Any], name: str) -> Dialect:
    """Fix the dialect of this request, so its errors are worded in it."""
    request.scope.setdefault("state", {})["dialect"] = name
    return DIALECTS[name]


async def authenticate(request: Request[Any, Any, Any], dialect: str | None) -> Principal:
    """Who sent `request`, its key read as `dialect` reads it, or when None as the key names."""
    found = services(request)
    if dialect is not None:
        return await found.authenticator.authenticate(choose(request, dialect).read_key(request))
    principal = await found.authenticator.authenticate(any_key(request))
    choose(request, principal.dialect or found.default_dialect)
    return principal


def render_error(request: Request[Any, Any, Any], error: RouterError) -> Any:
    """The body of `error` in its request's dialect."""
    return dialect_of(request).error_body(error)


def rendered_errors() -> ExceptionHandlersMap:
    """Exception handlers that word each error in its request's dialect."""
    return {Exception: dialect_error}


def dialect_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """`exc` as a response worded in its request's dialect."""
    return error_response(request, exc, render_error)
