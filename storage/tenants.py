"""Tenants and their limits."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.ids import new_id
from storage.models import Tenant

__all__ = ["UNSET", "Limit", "TenantExistsError", "TenantRepository", "Unset"]


class Unset(enum.Enum):
    """The type of `UNSET`."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET
"""Leaves a limit as it is in `TenantRepository.update_limits` (where `None` clears it)."""

Limit: TypeAlias = int | Literal[Unset.UNSET] | None


class TenantExistsError(Exception):
    """A tenant with this name already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a tenant named {name!r} already exists")
        self.name = name


class TenantRepository:
    """Creates, reads and updates tenants."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        name: str,
        *,
        rpm_limit: int | None = None,
        concurrency_limit: int | None = None,
        monthly_chars_limit: int | None = None,
    ) -> Tenant:
        """Insert a new tenant; raises `TenantExistsError` if the name is taken."""
        tenant = Tenant(
            id=new_id("ten"),
            name=name,
            rpm_limit=rpm_limit,
            concurrency_limit=concurrency_limit,
            monthly_chars_limit=monthly_chars_limit,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(tenant)
        except IntegrityError as exc:
            raise TenantExistsError(name) from exc
        return tenant

    async def get(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, if any."""
        async with self._sessions() as session:
            return await session.get(Tenant, tenant_id)

    async def by_name(self, name: str) -> Tenant | None:
        """The tenant with this name, if any."""
        async with self._sessions() as session:
            return await session.scalar(select(Tenant).where(Tenant.name == name))

    async def list(self) -> Sequence[Tenant]:
        """Every tenant, oldest first."""
        async with self._sessions() as session:
            return (
                await session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.name))
            ).all()

    async def update_limits(
        self,
        tenant_id: str,
        *,
        rpm_limit: Limit = UNSET,
        concurrency_limit: Limit = UNSET,
        monthly_chars_limit: Limit = UNSET,
    ) -> Tenant | None:
        """Set (an int), clear (`None`) or keep (`UNSET`) each limit; `None` if no such tenant."""
        limits = {
            "rpm_limit": rpm_limit,
            "concurrency_limit": concurrency_limit,
            "monthly_chars_limit": monthly_chars_limit,
        }
        async with self._sessions.begin() as session:
            tenant = await session.get(Tenant, tenant_id, with_for_update=True)
            if tenant is None:
                return None
            for field, value in limits.items():
                if value is not UNSET:
                    setattr(tenant, field, value)
        return tenant

    async def count(self) -> int:
        """How many tenants exist."""
        async with self._sessions() as session:
            return await session.scalar(select(func.count()).select_from(Tenant)) or 0
