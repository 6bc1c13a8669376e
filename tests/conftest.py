"""Fixtures: one real router process per test session, reached over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.server import RunningRouter, register_plugins, run_router

API_KEY = "sk-test-0123456789abcdef"

TEST_CONFIG = """
[providers.kokoro]
plugin = "kokoro"

[providers.scripted]
plugin = "scripted"

[[routes]]
model = "kokoro"
aliases = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
chain = [{ provider = "kokoro", model = "kokoro" }]

[[routes]]
model = "tone"
chain = [{ provider = "scripted", model = "tone" }]

[[routes]]
model = "broken-midway"
chain = [{ provider = "scripted", model = "broken-midway" }]

[[routes]]
model = "down"
chain = [{ provider = "scripted", model = "unavailable" }]

[[routes]]
model = "failover"
chain = [
  { provider = "scripted", model = "unavailable" },
  { provider = "scripted", model = "tone" },
]
"""


@pytest.fixture(scope="session")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRouter]:
    """The router with Kokoro and the scripted test plugin, guarded by an API key."""
    root = tmp_path_factory.mktemp("router")
    plugins = register_plugins(
        root / "plugins", {"scripted": "tests.plugins.scripted:ScriptedProvider"}
    )
    config = root / "router.toml"
    config.write_text(TEST_CONFIG)
    with run_router(
        root / "data", config=config, python_path=plugins, env={"TTS_ROUTER_API_KEY": API_KEY}
    ) as running:
        yield running


@pytest.fixture
def client(router: RunningRouter) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the router."""
    return openai.OpenAI(base_url=f"{router.base_url}/v1", api_key=API_KEY, max_retries=0)


@pytest.fixture
def http(router: RunningRouter) -> Iterator[httpx.Client]:
    """A plain HTTP client carrying the API key."""
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=router.base_url, headers=headers, timeout=120.0) as client:
        yield client


@pytest.fixture
def router_url(router: RunningRouter) -> str:
    """The router's base URL, for clients that set their own headers."""
    return router.base_url
