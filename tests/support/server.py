"""Run a real `tts-router serve` process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120.0


@dataclass(frozen=True)
class RunningRouter:
    """A started router process and how to reach it."""

    base_url: str
    data_dir: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def register_plugins(directory: Path, entry_points: Mapping[str, str]) -> Path:
    """Write a dist-info under `directory` registering `entry_points` as provider plugins."""
    dist_info = directory / "tts_router_test_plugins-0.0.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tts-router-test-plugins\nVersion: 0.0\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist_info / "entry_points.txt").write_text(f"[tts_router.providers]\n{lines}")
    return directory


@contextmanager
def run_router(
    data_dir: Path,
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    python_path: Path | None = None,
    code: Path = REPO_ROOT,
) -> Iterator[RunningRouter]:
    """Start the router in `code`'s checkout, wait until /health answers, stop it afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / f"router-{port}.log"
    command = [
        sys.executable,
        "-m",
        "router",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if config is not None:
        command += ["--config", str(config)]
    paths = [str(python_path)] if python_path else []
    child_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*paths, str(code)]),
        **(env or {}),
    }
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=child_env, cwd=code
        )
    router = RunningRouter(f"http://127.0.0.1:{port}", data_dir, log_file, process)
    try:
        _wait_until_healthy(router)
        yield router
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cli(*args: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Run `tts-router ARGS` in a child process; its stdout lines."""
    result = subprocess.run(
        [sys.executable, "-m", "router", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
    )
    return result.stdout.splitlines()


def _wait_until_healthy(router: RunningRouter) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if router.process.poll() is not None:
            raise RuntimeError(f"router exited with {router.process.returncode}:\n{router.log()}")
        try:
            if httpx.get(f"{router.base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"router did not become healthy:\n{router.log()}")


def settled_usage(database: Path, request_ids: list[str], timeout: float = 10.0) -> None:
    """Wait until the usage rows of `request_ids` exist and are no longer in progress."""
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(request_ids))
    query = f"select count(*) from usage_records where status != 0 and request_id in ({marks})"  # noqa: S608 (placeholders only)
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            if db.execute(query, request_ids).fetchone()[0] == len(request_ids):
                return
        time.sleep(0.05)
    raise TimeoutError(f"usage of {request_ids} did not settle")


def recorded_attempts(database: Path, request_id: str) -> list[tuple[str, int, str | None]]:
    """(provider, status, error code) of each provider try recorded for a settled request."""
    settled_usage(database, [request_id])
    with sqlite3.connect(database) as db:
        return db.execute(
            "select a.provider, a.status, a.error_code from provider_attempts a"
            " join usage_records u on u.id = a.usage_id where u.request_id = ?"
            " order by a.attempt",
            (request_id,),
        ).fetchall()


def wait_for_fresh_minute() -> None:
    """Start early in a minute, so that what follows falls in one per-minute rate window."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
