"""API keys, stored by hash: lookup, scoping, revocation and rotation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.ids import new_id
from storage.models import ApiKey, Tenant

__all__ = ["KeyRepository"]

# Settings a rotated key inherits from the key it replaces unless the caller set them.
INHERITED_FIELDS = (
    "name",
    "is_admin",
    "models",
    "rpm_limit",
    "monthly_chars_limit",
    "dialect",
    "expires_at",
)


class KeyRepository:
    """Stores already-hashed API keys; generating and hashing secrets happens elsewhere."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, key: ApiKey) -> ApiKey:
        """Insert a key (given a new id if it has none) and commit it."""
        if key.id is None:
            key.id = new_id("key")
        async with self._sessions.begin() as session:
            session.add(key)
        return key

    async def by_hash(self, secret_hash: str) -> tuple[ApiKey, Tenant] | None:
        """The key with this hash and its tenant, whether or not it is still valid."""
        query = (
            select(ApiKey, Tenant)
            .join(Tenant, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.secret_hash == secret_hash)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else (row[0], row[1])

    async def get(self, key_id: str, *, tenant_id: str | None = None) -> ApiKey | None:
        """The key with this id, if any (and if it belongs to `tenant_id` when one is given)."""
        async with self._sessions() as session:
            return await session.scalar(_scoped(key_id, tenant_id))

    async def list(self, *, tenant_id: str | None = None) -> Sequence[ApiKey]:
        """Keys, oldest first: one tenant's, or everyone's when `tenant_id` is None."""
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
        if tenant_id is not None:
            query = query.where(ApiKey.tenant_id == tenant_id)
        async with self._sessions() as session:
            return (await session.scalars(query)).all()

    async def revoke(
        self, key_id: str, at: datetime, *, tenant_id: str | None = None
    ) -> ApiKey | None:
        """Mark a key revoked at `at`; revoking again keeps the first time. None if not found."""
        async with self._sessions.begin() as session:
            key = await session.scalar(_scoped(key_id, tenant_id).with_for_update())
            if key is not None and key.revoked_at is None:
                key.revoked_at = at
        return key

    async def rotate(
        self, old_key_id: str, new_key: ApiKey, grace_until: datetime
    ) -> ApiKey | None:
        """Add `new_key` in place of a live key, which then expires by `grace_until`.

        The new key joins the old key's tenant and inherits each of its settings that the
        caller left unset. Returns None, changing nothing, if the old key is missing or revoked.
        """
        async with self._sessions.begin() as session:
            old = await session.scalar(_scoped(old_key_id, None).with_for_update())
            if old is None or old.revoked_at is not None:
                return None
            if new_key.id is None:
                new_key.id = new_id("key")
            new_key.tenant_id = old.tenant_id
            for field in INHERITED_FIELDS:
                if getattr(new_key, field) is None:
                    setattr(new_key, field, getattr(old, field))
            session.add(new_key)
            if old.expires_at is None or grace_until < old.expires_at:
                old.expires_at = grace_until
            old.rotated_to_id = new_key.id
        return new_key


def _scoped(key_id: str, tenant_id: str | None) -> Select[ApiKey]:
    query = select(ApiKey).where(ApiKey.id == key_id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return query
