"""Tenants and their keys: the operations the CLI and the admin API share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from router.accounts.auth import DEFAULT_TENANT, Authenticator, generate_key
from router.errors import ConflictError, NotFoundError
from storage.ids import new_id
from storage.keys import KeyRepository
from storage.models import ApiKey, Tenant, utcnow
from storage.tenants import TenantExistsError, TenantRepository


@dataclass(frozen=True, slots=True)
class KeyOptions:
    """What a new key may be restricted to."""

    name: str | None = None
    rpm_limit: int | None = None
    monthly_chars_limit: int | None = None
    models: tuple[str, ...] | None = None
    expires_at: datetime | None = None
    is_admin: bool = False
    dialect: str | None = None


class Accounts:
    """Creates, lists, rotates and revokes tenants and keys."""

    def __init__(
        self,
        tenants: TenantRepository,
        keys: KeyRepository,
        authenticator: Authenticator | None = None,
    ) -> None:
        self._tenants = tenants
        self._keys = keys
        self._authenticator = authenticator

    async def create_tenant(self, name: str, **limits: int | None) -> Tenant:
        """A new tenant; names are unique."""
        try:
            return await self._tenants.create(name, **limits)
        except TenantExistsError as exc:
            raise ConflictError(f"A tenant named '{name}' already exists.") from exc

    async def tenant(self, ref: str) -> Tenant:
        """A tenant by id or by name."""
        tenant = await self._tenants.get(ref) or await self._tenants.by_name(ref)
        if tenant is None:
            raise NotFoundError(f"No tenant '{ref}'.", param="tenant", code="tenant_not_found")
        return tenant

    async def tenants(self) -> Sequence[Tenant]:
        """Every tenant."""
        return await self._tenants.list()

    async def update_tenant(self, ref: str, **limits: Any) -> Tenant:
        """Set or clear a tenant's limits."""
        tenant = await self.tenant(ref)
        updated = await self._tenants.update_limits(tenant.id, **limits)
        if updated is None:
            raise NotFoundError(f"No tenant '{ref}'.", param="tenant", code="tenant_not_found")
        return updated

    async def create_key(self, tenant_ref: str, options: KeyOptions) -> tuple[ApiKey, str]:
        """A new key for a tenant; the secret is returned once and never stored."""
        tenant = await self.tenant(tenant_ref)
        fresh = generate_key()
        key = ApiKey(
            id=new_id("key"),
            tenant_id=tenant.id,
            name=options.name,
            prefix=fresh.prefix,
            secret_hash=fresh.secret_hash,
            is_admin=options.is_admin,
            models=None if options.models is None else list(options.models),
            rpm_limit=options.rpm_limit,
            monthly_chars_limit=options.monthly_chars_limit,
            expires_at=options.expires_at,
            dialect=options.dialect,
        )
        return await self._keys.add(key), fresh.secret

    async def keys(self, tenant_ref: str | None = None) -> Sequence[ApiKey]:
        """Every key, or a tenant's keys."""
        tenant_id = None if tenant_ref is None else (await self.tenant(tenant_ref)).id
        return await self._keys.list(tenant_id=tenant_id)

    async def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once."""
        key = await self._keys.revoke(key_id, utcnow())
        if key is None:
            raise NotFoundError(f"No key '{key_id}'.", param="key", code="key_not_found")
        self._forget(key_id)
        return key

    async def rotate_key(self, key_id: str, grace: timedelta) -> tuple[ApiKey, str]:
        """A replacement key; the old one keeps working for `grace`, then expires."""
        old = await self._keys.get(key_id)
        if old is None or old.revoked_at is not None:
            raise NotFoundError(f"No active key '{key_id}'.", param="key", code="key_not_found")
        fresh = generate_key()
        replacement = ApiKey(id=new_id("key"), prefix=fresh.prefix, secret_hash=fresh.secret_hash)
        rotated = await self._keys.rotate(key_id, replacement, utcnow() + grace)
        if rotated is None:
            raise NotFoundError(f"No active key '{key_id}'.", param="key", code="key_not_found")
        self._forget(key_id)
        return rotated, fresh.secret

    async def bootstrap(self) -> str | None:
        """On an empty database: a default tenant and an admin key, whose secret is returned."""
        if await self._tenants.count():
            return None
        await self.create_tenant(DEFAULT_TENANT)
        _, secret = await self.create_key(
            DEFAULT_TENANT, KeyOptions(name="bootstrap", is_admin=True)
        )
        return secret

    def _forget(self, key_id: str) -> None:
        if self._authenticator is not None:
            self._authenticator.forget(key_id)
