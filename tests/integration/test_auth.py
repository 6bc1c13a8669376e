"""Every way a key can fail gets a 401 in OpenAI's envelope, and keys never leak."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest

from tests.support.server import RunningRouter

SPEECH = {"model": "tone", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}


def speak(router_url: str, key: str | None, **changes: object) -> httpx.Response:
    """One speech request with `key` as a Bearer token."""
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    return httpx.post(f"{router_url}/v1/audio/speech", json={**SPEECH, **changes}, headers=headers)


def assert_401(response: httpx.Response, code: str, *secrets: str) -> None:
    """401, OpenAI's envelope, the code, no retry, and no key in the message."""
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert response.headers["x-should-retry"] == "false"
    for secret in secrets:
        assert secret not in response.text


def new_key(admin: httpx.Client, **options: object) -> dict[str, object]:
    """A fresh key of tenant acme, made through the admin API."""
    response = admin.post("/admin/v1/tenants/acme/keys", json=options)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"authorization": "Bearer"}, "missing_api_key"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "missing_api_key"),
        ({"authorization": "Bearer tr-not-a-real-key"}, "invalid_api_key"),
    ],
)
def test_missing_or_unknown_key(router_url: str, headers: dict[str, str], code: str) -> None:
    response = httpx.post(f"{router_url}/v1/audio/speech", json=SPEECH, headers=headers)
    assert_401(response, code, "tr-not-a-real-key")


def test_sdk_raises_authentication_error(router_url: str) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/v1", api_key="tr-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.audio.speech.create(model="tone", voice="alloy", input="Hi.")


def test_revoked_key_fails_at_once(router_url: str, admin: httpx.Client) -> None:
    created = new_key(admin, name="to-revoke")
    secret = str(created["key"])
    assert speak(router_url, secret).status_code == 200
    revoked = admin.post(f"/admin/v1/keys/{created['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert_401(speak(router_url, secret), "revoked_api_key", secret)


def test_expired_key(router_url: str, admin: httpx.Client) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    secret = str(new_key(admin, expires_at=past)["key"])
    assert_401(speak(router_url, secret), "expired_api_key", secret)


def test_rotation_grace_period(router_url: str, admin: httpx.Client) -> None:
    created = new_key(admin, name="rotating", rpm_limit=1000)
    old = str(created["key"])
    rotated = admin.post(f"/admin/v1/keys/{created['id']}/rotate", json={"grace_seconds": 2})
    assert rotated.status_code == 201, rotated.text
    new = str(rotated.json()["key"])
    assert rotated.json()["rpm_limit"] == 1000
    assert speak(router_url, old).status_code == 200
    assert speak(router_url, new).status_code == 200
    time.sleep(2.5)
    assert_401(speak(router_url, old), "expired_api_key", old)
    assert speak(router_url, new).status_code == 200


def test_key_restricted_to_models(router_url: str, admin: httpx.Client) -> None:
    secret = str(new_key(admin, models=["tone"])["key"])
    assert speak(router_url, secret).status_code == 200
    response = speak(router_url, secret, model="slow")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_admin_api_needs_an_admin_key(router_url: str, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    response = httpx.get(f"{router_url}/admin/v1/tenants", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert_401(httpx.get(f"{router_url}/admin/v1/tenants"), "missing_api_key")


def test_no_key_appears_in_the_logs(
    router: RunningRouter, router_url: str, admin: httpx.Client, api_key: str, admin_key: str
) -> None:
    created = new_key(admin, name="logged?")
    secret = str(created["key"])
    speak(router_url, secret)
    speak(router_url, "tr-guessing-0123456789")
    admin.post(f"/admin/v1/keys/{created['id']}/revoke")
    speak(router_url, secret)
    speak(router_url, api_key, model="no-such-model")
    log = router.log()
    assert log
    for leaked in (secret, api_key, admin_key, "tr-guessing-0123456789"):
        assert leaked not in log


def test_a_key_sees_only_the_models_it_may_use(router_url: str, admin: httpx.Client) -> None:
    secret = str(new_key(admin, name="narrow", models=["tone", "kokoro"])["key"])
    headers = {"authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=router_url, headers=headers, timeout=30) as client:
        listed = {model["id"] for model in client.get("/v1/models").json()["data"]}
        assert listed == {"tone", "kokoro"}
        voices = client.get("/v1/audio/voices").json()["data"]
        assert {entry["model"] for entry in voices} == {"tone", "kokoro"}
        hidden = client.get("/v1/models/tts-1")
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "model_not_found"
        assert client.get("/v1/audio/voices", params={"model": "tts-1"}).status_code == 404
        assert client.get("/v1/models/tone").status_code == 200
