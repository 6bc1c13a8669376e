"""Usage: one row per request and per attempt, exact figures, and tenants kept apart."""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
from typing import Any

import httpx
import pytest

from tests.support.server import RunningRouter, settled_usage

TONE = {"model": "tone", "input": "Hello there.", "voice": "alloy", "response_format": "wav"}


def new_tenant(admin: httpx.Client) -> tuple[str, str]:
    """A new tenant and a key of it: (tenant id, key)."""
    name = f"u-{secrets.token_hex(4)}"
    tenant = admin.post("/admin/v1/tenants", json={"name": name}).json()
    key = admin.post(f"/admin/v1/tenants/{name}/keys", json={}).json()["key"]
    return str(tenant["id"]), str(key)


def client_for(router_url: str, key: str) -> httpx.Client:
    """An HTTP client with `key`."""
    return httpx.Client(base_url=router_url, headers={"authorization": f"Bearer {key}"}, timeout=60)


def rows(router: RunningRouter, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Query the router's SQLite database directly."""
    with sqlite3.connect(router.data_dir / "tts-router.sqlite3") as db:
        return db.execute(sql, args).fetchall()


def test_usage_rows_and_summary(
    router: RunningRouter, router_url: str, admin: httpx.Client
) -> None:
    tenant_id, key = new_tenant(admin)
    with client_for(router_url, key) as client:
        ok = client.post("/v1/audio/speech", json=TONE)
        failover = client.post("/v1/audio/speech", json={**TONE, "model": "failover"})
        down = client.post("/v1/audio/speech", json={**TONE, "model": "down"})
        invalid = client.post("/v1/audio/speech", json={**TONE, "voice": "nobody"})
        ids = [r.headers["x-request-id"] for r in (ok, failover, down, invalid)]
        settled_usage(router.data_dir / "tts-router.sqlite3", ids)
        summary = client.get("/v1/usage").json()
    assert [r.status_code for r in (ok, failover, down, invalid)] == [200, 200, 503, 400]

    records = rows(
        router,
        "select request_id, status, audio_seconds, failovers, cost_usd, provider, output_bytes"
        " from usage_records where tenant_id = ? order by id",
        tenant_id,
    )
    by_request = {row[0]: row[1:] for row in records}
    assert len(records) == 4
    assert by_request[ok.headers["x-request-id"]] == (
        200,
        2.0,
        0,
        pytest.approx(0.006),
        "scripted",
        len(ok.content),
    )
    assert by_request[failover.headers["x-request-id"]][:3] == (200, 2.0, 1)
    assert by_request[down.headers["x-request-id"]][:2] == (503, 0.0)
    assert by_request[invalid.headers["x-request-id"]][:2] == (400, 0.0)
    attempts = rows(
        router,
        "select a.attempt, a.provider, a.upstream_model, a.status from provider_attempts a"
        " join usage_records u on u.id = a.usage_id where u.request_id = ? order by a.attempt",
        failover.headers["x-request-id"],
    )
    assert attempts == [(1, "scripted-down", "unavailable", 503), (2, "scripted", "tone", 200)]

    totals = summary["totals"]
    assert (totals["requests"], totals["errors"]) == (4, 2)
    assert totals["input_characters"] == 4 * len(TONE["input"])
    assert totals["audio_seconds"] == pytest.approx(4.0)
    assert totals["cost_usd"] == pytest.approx(0.012)
    assert {entry["model"] for entry in summary["by_model"]} == {"tone", "failover", "down"}
    assert len(summary["by_day"]) == 1
    assert "by_tenant" not in summary


def test_tenants_see_only_their_own_usage(router_url: str, admin: httpx.Client) -> None:
    first_id, first_key = new_tenant(admin)
    second_id, second_key = new_tenant(admin)
    with client_for(router_url, first_key) as first, client_for(router_url, second_key) as second:
        first.post("/v1/audio/speech", json=TONE)
        first.post("/v1/audio/speech", json=TONE)
        second.post("/v1/audio/speech", json=TONE)
        assert first.get("/v1/usage").json()["totals"]["requests"] == 2
        assert second.get("/v1/usage").json()["totals"]["requests"] == 1
        assert first.get("/admin/v1/usage").status_code == 403
        assert first.get("/admin/v1/keys").status_code == 403
    everyone = admin.get("/admin/v1/usage").json()
    tenants = {entry["tenant_id"]: entry["requests"] for entry in everyone["by_tenant"]}
    assert (tenants[first_id], tenants[second_id]) == (2, 1)
    only_second = admin.get("/admin/v1/usage", params={"tenant": second_id}).json()
    assert only_second["totals"]["requests"] == 1


def test_admin_csv_export(router: RunningRouter, router_url: str, admin: httpx.Client) -> None:
    tenant_id, key = new_tenant(admin)
    with client_for(router_url, key) as client:
        sent = client.post("/v1/audio/speech", json=TONE)
    settled_usage(router.data_dir / "tts-router.sqlite3", [sent.headers["x-request-id"]])
    response = admin.get("/admin/v1/usage/export", params={"tenant": tenant_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["request_id"] for row in table] == [sent.headers["x-request-id"]]
    assert (table[0]["status"], table[0]["audio_seconds"]) == ("200", "2.0")


@pytest.mark.parametrize(
    ("params", "param"),
    [({"start": "yesterday"}, "start"), ({"start": "2026-02-02", "end": "2026-01-01"}, "end")],
)
def test_bad_date_range(http: httpx.Client, params: dict[str, str], param: str) -> None:
    response = http.get("/v1/usage", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
