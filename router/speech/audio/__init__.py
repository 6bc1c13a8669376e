"""The router's one audio path: speed changes, resampling and encoding to response formats."""

from router.speech.audio.encoder import AudioEncoder
from router.speech.audio.formats import FORMATS, FormatSpec, format_spec, media_type
from router.speech.audio.tempo import TempoFilter

__all__ = ["FORMATS", "AudioEncoder", "FormatSpec", "TempoFilter", "format_spec", "media_type"]
