"""JSON endpoints under /console/api for what the public APIs do not answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Router, get

from router.accounts.auth import Principal
from router.errors import InvalidRequestError, PermissionDeniedError
from router.http.admin import admin
from router.http.console.payloads import model_view, provider_view, request_view, session_view
from router.http.credentials import bearer_key
from router.http.services import Services, services
from storage.models import utcnow
from storage.usage_records import ProviderActivity

MAX_REQUESTS = 200
MAX_WINDOW_HOURS = 24 * 31


async def signed_in(request: Request[Any, Any, Any]) -> Principal:
    """The caller, who must hold a valid key."""
    return await services(request).authenticator.authenticate(bearer_key(request))


@get("/session")
async def session(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Who the key acts for; the console signs in with this."""
    return session_view(await signed_in(request))


@get("/models")
async def models(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every public model the key may use, with its voices, limits and controls."""
    principal = await signed_in(request)
    found = services(request)
    states = found.breakers.states()
    data = [
        model_view(name, route, states)
        for name, route in found.speech.catalog.names()
        if principal.may_use(name)
    ]
    return {"object": "list", "data": data}


@get("/requests")
async def latest_requests(
    request: Request[Any, Any, Any], limit: int = 50, tenant: str | None = None
) -> dict[str, Any]:
    """The newest requests: the caller's tenant's, or for an admin everyone's or one tenant's."""
    principal = await signed_in(request)
    if not 1 <= limit <= MAX_REQUESTS:
        msg = f"Invalid 'limit': expected 1 to {MAX_REQUESTS}, got {limit}."
        raise InvalidRequestError(msg, param="limit")
    found = services(request)
    records = await found.usage.latest(await _scope(found, principal, tenant), limit)
    return {"object": "list", "data": [request_view(record) for record in records]}


async def _scope(found: Services, principal: Principal, tenant: str | None) -> str | None:
    """Whose requests to list: a tenant's id, or None for everyone (admins only)."""
    if principal.is_admin:
        return None if tenant is None else (await found.accounts.tenant(tenant)).id
    if tenant is not None:
        raise PermissionDeniedError("Only admin keys can choose a tenant.")
    return principal.tenant_id


@get("/providers")
async def provider_health(request: Request[Any, Any, Any], hours: int = 24) -> dict[str, Any]:
    """Admin: each provider's readiness, breaker, error rate and time to first byte."""
    await admin(request)
    if not 1 <= hours <= MAX_WINDOW_HOURS:
        msg = f"Invalid 'hours': expected 1 to {MAX_WINDOW_HOURS}, got {hours}."
        raise InvalidRequestError(msg, param="hours")
    found = services(request)
    activity = await found.usage.provider_activity(utcnow() - timedelta(hours=hours))
    states = found.breakers.states()
    data = [
        provider_view(name, provider, states[name], activity.get(name, ProviderActivity()))
        for name, provider in sorted(found.providers.items())
    ]
    return {"object": "list", "window_hours": hours, "data": data}


def api_router() -> Router:
    """The console's JSON endpoints."""
    return Router(path="/api", route_handlers=[session, models, latest_requests, provider_health])
