"""T3 decoding of several requests in one batch, each drawing exactly what it would alone."""

# Each request contributes its rows (the guidance pair, or one row without guidance), left
# padded to a common length; the attention mask hides the padding and the position ids count
# only real tokens, so every row sees what it would see decoded alone. Each request samples
# from its own logits with its own generator and settings. A request's rows leave the batch,
# their cache with them, as soon as it stops.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 (torch's own spelling)
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.cond_enc import T3Cond
from transformers import DynamicCache

from providers.chatterbox.decoding import Sampling, TokenPicker, prompt_embeds, speech_embeds

__all__ = ["Decoding", "decode_batch"]


@dataclass(frozen=True, slots=True)
class Decoding:
    """One request's decoding: its conditioning, text tokens (1, L), sampling and generator."""

    cond: T3Cond
    text_tokens: torch.Tensor
    sampling: Sampling
    generator: torch.Generator


def _left_padded(prompts: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The prompts stacked to one length with zeros on the left, and the mask of real tokens."""
    length = max(prompt.size(1) for prompt in prompts)
    embeds = torch.cat([F.pad(prompt, (0, 0, length - prompt.size(1), 0)) for prompt in prompts])
    mask = torch.cat(
        [
            F.pad(torch.ones(p.size(0), p.size(1), dtype=torch.long), (length - p.size(1), 0))
            for p in prompts
        ]
    )
    return embeds, mask.to(embeds.device)


@torch.inference_mode()
def decode_batch(t3: T3, decodings: Sequence[Decoding]) -> list[torch.Tensor]:
    """Speech tokens (1, N) of each decoding, in order, as `decode` gives them one by one."""
    pickers = [TokenPicker(t3, d.sampling, d.generator) for d in decodings]
    prompts = [
        prompt_embeds(t3, d.cond, d.text_tokens, picker)
        for d, picker in zip(decodings, pickers, strict=True)
    ]
    inputs, mask = _left_padded(prompts)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    cache = DynamicCache()
    live = list(range(len(decodings)))
    step = 0
    while live:
        output = t3.tfmr(
            inputs_embeds=inputs,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
        )
        logits = t3.speech_head(output.last_hidden_state[:, -1, :])
        kept_rows: list[int] = []
        next_inputs: list[torch.Tensor] = []
        row = 0
        still_live: list[int] = []
        for index in live:
            picker = pickers[index]
            token = picker.pick(logits[row : row + picker.rows])
            if not picker.done:
                still_live.append(index)
                kept_rows.extend(range(row, row + picker.rows))
                embed = speech_embeds(t3, token, step + 1)
                next_inputs.append(embed.expand(picker.rows, -1, -1))
            row += picker.rows
        step += 1
        if len(kept_rows) < row and kept_rows:
            kept = torch.tensor(kept_rows, device=mask.device)
            cache.batch_select_indices(kept)
            mask, positions = mask[kept], positions[kept]
        live = still_live
        if not live:
            break
        inputs = torch.cat(next_inputs)
        mask = F.pad(mask, (0, 1), value=1)
        positions = positions[:, -1:] + 1
    return [picker.tokens() for picker in pickers]
