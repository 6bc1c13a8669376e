"""Fixtures: one real router process per test session, reached over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.server import RunningRouter, cli, register_plugins, run_router
from tests.support.setups import SCRIPTED_PLUGIN

VOICE_FILE_MAX_BYTES = 1_000_000

TEST_CONFIG = f"""
[voice_files]
max_bytes = {VOICE_FILE_MAX_BYTES}

[providers.kokoro]
plugin = "kokoro"

[routing]
backoff_seconds = 0.01

[providers.scripted]
plugin = "scripted"
price = {{ per_second = 0.003, minimum_seconds = 1.0 }}

# Its own provider, so that failing on purpose never opens the breaker of `scripted`.
[providers.scripted-down]
plugin = "scripted"
breaker = {{ enabled = false }}

[[routes]]
model = "kokoro"
aliases = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
chain = [{{ provider = "kokoro", model = "kokoro" }}]

[[routes]]
model = "tone"
chain = [{{ provider = "scripted", model = "tone" }}]

[[routes]]
model = "instant"
chain = [{{ provider = "scripted", model = "instant" }}]

[[routes]]
model = "slow"
chain = [{{ provider = "scripted", model = "slow" }}]

[[routes]]
model = "broken-midway"
chain = [{{ provider = "scripted", model = "broken-midway" }}]

[[routes]]
model = "crash-midway"
chain = [{{ provider = "scripted", model = "crash-midway" }}]

[[routes]]
model = "down"
chain = [{{ provider = "scripted-down", model = "unavailable" }}]

[[routes]]
model = "Chatterbox"
chain = [{{ provider = "scripted", model = "expressive" }}]

[[routes]]
model = "failover"
chain = [
  {{ provider = "scripted-down", model = "unavailable" }},
  {{ provider = "scripted", model = "tone" }},
]
"""


@dataclass(frozen=True)
class Keys:
    """The session's API keys: a plain one and an admin one, both of tenant `acme`."""

    user: str
    admin: str


@pytest.fixture(scope="session")
def router_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the test config and the test plugin's registration."""
    root = tmp_path_factory.mktemp("router")
    register_plugins(root / "plugins", SCRIPTED_PLUGIN)
    (root / "router.toml").write_text(TEST_CONFIG)
    return root


@pytest.fixture(scope="session")
def keys(router_root: Path) -> Keys:
    """Tenant `acme` and two keys, created with the command line."""
    data = str(router_root / "data")
    cli("tenants", "create", "acme", "--data-dir", data)
    user = cli("keys", "create", "--tenant", "acme", "--name", "tests", "--data-dir", data)[-1]
    admin = cli("keys", "create", "--tenant", "acme", "--admin", "--data-dir", data)[-1]
    return Keys(user, admin)


@pytest.fixture(scope="session")
def router(router_root: Path, keys: Keys) -> Iterator[RunningRouter]:
    """The router with Kokoro and the scripted test plugin."""
    with run_router(
        router_root / "data",
        config=router_root / "router.toml",
        python_path=router_root / "plugins",
    ) as running:
        yield running


@pytest.fixture
def api_key(keys: Keys) -> str:
    """A valid key of tenant `acme`."""
    return keys.user


@pytest.fixture
def admin_key(keys: Keys) -> str:
    """An admin key of tenant `acme`."""
    return keys.admin


@pytest.fixture
def client(router: RunningRouter, api_key: str) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the router."""
    return openai.OpenAI(base_url=f"{router.base_url}/v1", api_key=api_key, max_retries=0)


@pytest.fixture
def http(router: RunningRouter, api_key: str) -> Iterator[httpx.Client]:
    """A plain HTTP client carrying the API key."""
    headers = {"authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=router.base_url, headers=headers, timeout=120.0) as client:
        yield client


@pytest.fixture
def admin(router: RunningRouter, admin_key: str) -> Iterator[httpx.Client]:
    """A plain HTTP client carrying the admin key."""
    headers = {"authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=router.base_url, headers=headers, timeout=120.0) as client:
        yield client


@pytest.fixture
def router_url(router: RunningRouter) -> str:
    """The router's base URL, for clients that set their own headers."""
    return router.base_url
