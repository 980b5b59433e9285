"""The text side of a voice: Coqui's tokenizer and cleaner, which need no weights."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from TTS.tts.configs.vits_config import VitsConfig


class TextFrontEnd:
    """Text to token ids with the model's own Coqui tokenizer; needs no weights."""

    def __init__(self, config: "VitsConfig") -> None:
        from TTS.tts.utils.text.tokenizer import TTSTokenizer

        self.tokenizer, _ = TTSTokenizer.init_from_config(config)
        self.language = _text_language(config)
        characters = self.tokenizer.characters
        self.vocab = set(characters.vocab)
        # Letters or phonemes, not punctuation, pad or blank: text without any is silence.
        self.sounds = set(characters.characters) - set(characters.punctuations)
        self.sound_ids = {characters.char_to_id(c) for c in self.sounds}
        self.spoken: dict[str, bool] = {}
        # The first number makes the cleaner load inflect (~2 s): pay that here, not per request.
        self._clean("1")

    def unknown_characters(self, text: str) -> set[str]:
        """Characters of text that the model cannot speak and synthesize() drops."""
        cleaned = self._clean(text)
        if self.tokenizer.use_phonemes:
            # espeak-ng reads ASCII letters and digits; anything else it may read ('€' is
            # "euros", an emoji its name) or skip, which only asking it tells.
            odd = {c for c in cleaned if not (c.isascii() and c.isalnum()) and c not in self.vocab}
            return {c for c in odd if not c.isspace() and not self._is_spoken(c)}
        dropped = {c for c in cleaned if c not in self.vocab}
        # Report characters as written: the cleaner may have lowercased them.
        original = {c for c in text if c in dropped or c.lower() in dropped}
        return original | (dropped - {c.lower() for c in original})

    def clean(self, text: str) -> str:
        """The text as the model's cleaner leaves it, before phonemes or ids."""
        return self._clean(text)

    def phonemes(self, text: str) -> str:
        """The phoneme string the tokenizer encodes for text (phoneme models only)."""
        return self.tokenizer.phonemizer.phonemize(self._clean(text), separator="", language=None)

    def _clean(self, text: str) -> str:
        """The text after the model's cleaner (lowercasing, numbers, symbols)."""
        cleaner = self.tokenizer.text_cleaner
        return cleaner(text, lang=_normalized(self.language)) if cleaner else text

    def _is_spoken(self, char: str) -> bool:
        """Whether the phonemizer turns char alone into at least one known symbol."""
        if char not in self.spoken:
            phonemes = self.tokenizer.phonemizer.phonemize(char, separator="", language=None)
            self.spoken[char] = any(p in self.sounds for p in phonemes)
        return self.spoken[char]

    def text_ids(self, text: str) -> list[int]:
        """Token ids for text, unknown characters dropped; empty when nothing is speakable."""
        ids = self.tokenizer.text_to_ids(text, language=self.language) if text.strip() else []
        return ids if self.sound_ids.intersection(ids) else []


def _text_language(config: "VitsConfig") -> str | None:
    """The language the model was trained with, as its cleaners were given it."""
    for dataset in config.datasets or []:
        if dataset.get("language"):
            return str(dataset["language"])
    return config.phoneme_language or None


def _normalized(language: str | None) -> str | None:
    """'en-us' to 'en', as Coqui's tokenizer does for cleaners."""
    return language.split("-")[0] if language else None
