"""JSON views of stored objects, shared by the admin and usage APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import ApiKey, Tenant


def timestamp(moment: datetime | None) -> int | None:
    """Unix seconds, as the API's objects carry them."""
    return None if moment is None else int(moment.timestamp())


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    """A tenant and its limits."""
    return {
        "id": tenant.id,
        "object": "tenant",
        "name": tenant.name,
        "created_at": timestamp(tenant.created_at),
        "rpm_limit": tenant.rpm_limit,
        "concurrency_limit": tenant.concurrency_limit,
        "monthly_chars_limit": tenant.monthly_chars_limit,
    }


def key_view(key: ApiKey) -> dict[str, Any]:
    """A key without its secret or hash: only the display prefix."""
    return {
        "id": key.id,
        "object": "api_key",
        "tenant_id": key.tenant_id,
        "name": key.name,
        "prefix": key.prefix,
        "is_admin": key.is_admin,
        "models": key.models,
        "dialect": key.dialect,
        "rpm_limit": key.rpm_limit,
        "monthly_chars_limit": key.monthly_chars_limit,
        "created_at": timestamp(key.created_at),
        "expires_at": timestamp(key.expires_at),
        "revoked_at": timestamp(key.revoked_at),
        "rotated_to_id": key.rotated_to_id,
    }
