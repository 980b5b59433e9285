"""Which transcript characters a model's tokenizer knows; pure Python, safe for the web process."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voicesmith.engines.base_models import CONFIG_FILE, BaseModelError, find_model_files

PRESETS = ("scratch:tiny", "scratch:full")
DEFAULT_PUNCTUATIONS = "!'(),-.:;? "
# Lowercase Latin letters, so Western European transcripts work from scratch too.
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyzßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿœ"
# Coqui's default IPA set (TTS/tts/utils/text/characters.py), used by phoneme models.
IPA_PHONEMES = (
    "iyɨʉɯuɪʏʊeøɘəɵɤoɛœɜɞʌɔæɐaɶɑɒᵻʘɓǀɗǃʄǂɠǁʛ"
    "pbtdʈɖcɟkɡqɢʔɴŋɲɳnɱmʙrʀⱱɾɽɸβfvθðszʃʒʂʐçʝxɣχʁħʕhɦɬɮʋɹɻjɰlɭʎʟ"
    "ˈˌːˑʍwɥʜʢʡɕʑɺɧʲ̃ɚ˞ɫ"
)
VITS_CHARACTERS_CLASS = "TTS.tts.models.vits.VitsCharacters"

# How Coqui's cleaners (TTS/tts/utils/text/cleaners.py) change text before tokenizing.
_NOT_LOWERCASING = {"phoneme_cleaners", "multilingual_phoneme_cleaners", "no_cleaners", None}
_NUMBER_EXPANDING = {"english_cleaners", "phoneme_cleaners", "italian_cleaners"}
_SYMBOL_CLEANING = {
    "english_cleaners",
    "phoneme_cleaners",
    "multilingual_phoneme_cleaners",
    "multilingual_cleaners",
    "french_cleaners",
    "portuguese_cleaners",
    "italian_cleaners",
}
_REMOVED_SYMBOLS = set('<>()[]"')
_REPLACED_SYMBOLS = {";": ",", ":": ",", "-": " ", "&": " "}


def preset_text_config(name: str) -> dict[str, Any]:
    """The text settings of a scratch preset, as the keys of a Coqui config.json."""
    if name == "scratch:tiny":
        return {
            "use_phonemes": False,
            "text_cleaner": "english_cleaners",
            "characters": _characters(LATIN_LETTERS, None),
        }
    if name == "scratch:full":
        return {
            "use_phonemes": True,
            "phonemizer": "espeak",
            "phoneme_language": "en-us",
            "text_cleaner": "phoneme_cleaners",
            "characters": _characters(LATIN_LETTERS, IPA_PHONEMES),
        }
    raise ValueError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")


def _characters(graphemes: str, phonemes: str | None) -> dict[str, Any]:
    """A Coqui CharactersConfig dict for VITS."""
    return {
        "characters_class": VITS_CHARACTERS_CLASS,
        "characters": graphemes,
        "punctuations": DEFAULT_PUNCTUATIONS,
        "phonemes": phonemes,
        "pad": "<PAD>",
        "eos": None,
        "bos": None,
        "blank": "<BLNK>",
        "is_unique": False,
        "is_sorted": True,
    }


def unknown_characters(
    config: Mapping[str, Any], transcripts: Mapping[str, str]
) -> dict[str, list[str]]:
    """Map each character the model cannot read to the clips whose transcript uses it."""
    known = _known_characters(config)
    cleaner = config.get("text_cleaner")
    unknown: dict[str, list[str]] = {}
    for clip, text in transcripts.items():
        if cleaner not in _NOT_LOWERCASING:
            text = text.lower()
        for char in sorted(set(text)):
            if not _is_known(char, known, config, cleaner):
                unknown.setdefault(char, []).append(clip)
    return {char: sorted(clips) for char, clips in sorted(unknown.items())}


def _known_characters(config: Mapping[str, Any]) -> set[str]:
    """Characters and punctuation in the config's vocabulary, plus the space."""
    chars = config.get("characters") or {}
    known = set(chars.get("punctuations") or DEFAULT_PUNCTUATIONS) | {" "}
    if config.get("use_phonemes"):
        return known
    known |= set(chars.get("characters") or "")
    # VitsCharacters appends the phoneme set to the graphemes.
    if str(chars.get("characters_class") or "").endswith("VitsCharacters"):
        known |= set(chars.get("phonemes") or "")
    return known


def _is_known(char: str, known: set[str], config: Mapping[str, Any], cleaner: str | None) -> bool:
    """Whether the tokenizer ends up with a known symbol for char."""
    if char in known or char.isspace():
        return True
    if config.get("use_phonemes") and char.isalnum():
        return True  # the phonemizer turns letters and digits into phonemes
    if cleaner in _NUMBER_EXPANDING and char.isdigit():
        return True
    if cleaner in _SYMBOL_CLEANING:
        return char in _REMOVED_SYMBOLS or _REPLACED_SYMBOLS.get(char, "\0") in known
    return False


def describe_unknown(unknown: Mapping[str, list[str]], *, limit: int = 5) -> str:
    """A one-line message naming unknown characters and a few clips that use each."""
    parts = []
    for char, clips in unknown.items():
        more = f" and {len(clips) - limit} more" if len(clips) > limit else ""
        parts.append(f"{char!r} (U+{ord(char):04X}) in {', '.join(clips[:limit])}{more}")
    return "the model cannot read these characters: " + "; ".join(parts)


def known_text_config(spec: str, *, runs_dir: Path) -> dict[str, Any] | None:
    """A base model's text settings when known without a download (preset, folder, job:<id>)."""
    spec = spec.strip()
    if spec in PRESETS:
        return preset_text_config(spec)
    if spec.startswith("job:"):
        folder = runs_dir / spec[4:]
    elif spec.startswith("/"):
        folder = Path(spec)
    else:
        return None  # zoo names and URLs are not downloaded just to read their characters
    try:
        directory = find_model_files(folder).directory
        return json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    except (BaseModelError, OSError, ValueError):
        return None
