"""T3 decoding in batches: each request draws the same tokens as it would alone."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

from providers.chatterbox.batching import Decoding, decode_batch
from providers.chatterbox.decoding import Sampling, decode
from tests.support.chatterbox_weights import mixing, random_cond, shallow_backbones

# Texts of different lengths, framed by the start (255) and stop (0) text tokens.
TEXTS = [[255, 7, 8, 9, 0], [255, 12, 0], [255, 3, 4, 5, 6, 7, 8, 0]]
SAMPLINGS = [
    Sampling(temperature=0.8, cfg_weight=0.5, max_new_tokens=12),
    Sampling(temperature=0.0, cfg_weight=0.0, max_new_tokens=6),
    Sampling(temperature=1.2, cfg_weight=0.9, max_new_tokens=9),
]


@pytest.fixture(scope="module")
def t3() -> Iterator[T3]:
    """A two-layer T3 of random weights whose backbone mixes its inputs."""
    with pytest.MonkeyPatch.context() as patch:
        for name, config in shallow_backbones().items():
            patch.setitem(LLAMA_CONFIGS, name, config)
        torch.manual_seed(3)
        yield mixing(T3().eval())


def _decodings(t3: T3, seeds: list[int]) -> list[Decoding]:
    cond = random_cond(t3.hp.speech_cond_prompt_len)
    return [
        Decoding(
            cond=dataclasses.replace(cond, emotion_adv=torch.full((1, 1, 1), 0.3 + 0.2 * n)),
            text_tokens=torch.tensor([TEXTS[n]]),
            sampling=SAMPLINGS[n],
            generator=torch.Generator().manual_seed(seed),
        )
        for n, seed in enumerate(seeds)
    ]


def _alone(t3: T3, decoding: Decoding) -> torch.Tensor:
    return decode(
        t3,
        dataclasses.replace(decoding.cond),
        decoding.text_tokens,
        decoding.sampling,
        decoding.generator,
    )


def _logits_seen(t3: T3, run: Callable[[], Any]) -> tuple[Any, list[torch.Tensor]]:
    """What `run` returns, and the last position's logits of every call of T3's speech head."""
    seen: list[torch.Tensor] = []

    def keep(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
        seen.append((output[:, -1] if output.dim() == 3 else output).clone())

    handle = t3.speech_head.register_forward_hook(keep)
    try:
        return run(), seen
    finally:
        handle.remove()


def test_a_batch_draws_what_each_request_draws_alone(t3: T3) -> None:
    seeds = [11, 12, 13]
    alone = [_logits_seen(t3, functools.partial(_alone, t3, d)) for d in _decodings(t3, seeds)]
    batched, steps = _logits_seen(t3, lambda: decode_batch(t3, _decodings(t3, seeds)))
    assert [tokens.tolist() for tokens in batched] == [tokens.tolist() for tokens, _ in alone]
    lengths = [tokens.size(1) for tokens in batched]
    assert lengths == [12, 6, 9]  # random weights rarely stop
    # Each step's batch holds the rows of the requests still decoding, in order.
    rows = [2 if sampling.cfg_weight > 0 else 1 for sampling in SAMPLINGS]
    for step, logits in enumerate(steps):
        live = [n for n, length in enumerate(lengths) if length > step]
        parts = torch.split(logits, [rows[n] for n in live])
        for n, part in zip(live, parts, strict=True):
            assert torch.allclose(part, alone[n][1][step], atol=1e-4), (step, n)


def test_a_request_draws_the_same_whatever_else_is_in_the_batch(t3: T3) -> None:
    [first, *_] = _decodings(t3, [21, 22, 23])
    alone = decode_batch(t3, [first])
    together = decode_batch(t3, _decodings(t3, [21, 22, 23]))
    assert torch.equal(alone[0], together[0])
    other_seed = decode_batch(t3, _decodings(t3, [24, 22, 23]))
    assert not torch.equal(other_seed[0], together[0])
