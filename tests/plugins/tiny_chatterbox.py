"""The Chatterbox plugin in a process whose T3 backbones are two layers deep; by entry point."""

# Random weights of the full 30-layer T3 take minutes to build and load on two cores; every
# other part of the model is full size.

from __future__ import annotations

from providers.chatterbox import ChatterboxProvider
from tests.support.chatterbox_weights import shrink_backbones

__all__ = ["ChatterboxProvider"]

shrink_backbones()
