"""T3 decoding of several requests in one running batch, each drawing what it would alone."""

# Each request contributes its rows (the guidance pair, or one row without guidance), left
# padded to a common length; the attention mask hides the padding, and T3's rotary positions
# are relative, so every row sees what it would see decoded alone. Each request samples from
# its own logits with its own generator and settings. A request joins between two steps: its
# prompt is run alone and its cache padded into the batch's. It leaves, its cache with it, as
# soon as it stops.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F  # noqa: N812 (torch's own spelling)
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.cond_enc import T3Cond
from transformers import DynamicCache

from providers.chatterbox.decoding import Sampling, TokenPicker, prompt_embeds, speech_embeds

__all__ = ["BatchDecoder", "Decoding", "decode_batch"]


@dataclass(frozen=True, slots=True)
class Decoding:
    """One request's decoding: its conditioning, text tokens (1, L), sampling and generator."""

    cond: T3Cond
    text_tokens: torch.Tensor
    sampling: Sampling
    generator: torch.Generator


@dataclass(slots=True)
class _Running:
    """A request in the batch, with the embeddings of the token it feeds back next."""

    key: object
    picker: TokenPicker
    inputs: torch.Tensor


def _pad_left(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    """`tensor` grown to `length` along `dim`, with zeros before its start."""
    missing = length - tensor.size(dim)
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def _layers(cache: DynamicCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each layer's keys and values, (rows, heads, length, head size)."""
    # Every layer of a cache that has run a forward pass holds both.
    return [
        (cast(torch.Tensor, layer.keys), cast(torch.Tensor, layer.values)) for layer in cache.layers
    ]


class BatchDecoder:
    """T3's decoding of the requests admitted so far, one step of all of them at a time."""

    def __init__(self, t3: T3) -> None:
        self.t3 = t3
        self.running: list[_Running] = []
        self._cache: DynamicCache | None = None
        self._mask = torch.zeros(0, 0, dtype=torch.long, device=t3.device)

    @property
    def rows(self) -> int:
        """Sequences in the batch: two per guided request, one per unguided one."""
        return sum(request.picker.rows for request in self.running)

    @torch.inference_mode()
    def admit(self, key: object, decoding: Decoding) -> None:
        """Run the prompt of `decoding` and add it to the batch under `key`."""
        t3 = self.t3
        picker = TokenPicker(t3, decoding.sampling, decoding.generator)
        embeds = prompt_embeds(t3, decoding.cond, decoding.text_tokens, picker)
        own = DynamicCache()
        output = t3.tfmr(inputs_embeds=embeds, past_key_values=own, use_cache=True)
        logits = t3.speech_head(output.last_hidden_state[:, -1, :])
        mask = torch.ones(picker.rows, embeds.size(1), dtype=torch.long, device=t3.device)
        self._join(own, mask)
        self.running.append(_Running(key, picker, self._fed_back(picker, logits)))

    @torch.inference_mode()
    def step(self) -> list[tuple[object, torch.Tensor]]:
        """Advance every request one token; those that ended, by key, with their tokens."""
        ended = self._retire()  # those whose first token, drawn on admission, ended them
        if self.running:
            # Each row's next position is its count of real tokens: its padding is not counted.
            positions = self._mask.sum(dim=1, keepdim=True)
            self._mask = F.pad(self._mask, (0, 1), value=1)
            output = self.t3.tfmr(
                inputs_embeds=torch.cat([request.inputs for request in self.running]),
                attention_mask=self._mask,
                position_ids=positions,
                past_key_values=self._cache,
                use_cache=True,
            )
            logits = self.t3.speech_head(output.last_hidden_state[:, -1, :])
            row = 0
            for request in self.running:
                rows = request.picker.rows
                request.inputs = self._fed_back(request.picker, logits[row : row + rows])
                row += rows
        return ended + self._retire()

    def _fed_back(self, picker: TokenPicker, logits: torch.Tensor) -> torch.Tensor:
        """Draw the next token from `logits`; the embeddings it enters the next step as."""
        token = picker.pick(logits)
        embeds = speech_embeds(self.t3, token, len(picker.predicted))
        return embeds.expand(picker.rows, -1, -1)

    def _join(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Pad the batch's cache and the newcomer's to one length and stack them."""
        if self._cache is None:
            self._cache, self._mask = cache, mask
            return
        length = max(self._mask.size(1), mask.size(1))
        joined = DynamicCache()
        for index, (ours, theirs) in enumerate(
            zip(_layers(self._cache), _layers(cache), strict=True)
        ):
            keys, values = (
                torch.cat([_pad_left(a, length, 2), _pad_left(b, length, 2)])
                for a, b in zip(ours, theirs, strict=True)
            )
            joined.update(keys, values, index)
        self._cache = joined
        self._mask = torch.cat([_pad_left(self._mask, length, 1), _pad_left(mask, length, 1)])

    def _retire(self) -> list[tuple[object, torch.Tensor]]:
        """Take the requests that ended out of the batch, with their rows of the cache."""
        ended = [request for request in self.running if request.picker.done]
        if not ended:
            return []
        kept_rows: list[int] = []
        row = 0
        for request in self.running:
            if not request.picker.done:
                kept_rows.extend(range(row, row + request.picker.rows))
            row += request.picker.rows
        self.running = [request for request in self.running if not request.picker.done]
        if not self.running:
            self._cache = None
            self._mask = self._mask[:0, :0]
        elif self._cache is not None:
            kept = torch.tensor(kept_rows, device=self._mask.device)
            self._cache.batch_select_indices(kept)
            self._mask = self._mask[kept]
        return [(request.key, request.picker.tokens()) for request in ended]


def decode_batch(t3: T3, decodings: Sequence[Decoding]) -> list[torch.Tensor]:
    """Speech tokens (1, N) of each decoding, in order, as `decode` gives them one by one."""
    decoder = BatchDecoder(t3)
    for index, decoding in enumerate(decodings):
        decoder.admit(index, decoding)
    tokens: dict[object, torch.Tensor] = {}
    while decoder.running:
        tokens.update(decoder.step())
    return [tokens[index] for index in range(len(decodings))]
