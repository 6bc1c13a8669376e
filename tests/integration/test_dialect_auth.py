"""Every way a key can fail, on every dialect's own path, in that dialect's envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.test_auth import new_key


@dataclass(frozen=True)
class Way:
    """A dialect's path, a valid body, how it sends keys, and how its 401 body looks."""

    path: str
    body: dict[str, Any]
    send: Callable[[str], dict[str, str]]
    message: Callable[[Any], str]


SPEECH = {"model": "tone", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}
DISTRIBUTE = {"model": "Chatterbox", "input": "Hello there."}


def _openai_message(body: Any) -> str:
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return str(body["error"]["message"])


def _aqueduct_message(body: Any) -> str:
    assert None not in body["error"].values()
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


def _message_only(body: Any) -> str:
    assert set(body) == {"message"}
    return str(body["message"])


def _detail(body: Any) -> str:
    assert set(body) == {"detail"}
    return str(body["detail"])


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


WAYS = {
    "openai": Way("/openai/v1/audio/speech", SPEECH, _bearer, _openai_message),
    "distribute": Way(
        "/distribute/v1/audio/speech", DISTRIBUTE, lambda k: {"authorization": k}, _message_only
    ),
    "distribute-async": Way(
        "/async/speech/create", DISTRIBUTE, lambda k: {"authorization": k}, _message_only
    ),
    "dedalus": Way("/dedalus/v1/audio/speech", SPEECH, lambda k: {"x-api-key": k}, _detail),
    "aqueduct": Way("/audio/speech", SPEECH, _bearer, _aqueduct_message),
}


@pytest.fixture(scope="module")
def failing_keys(admin_client_module: httpx.Client) -> dict[str, str]:
    """A revoked key and an expired key of tenant acme, plus keys that never existed."""
    revoked = new_key(admin_client_module, name="revoked everywhere")
    assert admin_client_module.post(f"/admin/v1/keys/{revoked['id']}/revoke").status_code == 200
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    expired = new_key(admin_client_module, expires_at=past)
    return {
        "unknown": "tr-never-issued-0123456789abcdef",
        "revoked": str(revoked["key"]),
        "expired": str(expired["key"]),
    }


@pytest.fixture(scope="module")
def admin_client_module(router: Any, keys: Any) -> Any:
    """An admin client shared by this module's tests."""
    with httpx.Client(base_url=router.base_url, headers=_bearer(keys.admin)) as client:
        yield client


@pytest.mark.parametrize("dialect", sorted(WAYS))
@pytest.mark.parametrize("failure", ["missing", "unknown", "revoked", "expired"])
def test_auth_failures_in_every_dialect(
    router_url: str, failing_keys: dict[str, str], dialect: str, failure: str
) -> None:
    way = WAYS[dialect]
    headers = {} if failure == "missing" else way.send(failing_keys[failure])
    response = httpx.post(f"{router_url}{way.path}", json=way.body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["x-should-retry"] == "false"
    message = way.message(response.json())
    assert message
    for secret in failing_keys.values():
        assert secret not in response.text


@pytest.mark.parametrize("dialect", sorted(WAYS))
def test_a_valid_key_passes_in_every_dialect(router_url: str, api_key: str, dialect: str) -> None:
    way = WAYS[dialect]
    response = httpx.post(f"{router_url}{way.path}", json=way.body, headers=way.send(api_key))
    assert response.status_code == 200, response.text
