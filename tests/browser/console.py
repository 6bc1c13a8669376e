"""The console as a test drives it: sign in, switch views, read messages, save screenshots."""

from __future__ import annotations

import io
import math
import wave
from array import array
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from tests.support.server import REPO_ROOT

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
# Speech can take a while on a busy machine: Kokoro runs on the CPU.
SPEECH_TIMEOUT_MS = 60_000


class Console:
    """One browser tab on the console, noting script errors and policy violations it logs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._note)
        page.on("response", self._check_asset)
        page.on("requestfailed", self._asset_failed)

    def _note(self, message: ConsoleMessage) -> None:
        # The browser logs every error answer too: the API errors the tests provoke on purpose,
        # and the console's own assets, which `_check_asset` judges by their URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _check_asset(self, response: Response) -> None:
        if is_console_asset(response.url) and response.status >= 400:
            self.problems.append(f"asset {response.url} answered {response.status}")

    def _asset_failed(self, request: Request) -> None:
        if is_console_asset(request.url):
            self.problems.append(f"asset {request.url} failed: {request.failure}")

    def open(self, view: str = "") -> None:
        """Load the console, at `view` if given."""
        self.page.goto(f"/console#{view}" if view else "/console")

    def sign_in(self, key: str) -> None:
        """Sign in with `key` and wait for the playground."""
        if not self.page.url.endswith("/console") and "/console#" not in self.page.url:
            self.open()
        self.page.fill("#signin-key", key)
        self.page.click("#signin-submit")
        self.loaded("playground")

    def loaded(self, view: str) -> Locator:
        """The section of `view`, once it is shown and has loaded its data."""
        section = self.view(view)
        expect(section).to_be_visible()
        expect(section).not_to_have_attribute("aria-busy", "true")
        return section

    def go(self, view: str) -> Locator:
        """Follow the navigation link to `view`; its section once loaded."""
        self.page.click(f"[data-view-link='{view}']")
        return self.loaded(view)

    def view(self, name: str) -> Locator:
        """The section of view `name`."""
        return self.page.locator(f"#view-{name}")

    def screenshot(self, name: str) -> Path:
        """Save the whole page as tests/artifacts/NAME.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def scrolls_sideways(self) -> bool:
        """Whether the page is wider than the window."""
        return bool(self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def is_console_asset(url: str) -> bool:
    """Whether `url` is the console page or one of its static files (not its API)."""
    path = urlsplit(url).path
    return path == "/console" or path.startswith("/console/static/")


def tone_wav(seconds: float = 3.0, rate: int = 24_000, hz: float = 220.0) -> bytes:
    """A mono 16-bit WAV file of a sine tone."""
    samples = array(
        "h",
        (
            round(12_000 * math.sin(2 * math.pi * hz * n / rate))
            for n in range(round(seconds * rate))
        ),
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()
