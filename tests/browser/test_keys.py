"""Keys and tenants for admins: create, rotate and revoke keys, set limits; checked over HTTP."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Dialog, expect

from tests.browser.console import Console


def accept(dialog: Dialog) -> None:
    """Confirm a revocation or rotation."""
    dialog.accept()


def speaks(router_url: str, key: str) -> httpx.Response:
    """A short speech request with `key`."""
    body = {"model": "tone", "input": "Hi.", "voice": "alloy"}
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{router_url}/v1/audio/speech", json=body, headers=headers, timeout=60)


def create_key(console: Console, name: str) -> str:
    """Create a key of tenant acme in the form; its secret, as shown once."""
    page = console.page
    page.select_option("#key-tenant", label="acme")
    page.fill("#key-name", name)
    page.fill("#key-rpm", "60")
    page.fill("#key-chars", "100000")
    page.check("#key-models input[value='tone']")
    tomorrow = datetime.now(UTC).astimezone() + timedelta(days=1)
    page.fill("#key-expires", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.click("#key-create")
    expect(page.locator("#secret-panel")).to_be_visible()
    secret = page.locator("#secret-value").input_value()
    assert secret.startswith("tr-")
    return secret


def test_create_then_revoke_a_key(console: Console, admin_key: str, router_url: str) -> None:
    console.sign_in(admin_key)
    page = console.page
    console.go("keys")
    console.screenshot("keys")
    name = f"browser-{secrets.token_hex(3)}"
    secret = create_key(console, name)
    console.screenshot("keys-new-secret")
    assert speaks(router_url, secret).status_code == 200
    page.click("#secret-done")
    expect(page.locator("#secret-panel")).to_be_hidden()
    assert page.locator("#secret-value").input_value() == ""
    row = page.locator("#key-list tbody tr", has_text=name)
    expect(row.locator("td[data-label='Limits']")).to_have_text(
        "60 requests/minute, 100,000 characters/month"
    )
    expect(row.locator("td[data-label='Models']")).to_have_text("tone")
    page.once("dialog", accept)
    row.get_by_role("button", name=f"Revoke key {name}").click()
    expect(row.locator("td[data-label='State']")).to_have_text("revoked")
    expect(page.locator("#keys-status")).to_contain_text(f"Revoked key {name}")
    refused = speaks(router_url, secret)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "revoked_api_key"


def test_rotating_a_key_shows_its_replacement(
    console: Console, admin_key: str, router_url: str
) -> None:
    console.sign_in(admin_key)
    console.go("keys")
    page = console.page
    name = f"rotated-{secrets.token_hex(3)}"
    old = create_key(console, name)
    page.click("#secret-done")
    page.once("dialog", accept)
    page.locator("#key-list tbody tr", has_text=name).get_by_role(
        "button", name=f"Rotate key {name}"
    ).click()
    expect(page.locator("#keys-status")).to_contain_text(f"Rotated key {name}")
    new = page.locator("#secret-value").input_value()
    assert new.startswith("tr-")
    assert new != old
    assert speaks(router_url, new).status_code == 200
    assert speaks(router_url, old).status_code == 200  # for the grace period
    rows = page.locator("#key-list tbody tr", has_text=name)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="rotated; works until")).to_have_count(1)
    expect(rows.filter(has_text="active")).to_have_count(1)


def test_create_a_tenant_and_set_its_limits(
    console: Console, admin_key: str, admin: httpx.Client
) -> None:
    console.sign_in(admin_key)
    console.go("keys")
    page = console.page
    name = f"shop-{secrets.token_hex(3)}"
    page.fill("#tenant-name", name)
    page.click("#tenant-create")
    expect(page.locator("#keys-status")).to_have_text(f"Created tenant {name}.")
    page.select_option("#limits-tenant", label=name)
    page.fill("#limits-rpm", "100")
    page.fill("#limits-concurrency", "3")
    page.click("#limits-save")
    expect(page.locator("#keys-status")).to_have_text(f"Saved the limits of tenant {name}.")
    row = page.locator("#tenant-list tbody tr", has_text=name)
    expect(row.locator("td[data-label='Requests per minute']")).to_have_text("100")
    stored = admin.get(f"/admin/v1/tenants/{name}").json()
    limits = (stored["rpm_limit"], stored["concurrency_limit"], stored["monthly_chars_limit"])
    assert limits == (100, 3, None)
    page.fill("#limits-rpm", "")
    page.click("#limits-save")
    expect(row.locator("td[data-label='Requests per minute']")).to_have_text("—")
    assert admin.get(f"/admin/v1/tenants/{name}").json()["rpm_limit"] is None


def test_the_keys_page_is_for_admins_only(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    expect(console.page.locator("[data-view-link='keys']")).to_be_hidden()
    console.page.goto("/console#keys")
    console.loaded("playground")
    expect(console.view("keys")).to_be_hidden()
