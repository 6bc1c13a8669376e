"""The router's one audio path: speed changes, resampling and encoding to response formats."""

from router.audio.encoder import AudioEncoder
from router.audio.formats import FORMATS, FormatSpec, format_spec, media_type
from router.audio.tempo import TempoFilter

__all__ = ["FORMATS", "AudioEncoder", "FormatSpec", "TempoFilter", "format_spec", "media_type"]
