"""The admin API under /admin/v1: tenants, keys and everyone's usage, for admin keys only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from litestar import Request, Router, get, patch, post
from litestar.response import Stream
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router.accounts.auth import Principal
from router.accounts.management import KeyOptions
from router.errors import PermissionDeniedError
from router.http.credentials import bearer_key
from router.http.dialects import DialectName
from router.http.dialects.validation import invalid_request
from router.http.object_views import key_view, tenant_view
from router.http.services import services
from router.http.usage_report import csv_rows, date_range, summary_body

Body = TypeVar("Body", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TenantLimits(_Strict):
    """Limits of a tenant; null clears one."""

    rpm_limit: int | None = Field(default=None, ge=1)
    concurrency_limit: int | None = Field(default=None, ge=1)
    monthly_chars_limit: int | None = Field(default=None, ge=1)


class CreateTenant(TenantLimits):
    """POST /admin/v1/tenants."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class CreateKey(_Strict):
    """POST /admin/v1/tenants/{tenant}/keys."""

    name: str | None = Field(default=None, max_length=128)
    rpm_limit: int | None = Field(default=None, ge=1)
    monthly_chars_limit: int | None = Field(default=None, ge=1)
    models: list[str] | None = None
    expires_at: datetime | None = Field(default=None, strict=False)
    is_admin: bool = False
    dialect: DialectName | None = None


class RotateKey(_Strict):
    """POST /admin/v1/keys/{key_id}/rotate."""

    grace_seconds: int = Field(default=86_400, ge=0, le=90 * 86_400)


async def admin(request: Request[Any, Any, Any]) -> Principal:
    """The caller, who must hold an admin key."""
    principal = await services(request).authenticator.authenticate(bearer_key(request))
    if not principal.is_admin:
        raise PermissionDeniedError("This endpoint needs an admin key.")
    return principal


async def parse(request: Request[Any, Any, Any], model: type[Body]) -> Body:
    """The JSON body validated against `model`, each invalid field named in the error."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise invalid_request(exc) from None


@post("/tenants", status_code=201)
async def create_tenant(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Create a tenant."""
    await admin(request)
    body = await parse(request, CreateTenant)
    limits = body.model_dump(exclude={"name"})
    return tenant_view(await services(request).accounts.create_tenant(body.name, **limits))


@get("/tenants")
async def list_tenants(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every tenant."""
    await admin(request)
    tenants = await services(request).accounts.tenants()
    return {"object": "list", "data": [tenant_view(tenant) for tenant in tenants]}


@get("/tenants/{tenant:str}")
async def get_tenant(request: Request[Any, Any, Any], tenant: str) -> dict[str, Any]:
    """One tenant, by id or name."""
    await admin(request)
    return tenant_view(await services(request).accounts.tenant(tenant))


@patch("/tenants/{tenant:str}")
async def update_tenant(request: Request[Any, Any, Any], tenant: str) -> dict[str, Any]:
    """Set or clear a tenant's limits; fields left out stay as they are."""
    await admin(request)
    body = await parse(request, TenantLimits)
    limits = body.model_dump(exclude_unset=True)
    return tenant_view(await services(request).accounts.update_tenant(tenant, **limits))


@post("/tenants/{tenant:str}/keys", status_code=201)
async def create_key(request: Request[Any, Any, Any], tenant: str) -> dict[str, Any]:
    """Create a key; its secret is in this response and nowhere else."""
    await admin(request)
    body = await parse(request, CreateKey)
    options = KeyOptions(
        name=body.name,
        rpm_limit=body.rpm_limit,
        monthly_chars_limit=body.monthly_chars_limit,
        models=None if body.models is None else tuple(body.models),
        expires_at=body.expires_at,
        is_admin=body.is_admin,
        dialect=body.dialect,
    )
    key, secret = await services(request).accounts.create_key(tenant, options)
    return {**key_view(key), "key": secret}


@get("/keys")
async def list_keys(request: Request[Any, Any, Any], tenant: str | None = None) -> dict[str, Any]:
    """Every key, or one tenant's; secrets are never shown again."""
    await admin(request)
    keys = await services(request).accounts.keys(tenant)
    return {"object": "list", "data": [key_view(key) for key in keys]}


@post("/keys/{key_id:str}/revoke", status_code=200)
async def revoke_key(request: Request[Any, Any, Any], key_id: str) -> dict[str, Any]:
    """Revoke a key at once."""
    await admin(request)
    return key_view(await services(request).accounts.revoke_key(key_id))


@post("/keys/{key_id:str}/rotate", status_code=201)
async def rotate_key(request: Request[Any, Any, Any], key_id: str) -> dict[str, Any]:
    """A replacement key; the old one works for `grace_seconds` more."""
    await admin(request)
    body = await parse(request, RotateKey)
    key, secret = await services(request).accounts.rotate_key(
        key_id, timedelta(seconds=body.grace_seconds)
    )
    return {**key_view(key), "key": secret}


async def usage_scope(
    request: Request[Any, Any, Any], tenant: str | None, start: str | None, end: str | None
) -> tuple[str | None, date, date]:
    """For an admin: the tenant id (None for everyone) and the day range asked for."""
    await admin(request)
    tenant_id = None if tenant is None else (await services(request).accounts.tenant(tenant)).id
    return (tenant_id, *date_range(start, end))


@get("/usage")
async def all_usage(
    request: Request[Any, Any, Any],
    start: str | None = None,
    end: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Usage of every tenant, or of one, with per-day, per-model and per-tenant breakdowns."""
    found = services(request)
    tenant_id, first, last = await usage_scope(request, tenant, start, end)
    summary = await found.usage.summarize(tenant_id, first, last)
    return summary_body(summary, first, last, tenant_id)


@get("/usage/export")
async def export_usage(
    request: Request[Any, Any, Any],
    start: str | None = None,
    end: str | None = None,
    tenant: str | None = None,
) -> Stream:
    """Every usage row in the range, as CSV."""
    found = services(request)
    tenant_id, first, last = await usage_scope(request, tenant, start, end)
    return Stream(
        csv_rows(found.usage.rows(tenant_id, first, last)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="usage-{first}-{last}.csv"'},
    )


def admin_router() -> Router:
    """The admin API."""
    return Router(
        path="/admin/v1",
        route_handlers=[
            create_tenant,
            list_tenants,
            get_tenant,
            update_tenant,
            create_key,
            list_keys,
            revoke_key,
            rotate_key,
            all_usage,
            export_usage,
        ],
    )
