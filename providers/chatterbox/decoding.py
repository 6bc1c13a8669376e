"""T3's autoregressive decoding of speech tokens, with a per-request generator and a step cap."""

# These follow `T3.inference` and `T3.inference_turbo` of chatterbox-tts 0.1.7 step for step,
# except that sampling draws from the `generator` passed in, decoding stops after
# `max_new_tokens`, and a `cfg_weight` of 0 runs one sequence instead of the guidance pair.
# `ChatterboxTTS.generate` passes one text row when `cfg_weight` is 0, but `T3.inference`
# always appends two BOS rows, so joining them fails on mismatched batch sizes. Two identical
# rows would work, as the unconditional one then has no weight, but do the work twice.

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.cond_enc import T3Cond
from transformers.generation.logits_process import (
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

__all__ = ["Sampling", "TokenPicker", "decode", "decode_turbo", "prompt_embeds", "speech_embeds"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """How to draw speech tokens; the defaults are those of `ChatterboxTTS.generate`."""

    temperature: float = 0.8
    cfg_weight: float = 0.5
    max_new_tokens: int = 1000
    repetition_penalty: float = 1.2
    min_p: float = 0.05
    top_p: float = 1.0
    top_k: int = 1000


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token id per row of `logits`, shape (B, 1), drawn from their softmax."""
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


class TokenPicker:
    """Draws one request's speech tokens from T3's logits, step by step, as `T3.inference` does."""

    def __init__(self, t3: T3, sampling: Sampling, generator: torch.Generator) -> None:
        self.sampling = sampling
        self.generator = generator
        self.stop_token = t3.hp.stop_speech_token
        self.penalty = RepetitionPenaltyLogitsProcessor(penalty=float(sampling.repetition_penalty))
        self.min_p = MinPLogitsWarper(min_p=sampling.min_p)
        self.top_p = TopPLogitsWarper(top_p=sampling.top_p)
        start = t3.hp.start_speech_token
        self.generated = cast(
            torch.LongTensor, torch.tensor([[start]], dtype=torch.long, device=t3.device)
        )
        self.predicted: list[torch.Tensor] = []

    @property
    def rows(self) -> int:
        """Sequences this request decodes: the guidance pair, or one without guidance."""
        return 2 if self.sampling.cfg_weight > 0.0 else 1

    @property
    def done(self) -> bool:
        """Whether the last token was the stop token, or the step cap is reached."""
        if not self.predicted:
            return False
        stopped = bool(self.predicted[-1].item() == self.stop_token)
        return stopped or len(self.predicted) >= self.sampling.max_new_tokens

    def pick(self, logits: torch.Tensor) -> torch.Tensor:
        """The next token (1, 1), from the last position's logits of this request's rows."""
        if self.rows == 2:
            cond_logits, uncond_logits = logits[0:1], logits[1:2]
            weight = torch.as_tensor(
                self.sampling.cfg_weight, device=logits.device, dtype=logits.dtype
            )
            logits = cond_logits + weight * (cond_logits - uncond_logits)
        logits = self.penalty(self.generated, logits)
        temperature = self.sampling.temperature
        if temperature == 0.0:
            token = logits.argmax(dim=-1, keepdim=True)
        else:
            if temperature != 1.0:
                logits = logits / temperature
            scores = cast(torch.FloatTensor, logits)
            warped = self.top_p(self.generated, self.min_p(self.generated, scores))
            token = _draw(warped, self.generator)
        self.predicted.append(token)
        self.generated = cast(torch.LongTensor, torch.cat([self.generated, token], dim=1))
        return token

    def tokens(self) -> torch.Tensor:
        """The tokens drawn so far, (1, N)."""
        return torch.cat(self.predicted, dim=1)


def prompt_embeds(
    t3: T3, cond: T3Cond, text_tokens: torch.Tensor, picker: TokenPicker
) -> torch.Tensor:
    """The embeddings decoding starts from, (rows, L, D): conditioning, text, start of speech."""
    rows = picker.rows
    text_tokens = text_tokens.to(dtype=torch.long, device=t3.device).expand(rows, -1)
    embeds, _ = t3.prepare_input_embeds(
        t3_cond=cond,
        # prepare_input_embeds blanks the text of row 1 in place for guidance, so not a view.
        text_tokens=text_tokens.clone(),
        speech_tokens=picker.generated.expand(rows, -1),
        cfg_weight=picker.sampling.cfg_weight,
    )
    return torch.cat([embeds, speech_embeds(t3, picker.generated, 0).expand(rows, -1, -1)], dim=1)


def speech_embeds(t3: T3, token: torch.Tensor, position: int) -> torch.Tensor:
    """The embedding (1, 1, D) of speech token `token` at speech position `position`."""
    speech: torch.Tensor = t3.speech_emb(token) + t3.speech_pos_emb.get_fixed_embedding(position)
    return speech


@torch.inference_mode()
def decode(
    t3: T3,
    cond: T3Cond,
    text_tokens: torch.Tensor,
    sampling: Sampling,
    generator: torch.Generator,
) -> torch.Tensor:
    """Speech tokens (1, N) for `text_tokens` (1, L, framed by the start and stop text tokens)."""
    picker = TokenPicker(t3, sampling, generator)
    inputs = prompt_embeds(t3, cond, text_tokens, picker)
    past = None
    for step in range(sampling.max_new_tokens):
        output = t3.tfmr(inputs_embeds=inputs, past_key_values=past, use_cache=True)
        past = output.past_key_values
        token = picker.pick(t3.speech_head(output.last_hidden_state)[:, -1, :])
        if picker.done:
            break
        inputs = speech_embeds(t3, token, step + 1).expand(picker.rows, -1, -1)
    return picker.tokens()


def _turbo_processors(sampling: Sampling) -> LogitsProcessorList:
    processors = LogitsProcessorList()
    if sampling.temperature > 0 and sampling.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(sampling.temperature))
    if sampling.top_k > 0:
        processors.append(TopKLogitsWarper(sampling.top_k))
    if sampling.top_p < 1.0:
        processors.append(TopPLogitsWarper(sampling.top_p))
    if sampling.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty))
    return processors


@torch.inference_mode()
def decode_turbo(
    t3: T3,
    cond: T3Cond,
    text_tokens: torch.Tensor,
    sampling: Sampling,
    generator: torch.Generator,
) -> torch.Tensor:
    """Turbo's speech tokens (1, N) for `text_tokens` (1, L), without the stop token."""
    processors = _turbo_processors(sampling)
    text_tokens = text_tokens.to(dtype=torch.long, device=t3.device)
    start = cast(
        torch.LongTensor,
        torch.full((1, 1), t3.hp.start_speech_token, dtype=torch.long, device=t3.device),
    )
    inputs, _ = t3.prepare_input_embeds(
        t3_cond=cond, text_tokens=text_tokens, speech_tokens=start, cfg_weight=0.0
    )
    history = start
    predicted: list[torch.Tensor] = []
    past = None
    while len(predicted) < sampling.max_new_tokens:
        output = t3.tfmr(inputs_embeds=inputs, past_key_values=past, use_cache=True)
        past = output.past_key_values
        logits = processors(history, t3.speech_head(output[0][:, -1:])[:, -1, :])
        if predicted and torch.all(logits == -float("inf")):
            break
        if sampling.temperature == 0.0:
            token = logits.argmax(dim=-1, keepdim=True)
        else:
            token = _draw(logits, generator)
        predicted.append(token)
        history = cast(torch.LongTensor, torch.cat(predicted, dim=1))
        if len(predicted) > 1 and token.item() == t3.hp.stop_speech_token:
            break
        inputs = t3.speech_emb(token)
    tokens = torch.cat(predicted, dim=1)
    if tokens[0, -1].item() == t3.hp.stop_speech_token:
        tokens = tokens[:, :-1]
    return tokens
