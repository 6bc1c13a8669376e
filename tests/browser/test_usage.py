"""The usage dashboard: a tenant's own figures; for admins every tenant and provider health."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.console import SPEECH_TIMEOUT_MS, Console
from tests.support.server import RunningRouter, settled_usage
from tests.support.tenants import tenant_key

TEXT = "Counted on the dashboard."


def test_the_request_just_made_shows_on_the_dashboard(
    console: Console, router: RunningRouter, admin: httpx.Client
) -> None:
    console.sign_in(tenant_key(admin))
    page = console.page
    page.select_option("#speech-model", "tone")
    page.fill("#speech-text", TEXT)
    page.click("#speech-play")
    expect(page.locator("#speech-download")).to_be_visible(timeout=SPEECH_TIMEOUT_MS)
    request_id = page.locator("#speech-status").get_attribute("data-request-id")
    assert request_id
    settled_usage(router.data_dir / "tts-router.sqlite3", [request_id])
    console.go("usage")
    totals = page.locator("#usage-totals")
    expect(totals).to_contain_text(f"Requests1Errors0Characters{len(TEXT)}Audio seconds2")
    row = page.locator("#usage-requests tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(request_id)
    expect(row.locator("td[data-label='Status']")).to_have_text("200")
    expect(row.locator("td[data-label='Model']")).to_have_text("tone")
    expect(row.locator("td[data-label='Provider']")).to_have_text("scripted")
    expect(page.locator("#usage-models tbody tr")).to_have_count(1)
    for chart in ("requests", "characters", "seconds", "cost"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
    expect(page.locator("#provider-health")).to_be_hidden()
    console.screenshot("usage")


def test_an_admin_sees_every_tenant_and_provider_health(
    console: Console, admin_key: str, http: httpx.Client
) -> None:
    http.post("/v1/audio/speech", json={"model": "tone", "input": "Hi.", "voice": "alloy"})
    console.sign_in(admin_key)
    page = console.page
    console.go("usage")
    expect(page.locator("#usage-scope")).to_contain_text("all tenants")
    expect(page.locator("#usage-tenants")).to_contain_text("acme")
    expect(page.locator("#usage-requests th", has_text="Tenant")).to_have_count(1)
    health = page.locator("#provider-health tbody tr")
    expect(health).to_have_count(3)
    scripted = health.filter(has_text="scripted-down").first
    expect(scripted.locator("td[data-label='Breaker']")).to_have_text("closed")
    expect(scripted.locator("td[data-label='Ready']")).to_have_text("ready")
    console.screenshot("usage-admin-health")
    page.select_option("#usage-tenant", label="acme")
    expect(page.locator("#usage-scope")).to_contain_text("tenant acme")
