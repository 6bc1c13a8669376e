"""A client that hangs up mid-stream: the synthesis stops and the request is recorded as 499."""

from __future__ import annotations

import sqlite3
import time

import httpx

from tests.plugins.scripted import SLOW_CHUNKS, SLOW_PAUSE_SECONDS
from tests.support.server import RunningRouter, settled_usage

SLOW = {"model": "slow", "input": "Hello there.", "voice": "alloy", "response_format": "pcm"}


def test_leaving_after_the_first_byte_stops_the_stream(router: RunningRouter, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    with (
        httpx.Client(base_url=router.base_url, headers=headers, timeout=30) as client,
        client.stream("POST", "/v1/audio/speech", json=SLOW) as response,
    ):
        assert response.status_code == 200
        next(response.iter_raw())
        request_id = response.headers["x-request-id"]
    left_at = time.monotonic()
    database = router.data_dir / "tts-router.sqlite3"
    settled_usage(database, [request_id])
    settled_after = time.monotonic() - left_at
    with sqlite3.connect(database) as db:
        status, code, latency_ms = db.execute(
            "select status, error_code, latency_ms from usage_records where request_id = ?",
            (request_id,),
        ).fetchone()
    assert (status, code) == (499, "client_closed")
    whole_stream_ms = SLOW_CHUNKS * SLOW_PAUSE_SECONDS * 1000
    assert latency_ms < whole_stream_ms / 3
    assert settled_after < SLOW_CHUNKS * SLOW_PAUSE_SECONDS / 3
