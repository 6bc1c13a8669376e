"""Liveness, readiness and metrics of a router with a provider that failed to load."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.setups import set_up

CONFIG = """
[providers.scripted]
plugin = "scripted"

[providers.broken]
plugin = "scripted"
options = { fail_start = true }

[[routes]]
model = "stuck"
chain = [{ provider = "broken", model = "tone" }]

[[routes]]
model = "rescued"
chain = [{ provider = "broken", model = "tone" }, { provider = "scripted", model = "tone" }]
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    setup = set_up(tmp_path_factory.mktemp("health"), CONFIG)
    with setup.router() as router:
        headers = {"authorization": f"Bearer {setup.key}"}
        with httpx.Client(base_url=router.base_url, headers=headers, timeout=30) as http:
            yield http


def _speak(client: httpx.Client, model: str) -> httpx.Response:
    body = {"model": model, "input": "Hello.", "voice": "alloy", "response_format": "wav"}
    return client.post("/v1/audio/speech", json=body)


def test_liveness_holds_while_a_provider_is_not_loaded(client: httpx.Client) -> None:
    live = client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"


def test_readiness_names_the_model_no_provider_can_serve(client: httpx.Client) -> None:
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["providers"]["broken"] == {"ready": False, "breaker": "closed"}
    assert body["providers"]["scripted"] == {"ready": True, "breaker": "closed"}
    assert body["models"]["stuck"] == {"ready": False, "providers": []}
    assert body["models"]["rescued"] == {"ready": True, "providers": ["scripted"]}


def test_requests_fail_over_past_the_unloaded_provider(client: httpx.Client) -> None:
    rescued = _speak(client, "rescued")
    assert rescued.status_code == 200
    assert rescued.headers["x-tts-router-provider"] == "scripted"
    # The unloaded provider is passed over while a loaded one is left.
    assert rescued.headers["x-tts-router-attempts"] == "1"
    stuck = _speak(client, "stuck")
    assert stuck.status_code == 503
    assert stuck.json()["error"]["code"] == "service_unavailable"


def test_metrics_are_in_prometheus_text_format(client: httpx.Client) -> None:
    _speak(client, "rescued")
    _speak(client, "stuck")
    response = client.get("/metrics")
    assert response.status_code == 200
    media_type, *parameters = response.headers["content-type"].split("; ")
    assert media_type == "text/plain"
    assert sorted(parameters) == ["charset=utf-8", "version=1.0.0"]
    lines = set(response.text.splitlines())
    assert 'tts_router_queue_depth{queue="jobs"} 0.0' in lines
    states = {line for line in lines if line.startswith("tts_router_breaker_state{")}
    assert {line.split(" ")[0] for line in states} == {
        'tts_router_breaker_state{provider="broken"}',
        'tts_router_breaker_state{provider="scripted"}',
    }
    assert not any(line.startswith("tts_router_requests_created") for line in lines)
    requests = [
        line
        for line in lines
        if line.startswith(
            'tts_router_requests_total{dialect="openai",model="rescued",status="200"}'
        )
    ]
    assert len(requests) == 1
    assert float(requests[0].rsplit(" ", 1)[1]) >= 1
    assert any(line.startswith("tts_router_errors_total{") for line in lines)


def test_unknown_models_share_one_metrics_label(client: httpx.Client) -> None:
    for name in ("nope-1", "nope-2"):
        assert _speak(client, name).status_code == 404
    text = client.get("/metrics").text
    assert 'model="other",status="404"' in text
    assert "nope-1" not in text


def test_metrics_path_exists_without_a_key(client: httpx.Client) -> None:
    assert httpx.get(client.base_url.join("/metrics"), timeout=10).status_code == 200
