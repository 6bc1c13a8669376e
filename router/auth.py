"""The one place where a request's API key is checked and its tenant resolved."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Protocol

from router.errors import AuthenticationError

ANONYMOUS_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for."""

    tenant_id: str
    key_id: str | None = None


class Authenticator(Protocol):
    """Turns the key a dialect extracted from the request into a principal, or refuses it."""

    async def authenticate(self, key: str | None) -> Principal:
        """The principal for `key`; raises AuthenticationError when it is missing or invalid."""
        ...


class StaticKeyAuthenticator:
    """One optional shared key; with none configured, every request is the default tenant."""

    def __init__(self, api_key: str | None) -> None:
        self._api_key = api_key.encode() if api_key else None

    async def authenticate(self, key: str | None) -> Principal:
        """Accept the configured key (compared in constant time) or anything when none is set."""
        if self._api_key is None:
            return Principal(ANONYMOUS_TENANT)
        if not key:
            msg = "You didn't provide an API key. Provide it in an Authorization header (Bearer)."
            raise AuthenticationError(msg, code="missing_api_key")
        if not hmac.compare_digest(key.encode(), self._api_key):
            raise AuthenticationError("Incorrect API key provided.")
        return Principal(ANONYMOUS_TENANT, key_id="static")
