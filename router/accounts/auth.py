"""The one place where a request's API key is checked and its tenant resolved."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cachetools import TTLCache

from router.errors import AuthenticationError
from storage.keys import KeyRepository
from storage.models import ApiKey, Tenant, utcnow

KEY_PREFIX = "tr-"
DISPLAY_LENGTH = 10
DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits that apply to a key or a tenant; None means unlimited."""

    rpm: int | None = None
    concurrency: int | None = None
    monthly_chars: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, with everything needed to admit it."""

    tenant_id: str
    tenant_name: str
    key_id: str | None = None
    is_admin: bool = False
    models: frozenset[str] | None = None
    key_limits: Limits = Limits()
    tenant_limits: Limits = Limits()
    dialect: str | None = None

    def may_use(self, model: str) -> bool:
        """Whether the key is allowed to call `model`."""
        return self.models is None or model in self.models


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the secret is shown once, only its hash is kept."""

    secret: str
    prefix: str
    secret_hash: str


def generate_key() -> NewKey:
    """A random key with 256 bits of entropy."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(secret, secret[:DISPLAY_LENGTH], hash_key(secret))


def hash_key(secret: str) -> str:
    """The stored form of a key: SHA-256, enough for a random 256-bit secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Authenticator(Protocol):
    """Turns the key a dialect extracted from the request into a principal, or refuses it."""

    async def authenticate(self, key: str | None) -> Principal:
        """The principal for `key`; raises AuthenticationError when it is missing or invalid."""
        ...

    def forget(self, key_id: str) -> None:
        """Drop any cached copy of a key that just changed."""
        ...


class OpenAuthenticator:
    """No authentication: every request acts for the default tenant."""

    async def authenticate(self, key: str | None) -> Principal:
        """Always the default tenant."""
        return Principal(DEFAULT_TENANT, DEFAULT_TENANT)

    def forget(self, key_id: str) -> None:
        """Nothing is cached."""


@dataclass(frozen=True, slots=True)
class _KnownKey:
    """A looked-up key: the principal it acts as, and what decides whether it still works."""

    principal: Principal
    secret_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None


class KeyAuthenticator:
    """Keys from the database, looked up by hash and cached for a few seconds.

    Requests that miss the cache at the same moment share one lookup.
    """

    def __init__(self, keys: KeyRepository, *, cache_seconds: float = 2.0) -> None:
        self._keys = keys
        self._cache: TTLCache[str, _KnownKey | None] = TTLCache(maxsize=10_000, ttl=cache_seconds)
        self._lookups: dict[str, asyncio.Future[_KnownKey | None]] = {}
        # Bumped by forget(), so that a lookup begun before a change is not cached.
        self._generation = 0

    async def authenticate(self, key: str | None) -> Principal:
        """The key's principal; a missing, unknown, revoked or expired key is refused."""
        if not key:
            msg = "You didn't provide an API key. Send it as `Authorization: Bearer <key>`."
            raise AuthenticationError(msg, code="missing_api_key")
        digest = hash_key(key)
        known = self._cache.get(digest, _UNCACHED)
        if known is _UNCACHED:
            known = await self._look_up(digest)
        if not isinstance(known, _KnownKey) or not hmac.compare_digest(known.secret_hash, digest):
            raise AuthenticationError("Incorrect API key provided.")
        _check_usable(known, utcnow())
        return known.principal

    def forget(self, key_id: str) -> None:
        """Drop cached lookups of `key_id`."""
        self._generation += 1
        for digest, known in list(self._cache.items()):
            if known is not None and known.principal.key_id == key_id:
                self._cache.pop(digest, None)

    async def _look_up(self, digest: str) -> _KnownKey | None:
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = self._lookups[digest] = asyncio.ensure_future(self._fetch(digest))
            lookup.add_done_callback(lambda _: self._lookups.pop(digest, None))
        return await asyncio.shield(lookup)

    async def _fetch(self, digest: str) -> _KnownKey | None:
        generation = self._generation
        found = await self._keys.by_hash(digest)
        known = None
        if found is not None:
            key, tenant = found
            known = _KnownKey(
                principal_for(key, tenant), key.secret_hash, key.revoked_at, key.expires_at
            )
        if generation == self._generation:
            self._cache[digest] = known
        return known


_UNCACHED = object()


def _check_usable(key: _KnownKey, now: datetime) -> None:
    if key.revoked_at is not None and key.revoked_at <= now:
        raise AuthenticationError("This API key has been revoked.", code="revoked_api_key")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationError("This API key has expired.", code="expired_api_key")


def principal_for(key: ApiKey, tenant: Tenant) -> Principal:
    """The principal a key acts as."""
    return Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        key_id=key.id,
        is_admin=key.is_admin,
        models=None if key.models is None else frozenset(key.models),
        key_limits=Limits(rpm=key.rpm_limit, monthly_chars=key.monthly_chars_limit),
        tenant_limits=Limits(
            rpm=tenant.rpm_limit,
            concurrency=tenant.concurrency_limit,
            monthly_chars=tenant.monthly_chars_limit,
        ),
        dialect=key.dialect,
    )
