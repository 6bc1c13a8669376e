"""The console's page and JSON endpoints: keys checked as in the admin API, tenants kept apart."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import RunningRouter, settled_usage
from tests.support.tenants import tenant_key

TONE = {"model": "tone", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}
ENDPOINTS = (
    "/console/api/session",
    "/console/api/models",
    "/console/api/requests",
    "/console/api/providers",
)


def client_for(router_url: str, key: str) -> httpx.Client:
    """An HTTP client with `key`."""
    return httpx.Client(base_url=router_url, headers={"authorization": f"Bearer {key}"}, timeout=60)


def spoken(router: RunningRouter, client: httpx.Client, **changes: str) -> str:
    """Make one speech request and wait until its usage row settles; its request id."""
    response = client.post("/v1/audio/speech", json={**TONE, **changes})
    request_id = response.headers["x-request-id"]
    settled_usage(router.data_dir / "tts-router.sqlite3", [request_id])
    return request_id


@pytest.fixture
def stranger(router_url: str, admin: httpx.Client) -> Iterator[httpx.Client]:
    """A client of a tenant of its own."""
    with client_for(router_url, tenant_key(admin)) as client:
        yield client


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_a_key(router_url: str, path: str) -> None:
    response = httpx.get(f"{router_url}{path}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"


def test_a_wrong_key_is_refused_in_openai_words(router_url: str) -> None:
    with client_for(router_url, "tr-not-a-key") as client:
        response = client.get("/console/api/session")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def test_session_names_the_tenant_and_role(http: httpx.Client, admin: httpx.Client) -> None:
    user = http.get("/console/api/session").json()
    assert (user["tenant_name"], user["is_admin"], user["models"]) == ("acme", False, None)
    assert user["key_id"].startswith("key_")
    assert admin.get("/console/api/session").json()["is_admin"] is True


def test_models_carry_what_the_playground_offers(http: httpx.Client) -> None:
    models = {model["id"]: model for model in http.get("/console/api/models").json()["data"]}
    expressive = models["Chatterbox"]
    assert [control["name"] for control in expressive["sampling_controls"]] == [
        "temperature",
        "exaggeration",
        "cfg_weight",
    ]
    assert expressive["sampling_controls"][2] == {
        "name": "cfg_weight",
        "type": "number",
        "min": 0.0,
        "max": 1.0,
    }
    assert expressive["voice_cloning"] is True
    assert [voice["id"] for voice in expressive["voices"]] == ["leo", "nora"]
    alias = models["tts-1"]
    assert (alias["route"], alias["sampling_controls"], alias["voice_cloning"]) == (
        "kokoro",
        [],
        False,
    )
    assert alias["max_input_chars"] == 4096
    assert alias["formats"] == ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    assert alias["speed"] == {"min": 0.25, "max": 4.0, "default": 1.0}


def test_models_a_key_may_not_use_are_left_out(router_url: str, admin: httpx.Client) -> None:
    key = tenant_key(admin, {"models": ["tone", "Chatterbox"]})
    with client_for(router_url, key) as client:
        listed = client.get("/console/api/models").json()["data"]
    assert [model["id"] for model in listed] == ["Chatterbox", "tone"]


def test_a_tenant_sees_only_its_own_requests(
    router: RunningRouter, http: httpx.Client, stranger: httpx.Client
) -> None:
    ours = spoken(router, http)
    theirs = spoken(router, stranger, model="down")
    own = http.get("/console/api/requests", params={"limit": 200}).json()["data"]
    other = stranger.get("/console/api/requests").json()["data"]
    assert ours in [row["request_id"] for row in own]
    assert theirs not in [row["request_id"] for row in own]
    assert [row["request_id"] for row in other] == [theirs]
    (row,) = other
    assert (row["model"], row["status"], row["error_code"]) == ("down", 503, "service_unavailable")
    assert len({entry["tenant_id"] for entry in own}) == 1


def test_an_admin_sees_every_tenant_or_one(
    router: RunningRouter, admin: httpx.Client, stranger: httpx.Client
) -> None:
    theirs = spoken(router, stranger)
    own_tenant = admin.get("/console/api/session").json()["tenant_id"]
    everyone = admin.get("/console/api/requests").json()["data"]
    assert theirs in [row["request_id"] for row in everyone]
    stranger_tenant = stranger.get("/console/api/session").json()["tenant_id"]
    assert stranger_tenant != own_tenant
    only = admin.get("/console/api/requests", params={"tenant": stranger_tenant}).json()["data"]
    assert [row["request_id"] for row in only] == [theirs]
    (row,) = only
    assert (row["status"], row["provider"], row["audio_seconds"]) == (200, "scripted", 2.0)
    assert row["time_to_first_byte_ms"] <= row["latency_ms"]


def test_newest_requests_come_first_up_to_the_limit(
    router: RunningRouter, stranger: httpx.Client
) -> None:
    first, second = spoken(router, stranger), spoken(router, stranger)
    listed = stranger.get("/console/api/requests", params={"limit": 1}).json()["data"]
    assert [row["request_id"] for row in listed] == [second]
    both = stranger.get("/console/api/requests").json()["data"]
    assert [row["request_id"] for row in both] == [second, first]


@pytest.mark.parametrize("limit", [0, 201])
def test_a_limit_out_of_range_is_refused(http: httpx.Client, limit: int) -> None:
    response = http.get("/console/api/requests", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_only_admins_choose_a_tenant(http: httpx.Client) -> None:
    session = http.get("/console/api/session").json()
    response = http.get("/console/api/requests", params={"tenant": session["tenant_id"]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_provider_health_is_for_admins_only(http: httpx.Client) -> None:
    response = http.get("/console/api/providers")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "This endpoint needs an admin key.",
        "type": "permission_error",
        "param": None,
        "code": "permission_denied",
    }


def test_provider_health_reports_errors_and_first_bytes(
    router: RunningRouter, admin: httpx.Client, stranger: httpx.Client
) -> None:
    spoken(router, stranger)
    spoken(router, stranger, model="down")
    body = admin.get("/console/api/providers").json()
    assert body["window_hours"] == 24
    providers = {entry["name"]: entry for entry in body["data"]}
    assert list(providers) == ["kokoro", "scripted", "scripted-down"]
    down = providers["scripted-down"]
    assert (down["ready"], down["breaker"]) == (True, "closed")
    assert down["errors"] >= 1
    assert down["error_rate"] == pytest.approx(down["errors"] / down["attempts"])
    assert down["time_to_first_byte_ms"]["samples"] == 0
    first_bytes = providers["scripted"]["time_to_first_byte_ms"]
    assert first_bytes["samples"] >= 1
    assert 0 < first_bytes["p50"] <= first_bytes["p95"]
    assert admin.get("/console/api/providers", params={"hours": 0}).status_code == 400


def test_the_page_is_served_with_a_strict_policy(router_url: str) -> None:
    response = httpx.get(f"{router_url}/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    for directive in (
        "script-src 'self'",
        "style-src 'self'",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert " style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.findall(r"\son[a-z]+=", page) == []


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/console/static/js/main.js", "text/javascript"),
        ("/console/static/console.css", "text/css"),
        ("/console/static/vendor/uPlot.iife.min.js", "text/javascript"),
        ("/console/static/vendor/uPlot.min.css", "text/css"),
        ("/console/static/vendor/uPlot.LICENSE", ""),
    ],
)
def test_static_files_ship_in_the_package(router_url: str, path: str, media_type: str) -> None:
    response = httpx.get(f"{router_url}{path}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
