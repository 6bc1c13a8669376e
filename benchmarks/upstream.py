"""The router in front of an upstream on loopback, against calling that upstream directly.

Run by hand: `.venv/bin/python -m benchmarks.upstream` (needs `wrk`: `apt-get install wrk`).
Two fake OpenAI-style upstreams run as their own processes: an instant one (the whole answer
at once) and a streaming one (4 chunks, 25 ms apart). The router serves three models:
`instant` and `streamed` (one provider each) and `dead-first` (a provider whose port refuses
connections, then the instant upstream; its breaker opens on the first requests and stays open).
Two routers run at once, one with the gateway on (database key, limits in Redis, usage rows)
and one with it off (routing alone); beside them, a bare relay (`benchmarks.bare_relay`: uvicorn
and aiohttp, no routing) shows what any Python relay pays on this machine. Latency and time to
first byte are taken from sequential requests, taking turns by blocks of 20 between the relays
and the upstream called directly (each block after 5 unmeasured requests); requests/s from `wrk`
at 32 connections, in alternating rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import REPO_ROOT, free_port, run_router
from tests.support.setups import set_up

SEQUENTIAL = 400
BLOCK = 20
WRK_SECONDS = 8
WRK_ROUNDS = 3
CONNECTIONS = 32
BODY = {"input": "Hello there.", "voice": "alloy", "response_format": "mp3"}


@contextmanager
def serving(module: str, *args: str, model: str) -> Iterator[str]:
    """`python -m module --port N *args` as its own process; yields its `/v1` base URL once a
    speech request for `model` is answered."""
    port = free_port()
    command = [sys.executable, "-m", module, "--port", str(port), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{base}/audio/speech", json={**BODY, "model": model}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait()


def upstream(chunks: int, gap_ms: float) -> AbstractContextManager[str]:
    """A fake upstream process; yields its `/v1` base URL."""
    options = ["--chunks", str(chunks), "--gap-ms", str(gap_ms)]
    return serving("tests.support.upstream", *options, model="tts-1")


def bare_relay(routes: dict[str, str]) -> AbstractContextManager[str]:
    """A bare relay process sending each model to its upstream; yields its base URL."""
    return serving("benchmarks.bare_relay", "--routes", json.dumps(routes), model="instant")


def config(instant: str, streamed: str, dead: str) -> str:
    """Three providers and the routes over them."""

    def provider(name: str, url: str) -> str:
        return (
            f'[providers.{name}]\nplugin = "openai-compatible"\n'
            f"breaker = {{ consecutive_failures = 1, open_seconds = 3600 }}\n"
            f'[providers.{name}.options]\nbase_url = "{url}"\nmodels = ["tts-1"]\n'
        )

    def route(model: str, *names: str) -> str:
        chain = ", ".join(f'{{ provider = "{name}", model = "tts-1" }}' for name in names)
        return f'[[routes]]\nmodel = "{model}"\nchain = [{chain}]\n'

    return "\n".join(
        [
            provider("instant", instant),
            provider("streamed", streamed),
            provider("dead", dead),
            route("instant", "instant"),
            route("streamed", "streamed"),
            route("dead-first", "dead", "instant"),
        ]
    )


@dataclass(frozen=True)
class Target:
    """Where one side of a comparison sends its requests."""

    url: str
    model: str
    headers: dict[str, str]


def timings(client: httpx.Client, target: Target) -> tuple[float, float]:
    """(time to first byte, total) of one request, in milliseconds."""
    began = time.perf_counter()
    body = {**BODY, "model": target.model}
    with client.stream("POST", target.url, json=body, headers=target.headers) as response:
        stream = response.iter_raw()
        next(stream)
        first = time.perf_counter()
        for _ in stream:
            pass
        assert response.status_code == 200, response.status_code
    return (first - began) * 1000, (time.perf_counter() - began) * 1000


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def compare(targets: dict[str, Target]) -> dict[str, dict[str, float]]:
    """Sequential requests, sides taking turns by blocks: p50/p99 of total and first-byte times.

    Blocks, not single requests, so that the work a router does after each response (its usage
    row) is paid by its own requests, not by the next side's.
    """
    samples: dict[str, list[tuple[float, float]]] = {side: [] for side in targets}
    with httpx.Client(timeout=30) as client:
        for _ in range(SEQUENTIAL // BLOCK):
            for side, target in targets.items():
                for _ in range(5):
                    timings(client, target)
                samples[side] += [timings(client, target) for _ in range(BLOCK)]
    figures: dict[str, dict[str, float]] = {}
    for side, taken in samples.items():
        firsts, totals = [s[0] for s in taken], [s[1] for s in taken]
        figures[side] = {
            "total_p50": percentile(totals, 0.5),
            "total_p99": percentile(totals, 0.99),
            "first_p50": percentile(firsts, 0.5),
        }
    return figures


def wrk(target: Target, script_dir: Path) -> float:
    """Requests per second at CONNECTIONS concurrent requests; fails on any non-2xx answer."""
    script = script_dir / f"{target.model}.lua"
    lines = [
        "wrk.method = 'POST'",
        f"wrk.body = {json.dumps(json.dumps({**BODY, 'model': target.model}))}",
    ]
    headers = {"Content-Type": "application/json", **target.headers}
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{WRK_SECONDS}s", "-s", str(script), target.url]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    if "Non-2xx" in result.stdout:
        raise RuntimeError(result.stdout)
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if match is None:
        raise RuntimeError(result.stdout)
    return float(match.group(1))


def throughput(targets: dict[str, Target], script_dir: Path) -> dict[str, float]:
    """Median requests/s of each side, in alternating rounds."""
    rates: dict[str, list[float]] = {side: [] for side in targets}
    for _ in range(WRK_ROUNDS):
        for side, target in targets.items():
            rates[side].append(wrk(target, script_dir))
    return {side: statistics.median(taken) for side, taken in rates.items()}


def run(
    routers: dict[str, str], keys: dict[str, str], instant: str, streamed: str, scratch: Path
) -> list[tuple[str, Callable[[], str]]]:
    """Each measurement, named, as a thunk that returns its Markdown row.

    `routers` maps a side's name to its router's base URL, `keys` to the key it takes (if
    any); the upstream called directly is the last side.
    """

    def sides(model: str, base: str) -> dict[str, Target]:
        targets = {
            side: Target(
                f"{url}/v1/audio/speech",
                model,
                {"authorization": f"Bearer {keys[side]}"} if side in keys else {},
            )
            for side, url in routers.items()
        }
        return {**targets, "direct": Target(f"{base}/audio/speech", "tts-1", {})}

    def latency(model: str, base: str) -> str:
        f = compare(sides(model, base))
        direct = f.pop("direct")
        added = [
            f"{v['total_p50'] - direct['total_p50']:.2f} / "
            f"{v['total_p99'] - direct['total_p99']:.2f}"
            for v in f.values()
        ]
        return (
            f"| {model} | added latency p50 / p99 (ms) | {' | '.join(added)} | "
            f"{direct['total_p50']:.2f} / {direct['total_p99']:.2f} |"
        )

    def first_byte(model: str, base: str) -> str:
        f = compare(sides(model, base))
        direct = f.pop("direct")
        added = [f"{v['first_p50'] - direct['first_p50']:.2f}" for v in f.values()]
        return (
            f"| {model} | added time to first byte p50 (ms) | {' | '.join(added)} | "
            f"{direct['first_p50']:.2f} (whole stream {direct['total_p50']:.1f}) |"
        )

    def rate(model: str, base: str) -> str:
        rates = throughput(sides(model, base), scratch)
        direct = rates.pop("direct")
        routed = [f"{value:.0f}" for value in rates.values()]
        return (
            f"| {model} | requests/s at {CONNECTIONS} connections | {' | '.join(routed)} | "
            f"{direct:.0f} |"
        )

    return [
        ("instant latency", lambda: latency("instant", instant)),
        ("instant rate", lambda: rate("instant", instant)),
        ("streamed first byte", lambda: first_byte("streamed", streamed)),
        ("dead-first latency", lambda: latency("dead-first", instant)),
        ("dead-first rate", lambda: rate("dead-first", instant)),
    ]


GATEWAY_OFF = "\n[gateway]\nauth = false\nlimits = false\nusage = false\n"
REDIS_URL = "redis://127.0.0.1:6379/0"


def main() -> None:
    """Measure the router, gateway on and off, and the bare relay against the upstream."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (e.g. a `git worktree` of an earlier commit) measured beside this",
    )
    checkouts = {"": REPO_ROOT}
    against = parser.parse_args().against
    if against is not None:
        checkouts[" (against)"] = against.resolve()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        instant = stack.enter_context(upstream(chunks=1, gap_ms=0))
        streamed = stack.enter_context(upstream(chunks=4, gap_ms=25))
        routes = config(instant, streamed, dead)
        routers: dict[str, str] = {}
        keys: dict[str, str] = {}
        sides = [
            (f"{gateway}{suffix}", text, code)
            for gateway, text in (("gateway on", routes), ("gateway off", routes + GATEWAY_OFF))
            for suffix, code in checkouts.items()
        ]
        for side, text, code in sides:
            directory = Path(tmp) / re.sub(r"\W+", "-", side)
            directory.mkdir()
            setup = set_up(directory, text)
            keys[side] = setup.key
            router = stack.enter_context(
                run_router(
                    setup.data,
                    config=setup.config,
                    python_path=setup.plugins,
                    env={"TTS_ROUTER_REDIS_URL": REDIS_URL},
                    code=code,
                )
            )
            routers[side] = router.base_url
            # The first requests to `dead-first` open the dead provider's breaker.
            for _ in range(3):
                body = {**BODY, "model": "dead-first"}
                auth = {"authorization": f"Bearer {setup.key}"}
                httpx.post(f"{router.base_url}/v1/audio/speech", json=body, headers=auth)
        speech = dict.fromkeys(("instant", "dead-first"), f"{instant}/audio/speech")
        speech["streamed"] = f"{streamed}/audio/speech"
        routers["bare relay"] = stack.enter_context(bare_relay(speech)).removesuffix("/v1")
        print(f"| model | measure | {' | '.join(routers)} | upstream direct |")
        print(f"|---|---|{'---|' * len(routers)}---|")
        for _, measure in run(routers, keys, instant, streamed, Path(tmp)):
            print(measure(), flush=True)


if __name__ == "__main__":
    main()
