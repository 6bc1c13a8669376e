"""Voice conditioning: computed once per voice from a reference clip, cached, never mutated."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import librosa
import numpy as np
import numpy.typing as npt
import soundfile
import torch
from cachetools import LRUCache
from chatterbox.models.s3gen import S3GEN_SR
from chatterbox.models.s3tokenizer import S3_SR
from chatterbox.models.t3.modules.cond_enc import T3Cond
from chatterbox.tts import Conditionals

__all__ = [
    "ConditioningCache",
    "VoiceConditioning",
    "compute_conditioning",
    "read_reference",
]


@dataclass(frozen=True, slots=True)
class VoiceConditioning:
    """What T3 and S3Gen need of one voice; each synthesis gets fresh copies from `for_call`."""

    t3: T3Cond
    gen: Mapping[str, Any]

    @classmethod
    def of(cls, conditionals: Conditionals) -> VoiceConditioning:
        """Wrap chatterbox's `Conditionals` (as `conds.pt` loads them)."""
        return cls(conditionals.t3, MappingProxyType(dict(conditionals.gen)))

    def for_call(self, exaggeration: float | None) -> tuple[T3Cond, dict[str, Any]]:
        """New containers over the same tensors, so one synthesis cannot change another's."""
        # T3 stores the prompt embedding it computes on the `T3Cond` it is given, and S3Gen
        # re-assigns the entries of the dict it is given.
        t3 = dataclasses.replace(self.t3)
        if exaggeration is not None:
            emotion = torch.full((1, 1, 1), exaggeration, device=self.t3.speaker_emb.device)
            t3 = dataclasses.replace(t3, emotion_adv=emotion)
        return t3, dict(self.gen)


def read_reference(source: bytes | Path) -> npt.NDArray[np.float32]:
    """A reference clip (WAV bytes or an audio file) as mono float32 samples at 24 kHz."""
    # soundfile, not librosa.load as stock does: that imports audioread, and with it modules
    # that Python 3.11 deprecates (aifc, sunau).
    audio, rate = soundfile.read(
        io.BytesIO(source) if isinstance(source, bytes) else source, dtype="float32", always_2d=True
    )
    mono = audio.mean(axis=1)
    if rate != S3GEN_SR:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=S3GEN_SR)
    return np.asarray(mono, dtype=np.float32)


def compute_conditioning(model: Any, reference: npt.NDArray[np.float32]) -> VoiceConditioning:
    """The conditioning of the voice in `reference` (24 kHz), as `prepare_conditionals` makes it."""
    # Unlike `prepare_conditionals`, this leaves `model.conds` alone, and takes audio in memory.
    device = model.device
    reference_16k = librosa.resample(reference, orig_sr=S3GEN_SR, target_sr=S3_SR)
    gen = model.s3gen.embed_ref(reference[: model.DEC_COND_LEN], S3GEN_SR, device=device)
    prompt_tokens, _ = model.s3gen.tokenizer.forward(
        [reference_16k[: model.ENC_COND_LEN]], max_len=model.t3.hp.speech_cond_prompt_len
    )
    speaker = model.ve.embeds_from_wavs([reference_16k], sample_rate=S3_SR)
    t3 = T3Cond(
        speaker_emb=torch.from_numpy(speaker).mean(dim=0, keepdim=True).to(device),
        cond_prompt_speech_tokens=prompt_tokens.reshape(1, -1).to(device),
        emotion_adv=0.5 * torch.ones(1, 1, 1),
    ).to(device=device)
    return VoiceConditioning(t3, MappingProxyType(gen))


class ConditioningCache:
    """The conditioning of recently used voices, by key, in a bounded LRU."""

    def __init__(self, size: int) -> None:
        self._entries: LRUCache[Hashable, VoiceConditioning] = LRUCache(maxsize=size)
        self._lock = threading.Lock()
        self.computed = 0

    def get(self, key: Hashable, compute: Callable[[], VoiceConditioning]) -> VoiceConditioning:
        """The cached conditioning of `key`, computed by `compute` if there is none."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                found = compute()
                self._entries[key] = found
                self.computed += 1
            return found

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
