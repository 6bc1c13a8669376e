"""The embedded defaults on a CPU-only host, with and without Chatterbox's extra: Kokoro serves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.audio import decode
from tests.support.server import REPO_ROOT, RunningRouter, cli, run_router

# What `pip install ".[kokoro]"` leaves out that the Chatterbox plugin imports first.
MISSING_MODULE = "soundfile"


@pytest.fixture(scope="module")
def without_extra(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A path entry that hides Chatterbox's `soundfile`, as an install without the extra does."""
    shadow = tmp_path_factory.mktemp("without-chatterbox-extra")
    (shadow / f"{MISSING_MODULE}.py").write_text(
        f"raise ModuleNotFoundError({f'No module named {MISSING_MODULE!r}'!r})\n"
    )
    return shadow


@dataclass(frozen=True)
class Served:
    """A router serving the embedded defaults, a key, and whether Chatterbox's extra is in."""

    router: RunningRouter
    key: str
    extra_installed: bool


@pytest.fixture(scope="module", params=[False, True], ids=["without-extra", "cpu-only"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, without_extra: Path
) -> Iterator[Served]:
    """The embedded defaults served without Chatterbox's extra, or with it and no GPU."""
    data = tmp_path_factory.mktemp("defaults") / "data"
    shadow = None if request.param else without_extra
    env = {"PYTHONPATH": os.pathsep.join(str(path) for path in (shadow, REPO_ROOT) if path)}
    cli("tenants", "create", "acme", "--data-dir", str(data), env=env)
    key = cli("keys", "create", "--tenant", "acme", "--data-dir", str(data), env=env)[-1]
    with run_router(data, python_path=shadow) as running:
        yield Served(running, key, extra_installed=request.param)


def test_the_service_starts_and_says_what_to_install(served: Served) -> None:
    health = httpx.get(f"{served.router.base_url}/health").json()
    assert health["providers"]["chatterbox"]["ready"] is False
    assert health["providers"]["kokoro"]["ready"] is True
    log = served.router.log().splitlines()
    hints = [line for line in log if "tts-router[chatterbox]" in line]
    if served.extra_installed:
        assert hints == []
    else:
        assert len(hints) == 1
        assert f"No module named '{MISSING_MODULE}'" in hints[0]


def test_chatterbox_requests_fall_back_to_kokoro_without_trying_it(served: Served) -> None:
    headers = {"authorization": f"Bearer {served.key}"}
    body = {
        "model": "Chatterbox",
        "input": "Served anyway.",
        "voice": "leo",
        "response_format": "wav",
    }
    with httpx.Client(base_url=served.router.base_url, headers=headers, timeout=120) as http:
        for _ in range(3):
            answer = http.post("/v1/audio/speech", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-tts-router-provider"] == "kokoro"
            assert answer.headers["x-tts-router-attempts"] == "1"
        samples, rate, _ = decode(answer.content, "wav")
        assert len(samples) > rate // 2
        voices = http.get("/v1/audio/voices", params={"model": "Chatterbox"}).json()
        assert "af_heart" in {voice["id"] for voice in voices["data"][0]["voices"]}
        breaker = http.get("/health").json()["providers"]["chatterbox"]["breaker"]
        assert breaker == "closed"


def test_config_check_warns_and_passes(without_extra: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "router", "config", "check"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": f"{without_extra}{os.pathsep}{REPO_ROOT}"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "providers.chatterbox.plugin: warning:" in result.stdout
    assert "tts-router[chatterbox]" in result.stdout
    assert "ok (1 warning(s))" in result.stdout
