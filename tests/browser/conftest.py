"""Chromium, driven by Playwright, on the console of the session's router."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ViewportSize, sync_playwright

from tests.browser.console import Console
from tests.support.server import RunningRouter

CHROMIUM_ENV = "TTS_ROUTER_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """The system's Chromium (never a downloaded one), for this package's tests only."""
    executable = os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield browser
        browser.close()


def open_console(browser: Browser, router: RunningRouter, viewport: ViewportSize) -> Console:
    """A fresh browser context (no storage shared with other tests) on the router."""
    context = browser.new_context(base_url=router.base_url, viewport=viewport)
    context.set_default_timeout(15_000)
    return Console(context.new_page())


@pytest.fixture
def console(browser: Browser, router: RunningRouter) -> Iterator[Console]:
    """The console at desktop width; the test fails on any script error or policy violation."""
    opened = open_console(browser, router, DESKTOP)
    yield opened
    opened.page.context.close()
    assert opened.problems == []


@pytest.fixture
def phone(browser: Browser, router: RunningRouter) -> Iterator[Console]:
    """The console on a 390-pixel-wide phone screen."""
    opened = open_console(browser, router, PHONE)
    yield opened
    opened.page.context.close()
    assert opened.problems == []
