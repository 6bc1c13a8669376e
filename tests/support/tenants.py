"""Tenants and keys made through the admin API."""

from __future__ import annotations

import secrets

import httpx


def tenant_key(
    admin: httpx.Client, key_options: dict[str, object] | None = None, **limits: int
) -> str:
    """A new tenant with `limits`, and a key of it."""
    name = f"t-{secrets.token_hex(4)}"
    assert admin.post("/admin/v1/tenants", json={"name": name, **limits}).status_code == 201
    response = admin.post(f"/admin/v1/tenants/{name}/keys", json=key_options or {})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])
