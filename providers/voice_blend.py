"""Voice blends: `af_bella(2)+af_sky(1)` speaks with the voices' styles mixed by weight."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BlendError", "BlendPart", "is_blend", "parse_blend"]

_PART = re.compile(
    r"\s*(?P<voice>[A-Za-z0-9_.-]+)\s*(?:\(\s*(?P<weight>[-+]?[0-9]*\.?[0-9]+)\s*\))?\s*"
)


class BlendError(ValueError):
    """A voice blend that cannot be read."""


@dataclass(frozen=True, slots=True)
class BlendPart:
    """One voice of a blend and its share of the mix (the shares sum to 1)."""

    voice: str
    share: float


def is_blend(name: str) -> bool:
    """Whether `name` asks for a blend rather than one voice."""
    return "+" in name or "(" in name


def parse_blend(name: str) -> tuple[BlendPart, ...]:
    """The voices of `name` and their shares; a voice named twice has its weights added."""
    weights: dict[str, float] = {}
    for raw in name.split("+"):
        match = _PART.fullmatch(raw)
        if not raw.strip():
            raise BlendError(f"the voice blend `{name}` has an empty part")
        if match is None:
            raise BlendError(
                f"`{raw.strip()}` in the voice blend `{name}` is not a voice name with an "
                "optional weight, as in `af_bella(2)+af_sky(1)`"
            )
        voice, weight = match["voice"], float(match["weight"] or 1)
        if weight <= 0:
            raise BlendError(f"the weight of `{voice}` in the voice blend `{name}` must be above 0")
        weights[voice] = weights.get(voice, 0.0) + weight
    total = sum(weights.values())
    return tuple(BlendPart(voice, weight / total) for voice, weight in weights.items())
