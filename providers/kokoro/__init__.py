"""Kokoro-82M: local English text-to-speech on onnxruntime or PyTorch."""

from providers.kokoro.provider import KokoroOptions, KokoroProvider

__all__ = ["KokoroOptions", "KokoroProvider"]
