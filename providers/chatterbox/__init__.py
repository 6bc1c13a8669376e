"""Chatterbox and Chatterbox Turbo (Resemble AI): local English speech with voice cloning."""

from providers.chatterbox.options import ChatterboxOptions
from providers.chatterbox.provider import ChatterboxProvider

__all__ = ["ChatterboxOptions", "ChatterboxProvider"]
