"""T3 decoding in batches: each request draws the same tokens as it would alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

from providers.chatterbox.batching import BatchDecoder, Decoding, decode_batch
from providers.chatterbox.decoding import Sampling, TokenPicker, decode
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


Picks = dict[int, list[torch.Tensor]]


@pytest.fixture
def picks(monkeypatch: pytest.MonkeyPatch) -> Picks:
    """The logits each request's tokens were drawn from, by the seed of its generator."""
    seen: Picks = {}
    pick = TokenPicker.pick

    def noted(picker: TokenPicker, logits: torch.Tensor) -> torch.Tensor:
        seen.setdefault(picker.generator.initial_seed(), []).append(logits.clone())
        return pick(picker, logits)

    monkeypatch.setattr(TokenPicker, "pick", noted)
    return seen


def _same_draws(batched: Picks, alone: Picks) -> None:
    assert batched.keys() == alone.keys()
    for seed, steps in alone.items():
        assert len(batched[seed]) == len(steps), seed
        for step, (ours, theirs) in enumerate(zip(batched[seed], steps, strict=True)):
            assert torch.allclose(ours, theirs, atol=1e-4), (seed, step)


def _decoded_alone(t3: T3, seeds: list[int], picks: Picks) -> tuple[list[torch.Tensor], Picks]:
    tokens = [_alone(t3, decoding) for decoding in _decodings(t3, seeds)]
    alone = dict(picks)
    picks.clear()
    return tokens, alone


def test_a_batch_draws_what_each_request_draws_alone(t3: T3, picks: Picks) -> None:
    seeds = [11, 12, 13]
    alone, alone_picks = _decoded_alone(t3, seeds, picks)
    batched = decode_batch(t3, _decodings(t3, seeds))
    assert [tokens.tolist() for tokens in batched] == [tokens.tolist() for tokens in alone]
    assert [tokens.size(1) for tokens in batched] == [12, 6, 9]  # random weights rarely stop
    _same_draws(picks, alone_picks)


def test_requests_that_join_a_running_batch_draw_what_they_draw_alone(t3: T3, picks: Picks) -> None:
    seeds = [31, 32, 33]
    alone, alone_picks = _decoded_alone(t3, seeds, picks)
    first, second, third = _decodings(t3, seeds)  # prompts of 41, 39 and 44 positions
    decoder = BatchDecoder(t3)
    decoder.admit("second", second)
    ended = decoder.step() + decoder.step()
    decoder.admit("third", third)  # longer than the batch so far: the running rows are padded
    ended += decoder.step()
    decoder.admit("first", first)  # shorter than the batch: its own rows are padded
    assert decoder.rows == 5
    while decoder.running:
        ended += decoder.step()
    tokens = dict(ended)
    assert [tokens[name].tolist() for name in ["first", "second", "third"]] == [
        each.tolist() for each in alone
    ]
    _same_draws(picks, alone_picks)


def test_a_request_that_ends_at_once_leaves_the_others_undisturbed(t3: T3, picks: Picks) -> None:
    seeds = [41, 42, 43]
    _, alone_picks = _decoded_alone(t3, seeds, picks)
    at_once = dataclasses.replace(_decodings(t3, [44])[0], sampling=Sampling(max_new_tokens=1))
    decoder = BatchDecoder(t3)
    first, second, third = _decodings(t3, seeds)
    decoder.admit(0, first)
    decoder.admit(1, at_once)
    decoder.admit(2, second)
    ended = decoder.step()
    assert [key for key, _ in ended] == [1]
    decoder.admit(3, third)
    while decoder.running:
        ended += decoder.step()
    assert len(ended) == 4
    assert {key for key, _ in ended} == {0, 1, 2, 3}
    del picks[44]
    _same_draws(picks, alone_picks)
