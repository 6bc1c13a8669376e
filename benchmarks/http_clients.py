"""aiohttp against httpx, each configured as the upstream providers configure it.

Run by hand: `.venv/bin/python -m benchmarks.http_clients`. One fake OpenAI-style upstream
(`tests.support.upstream`, the whole answer at once) runs as its own process; the clients run on
uvloop, as under the router's uvicorn. Latency is taken from sequential POSTs of
`/v1/audio/speech`, the whole body read, the clients taking turns by blocks (each block after a few
unmeasured requests); requests/s from CONCURRENCY requests at a time on one client for
RATE_SECONDS, in alternating rounds (median). CPU per request is this process's CPU time in those
rounds, the upstream's excluded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import httpx
import uvloop

from benchmarks.upstream import percentile, upstream
from providers.upstream.http import UpstreamOptions

SEQUENTIAL = 1000
BLOCK = 50
WARMUP = 5
CONCURRENCY = 32
RATE_SECONDS = 4
RATE_ROUNDS = 5
BODY = {"model": "tts-1", "input": "Hello there.", "voice": "alloy", "response_format": "mp3"}

Request = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Rate:
    """One round of concurrent requests."""

    per_second: float
    cpu_ms_per_request: float


def httpx_client(options: UpstreamOptions) -> httpx.AsyncClient:
    """An httpx client with the providers' pool size, keep-alive, timeouts and headers."""
    timeout = httpx.Timeout(options.read_timeout_seconds, connect=options.connect_timeout_seconds)
    limits = httpx.Limits(
        max_connections=options.max_connections, max_keepalive_connections=options.max_connections
    )
    return httpx.AsyncClient(headers=options.headers(), timeout=timeout, limits=limits)


def aiohttp_request(session: aiohttp.ClientSession, url: str) -> Request:
    """One POST through `session`, its whole body read."""

    async def request() -> None:
        async with session.post(url, json=BODY) as response:
            await response.read()
        assert response.status == 200, response.status

    return request


def httpx_request(client: httpx.AsyncClient, url: str) -> Request:
    """One POST through `client`, its whole body read."""

    async def request() -> None:
        response = await client.post(url, json=BODY)
        assert response.status_code == 200, response.status_code

    return request


async def latencies(requests: dict[str, Request]) -> dict[str, list[float]]:
    """Milliseconds per sequential request of each client, taking turns by blocks."""
    samples: dict[str, list[float]] = {side: [] for side in requests}
    for _ in range(SEQUENTIAL // BLOCK):
        for side, request in requests.items():
            for _ in range(WARMUP):
                await request()
            for _ in range(BLOCK):
                began = time.perf_counter()
                await request()
                samples[side].append((time.perf_counter() - began) * 1000)
    return samples


async def concurrent_rate(request: Request) -> Rate:
    """Requests/s and CPU per request with CONCURRENCY requests in flight for RATE_SECONDS."""
    deadline = time.perf_counter() + RATE_SECONDS

    async def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            await request()
            done += 1
        return done

    began, cpu = time.perf_counter(), time.process_time()
    count = sum(await asyncio.gather(*(worker() for _ in range(CONCURRENCY))))
    elapsed, spent = time.perf_counter() - began, time.process_time() - cpu
    return Rate(count / elapsed, spent * 1000 / count)


async def rates(requests: dict[str, Request]) -> dict[str, list[Rate]]:
    """RATE_ROUNDS rounds per client, the order reversed every other round."""
    taken: dict[str, list[Rate]] = {side: [] for side in requests}
    sides = list(requests)
    for round_ in range(RATE_ROUNDS):
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            await asyncio.gather(*(requests[side]() for _ in range(CONCURRENCY)))
            taken[side].append(await concurrent_rate(requests[side]))
    return taken


async def measure(base: str) -> list[str]:
    """The table's rows, one per client."""
    options = UpstreamOptions(base_url=base)
    url = f"{base}/audio/speech"
    async with options.session() as session, httpx_client(options) as client:
        requests = {"aiohttp": aiohttp_request(session, url), "httpx": httpx_request(client, url)}
        samples = await latencies(requests)
        rounds = await rates(requests)
    rows = []
    for side in requests:
        rate = statistics.median(r.per_second for r in rounds[side])
        cpu = statistics.median(r.cpu_ms_per_request for r in rounds[side])
        p50, p99 = percentile(samples[side], 0.5), percentile(samples[side], 0.99)
        rows.append(f"| {side} | {p50:.2f} | {p99:.2f} | {rate:.0f} | {cpu:.3f} |")
    return rows


def main() -> None:
    """Measure both clients against one upstream and print a Markdown table."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None).parse_args()
    with upstream(chunks=1, gap_ms=0) as base:
        rows = uvloop.run(measure(base))
    print(
        f"| client | latency p50 (ms) | latency p99 (ms) | requests/s at {CONCURRENCY} "
        f"concurrent (median of {RATE_ROUNDS}) | client CPU per request (ms) |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
