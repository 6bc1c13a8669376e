"""Limits: requests per minute, concurrency and the character budget, each named when hit."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.support.server import wait_for_fresh_minute
from tests.support.tenants import tenant_key

TONE = {"model": "tone", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}


def speak(router_url: str, key: str, **changes: object) -> httpx.Response:
    """One speech request."""
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{router_url}/v1/audio/speech", json={**TONE, **changes}, headers=headers)


def assert_429(response: httpx.Response, code: str, words: str) -> str:
    """429 in OpenAI's envelope with Retry-After and a message naming the limit."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", code)
    assert words in error["message"]
    assert int(response.headers["retry-after"]) >= 1
    return str(error["message"])


def test_tenant_requests_per_minute(router_url: str, admin: httpx.Client) -> None:
    wait_for_fresh_minute()
    key = tenant_key(admin, rpm_limit=3)
    answers = [speak(router_url, key) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["x-ratelimit-remaining-requests"] for answer in answers] == [
        "2",
        "1",
        "0",
    ]
    assert answers[0].headers["x-ratelimit-limit-requests"] == "3"
    assert answers[0].headers["x-ratelimit-reset-requests"].endswith("s")
    message = assert_429(
        speak(router_url, key), "requests_per_minute_exceeded", "3 requests per minute"
    )
    assert "tenant" in message


def test_key_requests_per_minute_counts_failures(router_url: str, admin: httpx.Client) -> None:
    wait_for_fresh_minute()
    key = tenant_key(admin, key_options={"rpm_limit": 2})
    assert speak(router_url, key, model="down").status_code == 503
    assert speak(router_url, key).status_code == 200
    message = assert_429(
        speak(router_url, key), "requests_per_minute_exceeded", "2 requests per minute"
    )
    assert "key key_" in message


def test_rate_headers_on_streams(router_url: str, admin: httpx.Client) -> None:
    wait_for_fresh_minute()
    key = tenant_key(admin, rpm_limit=5)
    headers = {"authorization": f"Bearer {key}"}
    body = {**TONE, "model": "slow", "response_format": "pcm"}
    with httpx.stream(
        "POST", f"{router_url}/v1/audio/speech", json=body, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining-requests"] == "4"
        assert response.read()


def test_tenant_concurrency(router_url: str, admin: httpx.Client) -> None:
    key = tenant_key(admin, concurrency_limit=1)
    headers = {"authorization": f"Bearer {key}"}
    body = {**TONE, "model": "slow", "response_format": "pcm"}
    with httpx.stream("POST", f"{router_url}/v1/audio/speech", json=body, headers=headers) as slow:
        assert slow.status_code == 200
        assert_429(speak(router_url, key), "concurrency_limit_exceeded", "concurrent requests")
        slow.read()
    assert speak(router_url, key).status_code == 200


def test_monthly_character_budget(router_url: str, admin: httpx.Client) -> None:
    key = tenant_key(admin, monthly_chars_limit=30)
    assert speak(router_url, key, input="x" * 20).status_code == 200
    # A failed request gives its reservation back.
    assert speak(router_url, key, input="y" * 10, model="down").status_code == 503
    response = speak(router_url, key, input="z" * 11)
    message = assert_429(response, "insufficient_quota", "Monthly character budget")
    assert "20 of 30 characters" in message
    assert response.headers["x-should-retry"] == "false"
    assert speak(router_url, key, input="w" * 10).status_code == 200


@pytest.mark.parametrize("limit", ["rpm_limit", "concurrency_limit", "monthly_chars_limit"])
def test_limits_can_be_changed_and_cleared(admin: httpx.Client, limit: str) -> None:
    name = f"t-{secrets.token_hex(4)}"
    admin.post("/admin/v1/tenants", json={"name": name, limit: 5})
    assert admin.patch(f"/admin/v1/tenants/{name}", json={limit: 7}).json()[limit] == 7
    assert admin.patch(f"/admin/v1/tenants/{name}", json={limit: None}).json()[limit] is None
