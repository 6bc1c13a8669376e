"""Soak: 200 concurrent streaming requests held for 10 minutes; the router's memory and errors.

Run by hand: `.venv/bin/python -m benchmarks.soak [--minutes 10] [--clients 200]`. Each client
streams the `tone` model of the scripted test plugin (2 s of audio in four chunks, as fast as it
is read) again and again, through auth, limits and usage metering on SQLite. The router's RSS is
read at the start (after a warm-up), the middle and the end. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.server import RunningRouter, cli, run_router
from tests.support.setups import write_config

CONFIG = """
[providers.scripted]
plugin = "scripted"

[[routes]]
model = "tone"
chain = [{ provider = "scripted", model = "tone" }]
"""
BODY = {"model": "tone", "input": "Soak.", "voice": "alloy", "response_format": "mp3"}
WARM_UP_SECONDS = 60.0
SAMPLE_SECONDS = 60.0


@dataclass
class Tally:
    """What the clients saw."""

    completed: int = 0
    errors: list[str] = field(default_factory=list)


def rss_mib(router: RunningRouter) -> float:
    """The router process's resident memory, in MiB."""
    for line in Path(f"/proc/{router.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def client(http: httpx.AsyncClient, url: str, until: float, tally: Tally) -> None:
    """Stream requests one after another until `until`."""
    while time.monotonic() < until:
        try:
            async with http.stream("POST", url, json=BODY) as response:
                async for _ in response.aiter_bytes():
                    pass
            if response.status_code == 200:
                tally.completed += 1
            else:
                tally.errors.append(f"HTTP {response.status_code}")
        except httpx.HTTPError as exc:
            tally.errors.append(type(exc).__name__)


async def soak(router: RunningRouter, key: str, clients: int, seconds: float) -> list[str]:
    """Hold `clients` streams for `seconds`; the table rows."""
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as http:
        start = time.monotonic()
        until = start + WARM_UP_SECONDS + seconds
        url = f"{router.base_url}/v1/audio/speech"
        tasks = [asyncio.ensure_future(client(http, url, until, tally)) for _ in range(clients)]
        await asyncio.sleep(WARM_UP_SECONDS)
        done_at_start = tally.completed
        series = [rss_mib(router)]
        while (left := until - time.monotonic()) > 0:
            await asyncio.sleep(min(SAMPLE_SECONDS, left))
            series.append(rss_mib(router))
        await asyncio.gather(*tasks)
    served = tally.completed - done_at_start
    first, middle, last = series[0], series[len(series) // 2], series[-1]
    return [
        f"| concurrent streaming clients | {clients} |",
        f"| duration (after a {WARM_UP_SECONDS:.0f} s warm-up) | {seconds / 60:.1f} min |",
        f"| requests completed | {served:,} ({served / seconds:.0f}/s) |",
        f"| errors | {len(tally.errors)} {sorted(set(tally.errors))} |",
        f"| router RSS start / middle / end | {first:.0f} / {middle:.0f} / {last:.0f} MiB |",
        f"| RSS change start → end, middle → end | {(last - first) / first:+.1%}, "
        f"{(last - middle) / middle:+.1%} |",
        f"| RSS each minute | {' '.join(f'{mib:.0f}' for mib in series)} MiB |",
    ]


def main() -> None:
    """Run the soak and print its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--arenas", type=int, default=2)
    args = parser.parse_args()
    env = {"MALLOC_ARENA_MAX": str(args.arenas)} if args.arenas else {}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        config, plugins = write_config(root, CONFIG)
        data = root / "data"
        cli("tenants", "create", "soak", "--data-dir", str(data))
        key = cli("keys", "create", "--tenant", "soak", "--data-dir", str(data))[-1]
        with run_router(data, config=config, python_path=plugins, env=env) as router:
            rows = asyncio.run(soak(router, key, args.clients, args.minutes * 60))
            log = router.log()
    problems = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
    rows.append(f"| error lines in the router's log | {len(problems)} |")
    print("| measure | value |\n|---|---|")
    print("\n".join(rows))
    for line in problems[:20]:
        print(line)


if __name__ == "__main__":
    main()
