"""Tenants and API keys on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from router.accounts.auth import KeyAuthenticator, generate_key
from router.errors import AuthenticationError
from storage.keys import KeyRepository
from storage.models import ApiKey, Tenant
from storage.tenants import TenantExistsError, TenantRepository
from tests.support.databases import sessions

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def run(url: str, body: Callable[[TenantRepository, KeyRepository], Awaitable[None]]) -> None:
    """Run `body` with both repositories on `url`."""

    async def main() -> None:
        async with sessions(url) as factory:
            await body(TenantRepository(factory), KeyRepository(factory))

    asyncio.run(main())


def api_key(tenant_id: str, secret_hash: str, **fields: object) -> ApiKey:
    """A key row for `tenant_id` with a made-up hash."""
    return ApiKey(tenant_id=tenant_id, prefix=secret_hash[:8], secret_hash=secret_hash, **fields)


def test_tenants_create_read_update(database_url: str) -> None:
    async def body(tenants: TenantRepository, _keys: KeyRepository) -> None:
        acme = await tenants.create("acme", rpm_limit=60)
        globex = await tenants.create("globex", concurrency_limit=2, monthly_chars_limit=10**10)
        assert acme.id.startswith("ten_")
        assert acme.id != globex.id
        assert await tenants.count() == 2
        assert (await tenants.get(acme.id)) is not None
        assert (await tenants.get("ten_missing")) is None
        found = await tenants.by_name("globex")
        assert found is not None
        assert (found.id, found.monthly_chars_limit) == (globex.id, 10**10)
        assert found.created_at.tzinfo is not None
        assert (await tenants.by_name("nobody")) is None
        assert [tenant.name for tenant in await tenants.list()] == ["acme", "globex"]

        await tenants.update_limits(acme.id, concurrency_limit=4)
        updated = await tenants.update_limits(acme.id, rpm_limit=None, monthly_chars_limit=500)
        assert updated is not None
        reread = await tenants.get(acme.id)
        assert reread is not None
        limits = (reread.rpm_limit, reread.concurrency_limit, reread.monthly_chars_limit)
        assert limits == (None, 4, 500)
        assert (await tenants.update_limits("ten_missing", rpm_limit=1)) is None

    run(database_url, body)


def test_duplicate_tenant_name(database_url: str) -> None:
    async def body(tenants: TenantRepository, _keys: KeyRepository) -> None:
        await tenants.create("acme")
        with pytest.raises(TenantExistsError, match="acme"):
            await tenants.create("acme")
        assert await tenants.count() == 1

    run(database_url, body)


def test_key_by_hash_returns_its_tenant(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        key = await keys.add(api_key(acme.id, "a" * 64, models=["tts-1"], is_admin=True))
        assert key.id.startswith("key_")
        found = await keys.by_hash("a" * 64)
        assert found is not None
        stored, tenant = found
        assert (stored.id, stored.models, stored.is_admin) == (key.id, ["tts-1"], True)
        assert (tenant.id, tenant.name) == (acme.id, "acme")
        assert (await keys.by_hash("b" * 64)) is None

    run(database_url, body)


def test_revoke_is_idempotent(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        key = await keys.add(api_key(acme.id, "a" * 64))
        first = await keys.revoke(key.id, NOW)
        second = await keys.revoke(key.id, NOW + timedelta(hours=1))
        assert first is not None
        assert second is not None
        assert first.revoked_at == second.revoked_at == NOW
        stored = await keys.get(key.id)
        assert stored is not None
        assert stored.revoked_at == NOW
        assert (await keys.revoke("key_missing", NOW)) is None

    run(database_url, body)


def test_rotate_links_keys_and_sets_grace(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        old = await keys.add(
            api_key(acme.id, "a" * 64, name="ci", models=["tts-1"], rpm_limit=5, is_admin=True)
        )
        grace = NOW + timedelta(hours=1)
        new = await keys.rotate(old.id, api_key("ignored", "b" * 64, rpm_limit=9), grace)
        assert new is not None
        stored_old = await keys.get(old.id)
        stored_new = await keys.get(new.id)
        assert stored_old is not None
        assert stored_new is not None
        assert (stored_old.expires_at, stored_old.rotated_to_id) == (grace, new.id)
        inherited = (stored_new.tenant_id, stored_new.name, stored_new.models)
        assert inherited == (acme.id, "ci", ["tts-1"])
        assert (stored_new.is_admin, stored_new.rpm_limit, stored_new.expires_at) == (True, 9, None)

    run(database_url, body)


def test_a_rotated_key_keeps_the_expiry_of_the_key_it_replaces(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        deadline = NOW + timedelta(days=30)
        old = await keys.add(api_key(acme.id, "a" * 64, expires_at=deadline))
        new = await keys.rotate(old.id, api_key(acme.id, "b" * 64), NOW + timedelta(hours=1))
        assert new is not None
        stored = await keys.get(new.id)
        assert stored is not None
        assert stored.expires_at == deadline
        shorter = await keys.rotate(
            new.id, api_key(acme.id, "c" * 64, expires_at=NOW + timedelta(days=2)), NOW
        )
        assert shorter is not None
        assert shorter.expires_at == NOW + timedelta(days=2)

    run(database_url, body)


def test_rotate_keeps_an_earlier_expiry(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        old = await keys.add(api_key(acme.id, "a" * 64, expires_at=NOW))
        new = await keys.rotate(old.id, api_key(acme.id, "b" * 64), NOW + timedelta(days=1))
        assert new is not None
        stored = await keys.get(old.id)
        assert stored is not None
        assert stored.expires_at == NOW

    run(database_url, body)


def test_revoked_or_missing_key_cannot_be_rotated(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        old = await keys.add(api_key(acme.id, "a" * 64))
        await keys.revoke(old.id, NOW)
        assert (await keys.rotate(old.id, api_key(acme.id, "b" * 64), NOW)) is None
        assert (await keys.rotate("key_missing", api_key(acme.id, "c" * 64), NOW)) is None
        assert (await keys.by_hash("b" * 64)) is None
        assert [key.id for key in await keys.list()] == [old.id]

    run(database_url, body)


def test_keys_are_scoped_to_their_tenant(database_url: str) -> None:
    async def body(tenants: TenantRepository, keys: KeyRepository) -> None:
        acme = await tenants.create("acme")
        globex = await tenants.create("globex")
        acme_key = await keys.add(api_key(acme.id, "a" * 64))
        globex_key = await keys.add(api_key(globex.id, "b" * 64))
        assert (await keys.get(acme_key.id, tenant_id=globex.id)) is None
        assert (await keys.get(acme_key.id, tenant_id=acme.id)) is not None
        assert (await keys.revoke(acme_key.id, NOW, tenant_id=globex.id)) is None
        unrevoked = await keys.get(acme_key.id)
        assert unrevoked is not None
        assert unrevoked.revoked_at is None
        assert [key.id for key in await keys.list(tenant_id=globex.id)] == [globex_key.id]
        assert {key.id for key in await keys.list()} == {acme_key.id, globex_key.id}

    run(database_url, body)


def test_key_needs_an_existing_tenant(database_url: str) -> None:
    async def body(_tenants: TenantRepository, keys: KeyRepository) -> None:
        with pytest.raises(IntegrityError):
            await keys.add(api_key("ten_missing", "a" * 64))

    run(database_url, body)


class CountingKeys(KeyRepository):
    """The real repository, counting its lookups by hash."""

    lookups = 0

    async def by_hash(self, secret_hash: str) -> tuple[ApiKey, Tenant] | None:
        """Count, then look up."""
        self.lookups += 1
        return await super().by_hash(secret_hash)


def test_concurrent_requests_share_one_key_lookup(database_url: str) -> None:
    async def main() -> None:
        async with sessions(database_url) as factory:
            acme = await TenantRepository(factory).create("acme")
            keys = CountingKeys(factory)
            new = generate_key()
            stored = await keys.add(api_key(acme.id, new.secret_hash))
            authenticator = KeyAuthenticator(keys, cache_seconds=60)
            calls = [authenticator.authenticate(new.secret) for _ in range(20)]
            found = await asyncio.gather(*calls)
            assert {principal.key_id for principal in found} == {stored.id}
            assert keys.lookups == 1
            await keys.revoke(stored.id, datetime.now(UTC))
            authenticator.forget(stored.id)
            with pytest.raises(AuthenticationError, match="revoked"):
                await authenticator.authenticate(new.secret)
            assert keys.lookups == 2

    asyncio.run(main())
