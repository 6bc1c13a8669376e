"""Signing in: the key stays in the tab's session storage, and every refusal is explained."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser.console import Console
from tests.support.tenants import tenant_key

EXPIRED = "Your console session has expired. Sign in again."


def test_a_key_opens_the_playground_and_stays_out_of_urls_and_cookies(
    console: Console, api_key: str
) -> None:
    console.open()
    expect(console.view("signin")).to_be_visible()
    console.screenshot("sign-in")
    console.sign_in(api_key)
    page = console.page
    expect(page.locator("#account-name")).to_have_text("Tenant acme (key)")
    expect(page.locator("[data-view-link='keys']")).to_be_hidden()
    assert api_key not in page.url
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length") == 0
    assert api_key in page.evaluate("JSON.stringify(sessionStorage)")


def test_a_wrong_key_shows_the_api_message(console: Console) -> None:
    console.open()
    console.page.fill("#signin-key", "tr-not-a-key")
    console.page.click("#signin-submit")
    expect(console.page.locator("#signin-message")).to_have_text("Incorrect API key provided.")
    expect(console.view("signin")).to_be_visible()
    console.screenshot("sign-in-wrong-key")


def test_an_expired_session_shows_why_on_the_sign_in_page(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    console.page.evaluate(
        """() => {
          const stored = JSON.parse(sessionStorage.getItem("tts-router.console"));
          stored.expiresAt = Date.now() - 1000;
          sessionStorage.setItem("tts-router.console", JSON.stringify(stored));
        }"""
    )
    console.page.reload()
    expect(console.page.locator("#signin-message")).to_have_text(EXPIRED)
    assert console.page.evaluate("sessionStorage.length") == 0
    console.screenshot("sign-in-session-expired")


def test_expiry_is_checked_when_moving_between_views(console: Console, api_key: str) -> None:
    console.sign_in(api_key)
    console.page.evaluate("sessionStorage.setItem('tts-router.console', '{\"key\": \"x\"}')")
    console.page.click("[data-view-link='usage']")
    expect(console.page.locator("#signin-message")).to_have_text(EXPIRED)


def test_a_revoked_key_is_signed_out_with_the_reason(console: Console, admin: httpx.Client) -> None:
    key = tenant_key(admin)
    console.sign_in(key)
    key_id = console.page.evaluate(
        "JSON.parse(sessionStorage.getItem('tts-router.console')).principal.key_id"
    )
    assert admin.post(f"/admin/v1/keys/{key_id}/revoke").status_code == 200
    console.page.click("[data-view-link='usage']")
    expect(console.page.locator("#signin-message")).to_have_text(
        "Signed out: This API key has been revoked."
    )
    expect(console.view("signin")).to_be_visible()
    console.screenshot("sign-in-key-revoked")


def test_signing_in_works_with_the_keyboard_alone(console: Console, api_key: str) -> None:
    console.open()
    page = console.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "signin-key"
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none"
    assert outline[1] >= 2
    page.keyboard.type(api_key)
    page.keyboard.press("Enter")
    expect(console.view("playground")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "playground-title"


def test_a_missing_console_asset_is_a_problem(console: Console) -> None:
    console.open()
    console.page.evaluate("fetch('/console/static/missing.js')")
    console.page.wait_for_timeout(500)
    found = [problem for problem in console.problems if "missing.js" in problem]
    assert found == [
        f"asset {console.page.url.split('/console')[0]}/console/static/missing.js answered 404"
    ]
    console.problems.clear()  # provoked on purpose
