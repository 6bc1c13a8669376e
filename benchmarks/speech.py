"""Speech benchmarks on this machine: router overhead, time to first byte, RTF, /health latency.

Run by hand: `.venv/bin/python -m benchmarks.speech`. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from providers.kokoro.g2p import EnglishG2P
from providers.kokoro.onnx_engine import SAMPLE_RATE, OnnxEngine
from providers.kokoro.voices import load_styles
from providers.text import split_text
from tests.support.server import RunningRouter, cli, run_router

PARAGRAPH = (
    "The old lighthouse stood at the edge of the cliff, its lamp dark for many years. "
    "Every evening the fishermen still looked up at it, out of habit, before turning for home. "
    "Nobody in the village remembered who had kept it last, or why the light had gone out. "
    "Children told stories about a keeper who walked the gallery on stormy nights."
)
LONG_TEXT = " ".join([PARAGRAPH] * 12)[:4000]
ROUNDS = 8
PIECE_CHARS = 300
VOICE = "af_heart"


class BareModel:
    """The model with no router around it: G2P and ONNX inference, piece by piece."""

    def __init__(self) -> None:
        self.g2p = EnglishG2P()
        self.engine = OnnxEngine()
        self.style = load_styles()[VOICE]

    def speak(self, text: str) -> float:
        """Synthesize `text`; returns the seconds of audio made."""
        samples = 0
        for piece in split_text(text, PIECE_CHARS):
            samples += len(self.engine.synthesize(self.g2p.phonemize(piece), self.style, 1.0))
        return samples / SAMPLE_RATE


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds `action` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paired(first: Callable[[], object], second: Callable[[], object]) -> tuple[float, float]:
    """Time both, in alternating order across rounds (ABBA), so drift hits both alike."""
    firsts, seconds = [], []
    for round_number in range(ROUNDS):
        if round_number % 2:
            seconds.append(timed(second))
            firsts.append(timed(first))
        else:
            firsts.append(timed(first))
            seconds.append(timed(second))
    ratios = [a / b for a, b in zip(firsts, seconds, strict=True)]
    return statistics.median(ratios), statistics.median(seconds)


def http_speech(client: httpx.Client, text: str) -> bytes:
    """One complete speech request over HTTP."""
    body = {"model": "tts-1", "voice": VOICE, "input": text}
    response = client.post("/v1/audio/speech", json=body)
    response.raise_for_status()
    return response.content


def first_byte_seconds(client: httpx.Client, text: str) -> float:
    """Seconds from sending the request to the first audio byte."""
    body = {"model": "tts-1", "voice": VOICE, "input": text, "response_format": "pcm"}
    start = time.perf_counter()
    with client.stream("POST", "/v1/audio/speech", json=body) as response:
        next(response.iter_raw())
        return time.perf_counter() - start


async def health_under_load(
    router: RunningRouter, key: str, syntheses: int, text: str
) -> list[float]:
    """/health latencies in ms, polled while `syntheses` requests for `text` run."""
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=router.base_url, headers=headers, timeout=600) as client:
        body = {"model": "tts-1", "voice": VOICE, "input": text, "response_format": "pcm"}
        load = [
            asyncio.create_task(client.post("/v1/audio/speech", json=body))
            for _ in range(syntheses)
        ]
        await asyncio.sleep(1.0)
        latencies: list[float] = []
        while not all(task.done() for task in load):
            start = time.perf_counter()
            (await client.get("/health")).raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.02)
        await asyncio.gather(*load)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    """Run every benchmark and print a Markdown table."""
    bare = BareModel()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        cli("tenants", "create", "bench", "--data-dir", str(data))
        key = cli("keys", "create", "--tenant", "bench", "--data-dir", str(data))[-1]
        _report(_measure(bare, data, key))


@dataclass(frozen=True)
class Results:
    """Everything one run measured."""

    overhead: float
    bare_seconds: float
    audio_seconds: float
    ttfb_ratio: float
    first_piece_seconds: float
    latencies: list[float]


def _measure(bare: BareModel, data: Path, key: str) -> Results:
    with run_router(data) as router:
        headers = {"authorization": f"Bearer {key}"}
        client = httpx.Client(base_url=router.base_url, headers=headers, timeout=600)
        http_speech(client, "Warm up.")
        bare.speak("Warm up.")

        overhead, bare_seconds = paired(
            lambda: http_speech(client, PARAGRAPH), lambda: bare.speak(PARAGRAPH)
        )
        audio_seconds = bare.speak(PARAGRAPH)
        first_piece = split_text(LONG_TEXT, PIECE_CHARS)[0]
        ttfb_ratio, first_piece_seconds = paired(
            lambda: first_byte_seconds(client, LONG_TEXT), lambda: bare.speak(first_piece)
        )
        latencies = asyncio.run(health_under_load(router, key, 4, PARAGRAPH * 3))
        client.close()
    return Results(
        overhead, bare_seconds, audio_seconds, ttfb_ratio, first_piece_seconds, latencies
    )


def _report(results: Results) -> None:
    overhead, bare_seconds = results.overhead, results.bare_seconds
    audio_seconds, ttfb_ratio = results.audio_seconds, results.ttfb_ratio
    first_piece_seconds, latencies = results.first_piece_seconds, results.latencies
    rtf = bare_seconds / audio_seconds
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    rows = [
        (
            "(a) HTTP request / bare model, same text",
            f"{overhead:.3f}",
            f"target ≤ 1.10; bare model {bare_seconds:.2f} s",
        ),
        (
            "(b) first byte of 4000 chars / first sentence alone",
            f"{ttfb_ratio:.3f}",
            f"target ≤ 1.5; first sentence alone {first_piece_seconds:.2f} s",
        ),
        (
            "(c) real-time factor (compute s / audio s)",
            f"{rtf:.3f}",
            f"{audio_seconds:.1f} s audio",
        ),
        (
            "(d) /health p50 / p99 under 4 syntheses (ms)",
            f"{p50:.1f} / {p99:.1f}",
            f"n={len(latencies)}",
        ),
    ]
    print("| measure | value | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
