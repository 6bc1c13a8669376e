"""Chatterbox throughput and time to first audio at 1, 4 and 16 concurrent requests, on one GPU.

Run by hand on a GPU host: `.venv/bin/python -m benchmarks.chatterbox_gpu --checkpoint-dir DIR`.
Without `--checkpoint-dir` it writes random weights of the full architecture first (about 2 GB,
a minute or two of CPU). Random weights rarely say stop, so each piece then runs to
`--max-new-tokens` speech tokens (25 per second of audio): a fixed workload, not a real one.
`--tiny` runs the same on the CPU with a two-layer T3 and a few tokens per piece, in about a
minute, to check the script itself. Prints a Markdown table for BENCHMARKS.md, or JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from providers.api import BuiltinVoice, ProviderContext, SpeechRequest
from providers.chatterbox import ChatterboxProvider
from tests.support.chatterbox_weights import (
    shrink_backbones,
    write_checkpoint,
    write_turbo_checkpoint,
)

LEVELS = (1, 4, 16)
TEXT = (
    "The old lighthouse stood at the edge of the cliff, its lamp dark for many years. "
    "Every evening the fishermen still looked up at it, out of habit, before turning for home."
)
TINY_TEXT = "The old lighthouse stood at the edge of the cliff."
# Random weights: 10 s of audio per piece; a real checkpoint stops by itself, within 40 s.
RANDOM_MAX_NEW_TOKENS = 250
TINY_MAX_NEW_TOKENS = 8


@dataclass(frozen=True)
class Level:
    """What one concurrency level measured."""

    concurrency: int
    requests: int
    audio_seconds: float
    wall_seconds: float
    audio_per_second: float
    first_audio_p50: float
    first_audio_p95: float


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def one_request(provider: ChatterboxProvider, model: str, text: str) -> tuple[float, float]:
    """Seconds to the first audio, and seconds of audio, of one request."""
    request = SpeechRequest(model=model, input=text, voice=BuiltinVoice(name="default"))
    started = time.perf_counter()
    first: float | None = None
    audio = 0.0
    async for chunk in provider.synthesize(request):
        if first is None:
            first = time.perf_counter() - started
        audio += chunk.seconds
    assert first is not None
    return first, audio


async def measure(
    provider: ChatterboxProvider, model: str, text: str, concurrency: int, requests: int
) -> Level:
    """Run `requests` requests, `concurrency` at a time."""
    pending = iter(range(requests))
    results: list[tuple[float, float]] = []

    async def client() -> None:
        for _ in pending:
            results.append(await one_request(provider, model, text))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    firsts = [first for first, _ in results]
    audio = sum(seconds for _, seconds in results)
    return Level(
        concurrency=concurrency,
        requests=requests,
        audio_seconds=audio,
        wall_seconds=wall,
        audio_per_second=audio / wall,
        first_audio_p50=statistics.median(firsts),
        first_audio_p95=percentile(firsts, 0.95),
    )


def provider_options(args: argparse.Namespace, checkpoint: Path) -> dict[str, Any]:
    """The provider's options for this run."""
    directory_option = (
        "turbo_checkpoint_dir" if args.model == "chatterbox-turbo" else "checkpoint_dir"
    )
    options: dict[str, Any] = {
        "models": [args.model],
        directory_option: str(checkpoint),
        "device": "cpu" if args.tiny else args.device,
        "max_queue": max(args.concurrency),
    }
    if args.max_new_tokens is not None:
        options["max_new_tokens"] = args.max_new_tokens
    elif args.tiny:
        options["max_new_tokens"] = TINY_MAX_NEW_TOKENS
    elif args.checkpoint_dir is None:
        options["max_new_tokens"] = RANDOM_MAX_NEW_TOKENS
    if args.tiny:
        options["flow_steps"] = 2
    return options


def random_checkpoint(args: argparse.Namespace, directory: Path) -> Path:
    """Random weights for `args.model` under `directory`; a two-layer T3 with `--tiny`."""
    if args.tiny:
        shrink_backbones()
    write = write_turbo_checkpoint if args.model == "chatterbox-turbo" else write_checkpoint
    print(f"writing random {'tiny ' if args.tiny else ''}{args.model} weights to {directory}")
    return write(directory / "weights")


async def run(args: argparse.Namespace, checkpoint: Path) -> list[Level]:
    """Load the model, warm it up and measure each level."""
    options = provider_options(args, checkpoint)
    provider = ChatterboxProvider(ProviderContext("bench", Path("."), options))
    await provider.start()
    text = TINY_TEXT if args.tiny else args.text
    try:
        await one_request(provider, args.model, text)
        levels = []
        for concurrency in args.concurrency:
            requests = args.requests or (concurrency if args.tiny else 2 * concurrency)
            levels.append(await measure(provider, args.model, text, concurrency, requests))
        return levels
    finally:
        await provider.close()


def environment(args: argparse.Namespace) -> dict[str, Any]:
    """Where and what was measured."""
    facts: dict[str, Any] = {
        "model": args.model,
        "weights": str(args.checkpoint_dir) if args.checkpoint_dir else "random",
        "tiny": args.tiny,
        "device": platform.processor() or "cpu",
        "torch": torch.__version__,
    }
    if torch.cuda.is_available() and not args.tiny:
        facts["device"] = torch.cuda.get_device_name()
        facts["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return facts


def report(args: argparse.Namespace, levels: list[Level]) -> None:
    """A Markdown table, or JSON with `--json`."""
    if args.json:
        print(json.dumps({**environment(args), "levels": [asdict(level) for level in levels]}))
        return
    print(", ".join(f"{key}: {value}" for key, value in environment(args).items()))
    print(
        "| concurrent | requests | audio s | wall s | audio s / s "
        "| first audio p50 s | first audio p95 s |"
    )
    print("|---|---|---|---|---|---|---|")
    for level in levels:
        print(
            f"| {level.concurrency} | {level.requests} | {level.audio_seconds:.1f} "
            f"| {level.wall_seconds:.1f} | {level.audio_per_second:.2f} "
            f"| {level.first_audio_p50:.2f} | {level.first_audio_p95:.2f} |"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checkpoint-dir", type=Path, help="real weights (default: random ones)")
    parser.add_argument("--model", choices=("chatterbox", "chatterbox-turbo"), default="chatterbox")
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--requests", type=int, help="requests per level (default: 2 per client)")
    parser.add_argument("--max-new-tokens", type=int, help="speech tokens per piece at most")
    parser.add_argument("--text", default=TEXT, help="what every request says")
    parser.add_argument("--tiny", action="store_true", help="a two-layer T3 on the CPU")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Measure and report; everything else printed, chatterbox's own output too, goes to stderr."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        checkpoint = args.checkpoint_dir or random_checkpoint(args, Path(tmp))
        levels = asyncio.run(run(args, checkpoint))
    report(args, levels)


if __name__ == "__main__":
    main()
