"""Hot-path cost of auth, limits and usage: requests/s with them on against off, in one run.

Run by hand: `.venv/bin/python -m benchmarks.gateway` (needs `wrk`: `apt-get install wrk`).
A tiny request goes to the `instant` model of the scripted test plugin; both routers run at
once and are measured in alternating rounds, on SQLite and on PostgreSQL, with Redis counters.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.conftest import TEST_CONFIG
from tests.support.databases import postgres_database
from tests.support.server import RunningRouter, cli, register_plugins, run_router
from tests.support.setups import SCRIPTED_PLUGIN

ROUNDS = 3
SECONDS = 8
CONNECTIONS = (32, 96)
REDIS_URL = "redis://127.0.0.1:6379/0"
BODY = {"model": "instant", "input": "Hi.", "voice": "alloy", "response_format": "pcm"}
OFF = "\n[gateway]\nauth = false\nlimits = false\nusage = false\n"
LIMITS = ["--rpm", "1000000000", "--monthly-chars", "1000000000000"]
TENANT_LIMITS = [*LIMITS, "--concurrency", "10000"]


def wrk(router: RunningRouter, key: str | None, script_dir: Path, connections: int) -> float:
    """Requests per second that wrk gets from the router; fails on any non-2xx answer."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    script = script_dir / "post.lua"
    lines = ["wrk.method = 'POST'", f"wrk.body = {json.dumps(json.dumps(BODY))}"]
    lines += [
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()
    ]
    script.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{SECONDS}s",
            "-s",
            str(script),
            f"{router.base_url}/v1/audio/speech",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in result.stdout:
        raise RuntimeError(result.stdout)
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if match is None:
        raise RuntimeError(result.stdout)
    return float(match.group(1))


@contextmanager
def routers(backend: str, root: Path) -> Iterator[tuple[RunningRouter, RunningRouter, str]]:
    """The same router twice, gateway off and on, on one database; and a key for the second."""
    plugins = register_plugins(root / "plugins", SCRIPTED_PLUGIN)
    (root / "off.toml").write_text(TEST_CONFIG + OFF)
    (root / "on.toml").write_text(TEST_CONFIG)
    with ExitStack() as stack:
        env = {"TTS_ROUTER_REDIS_URL": REDIS_URL}
        if backend == "postgresql":
            env["TTS_ROUTER_DATABASE_URL"] = stack.enter_context(postgres_database())
            cli("db", "upgrade", env=env)
        data = ["--data-dir", str(root / "data")]
        cli("tenants", "create", "bench", *TENANT_LIMITS, *data, env=env)
        key = cli("keys", "create", "--tenant", "bench", *LIMITS, *data, env=env)[-1]
        off, on = (
            stack.enter_context(
                run_router(
                    root / "data", config=root / f"{name}.toml", python_path=plugins, env=env
                )
            )
            for name in ("off", "on")
        )
        yield off, on, key


def measure(backend: str, connections: int) -> tuple[float, float]:
    """Median requests/s with the gateway off and on, at `connections` concurrent requests."""
    with tempfile.TemporaryDirectory() as tmp, routers(backend, Path(tmp)) as (off, on, key):
        wrk(off, None, Path(tmp), connections)
        wrk(on, key, Path(tmp), connections)
        offs, ons = [], []
        for _ in range(ROUNDS):
            offs.append(wrk(off, None, Path(tmp), connections))
            ons.append(wrk(on, key, Path(tmp), connections))
    return statistics.median(offs), statistics.median(ons)


def main() -> None:
    """Measure both backends and print a Markdown table."""
    print("| database | connections | off (req/s) | on (req/s) | on / off |")
    print("|---|---|---|---|---|")
    for backend in ("sqlite", "postgresql"):
        for connections in CONNECTIONS:
            off, on = measure(backend, connections)
            print(
                f"| {backend} | {connections} | {off:.0f} | {on:.0f} | {on / off:.3f} |", flush=True
            )


if __name__ == "__main__":
    main()
