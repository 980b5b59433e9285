"""A Coqui VITS described as a Piper voice: the phoneme id map, the config, and its check.

Coqui and Piper run the same ONNX graph (inputs input, input_lengths, scales; output output);
only the ids differ. Coqui encodes its espeak-ng IPA string one character at a time and, with
add_blank, puts its blank id before, between and after the characters. Piper phonemes_to_ids
writes map['^'] + map['_'], then map[p] + map['_'] per phoneme, then map['$']. So '_' maps to
the blank, '^' and '$' to nothing (or to the blank and BOS/EOS a model with them needs), and
each character to its Coqui id: Piper then builds Coqui's own sequence. Piper splits espeak's
output into NFD codepoints; a vowel_clusters entry joins each precomposed symbol back together.
"""

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voicesmith.engines.base_models import EngineError
from voicesmith.engines.frontend import TextFrontEnd

if TYPE_CHECKING:
    from TTS.tts.configs.vits_config import VitsConfig

PAD, BOS, EOS = "_", "^", "$"  # Piper's names, from piper/const.py
ESPEAK_BACKENDS = ("espeak", "espeak-ng")
# Clause ends Piper's espeak bridge keeps as symbols; Coqui's cleaner may rewrite some.
PIPER_PUNCTUATION = ",.!?:;"
# One sentence each (Piper speaks sentence by sentence), with every clause end and numbers.
PROBE_SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background; it is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish: rice is often served in round bowls.",
    "The juice of lemons makes fine punch, and the box was thrown beside the parked truck.",
    "Four hours of steady work faced us, with 12 large oysters and 3 thick vases.",
    "Is the youth's shoe measure the azure of the joy ride?",
    "What a thrilling journey through the village the hikers had!",
)


class PiperExportError(EngineError):
    """The voice cannot be described faithfully as a Piper voice; the message says why."""


@dataclass
class PhonemeCheck:
    """How Piper's phonemes for the probe sentences compare with Coqui's own ids."""

    phonemizer: str = ""
    sentences: int = 0
    identical: int = 0
    unmapped: set[str] = field(default_factory=set)
    only_piper: set[str] = field(default_factory=set)
    only_coqui: set[str] = field(default_factory=set)

    def warnings(self) -> list[str]:
        """What a user of the voice should know: symbols the two espeak-ng builds disagree on."""
        said = []
        if self.only_piper or self.only_coqui:
            differ = self.sentences - self.identical
            said.append(
                f"Piper's espeak-ng and the one this voice was trained with disagree on {differ} "
                f"of {self.sentences} probe sentences; symbols only Piper says: "
                f"{_listed(self.only_piper)}; only Coqui: {_listed(self.only_coqui)}"
            )
        return said

    def as_dict(self) -> dict[str, Any]:
        """The check, for the voice's JSON."""
        return {
            "phonemizer": self.phonemizer,
            "probe_sentences": self.sentences,
            "identical_ids": self.identical,
            "only_piper": sorted(self.only_piper),
            "only_coqui": sorted(self.only_coqui),
        }


def _listed(symbols: set[str]) -> str:
    """Symbols with their code points, or 'none'."""
    return ", ".join(f"{s!r} (U+{ord(s[0]):04X})" for s in sorted(symbols)) or "none"


def mappable(config: Mapping[str, Any]) -> None:
    """Refuse, from config.json alone, models whose text front end Piper cannot reproduce."""
    if not config.get("use_phonemes"):
        raise PiperExportError(
            "this voice reads letters, not phonemes (a character-based model such as "
            "scratch:tiny); Piper's 'text' mode skips Coqui's cleaner (lowercasing, numbers, "
            "abbreviations), so it would mispronounce or drop them. Export a phoneme-based "
            "voice (scratch:full, or one fine-tuned from a phoneme model) instead"
        )
    if config.get("phonemizer") not in ESPEAK_BACKENDS:
        raise PiperExportError(
            f"this voice's phonemizer is {config.get('phonemizer')!r}; Piper phonemizes with "
            "espeak-ng only, so its phonemes would differ"
        )


def phoneme_id_map(front: TextFrontEnd) -> tuple[dict[str, list[int]], list[list[str]]]:
    """Piper's phoneme_id_map and vowel_clusters that reproduce the Coqui tokenizer's ids."""
    tokenizer = front.tokenizer
    chars = tokenizer.characters
    id_map = {c: [chars.char_to_id(c)] for c in chars.vocab if len(c) == 1}
    try:
        blank = [chars.char_to_id(chars.blank)] if tokenizer.add_blank else []
        bos = [chars.char_to_id(chars.bos)] if tokenizer.use_eos_bos else []
        eos = [chars.char_to_id(chars.eos)] if tokenizer.use_eos_bos else []
    except KeyError as exc:  # a config that asks for a blank or BOS/EOS it does not define
        raise PiperExportError(f"the voice's tokenizer has no id for {exc}") from exc
    id_map[PAD] = blank
    # Coqui adds BOS/EOS first and then intersperses the blank around them too.
    id_map[BOS] = [*blank, *bos] if bos else []
    id_map[EOS] = [*eos, *blank] if eos else []
    for mark in PIPER_PUNCTUATION:
        # Coqui's phoneme cleaners turn ';' and ':' into ',' before espeak: the model knows ','.
        cleaned = front.clean(mark).strip()
        if len(cleaned) == 1 and cleaned in id_map:
            id_map[mark] = id_map[cleaned]
    clusters = [list(nfd) for c in id_map if (nfd := unicodedata.normalize("NFD", c)) != c]
    return id_map, clusters


def piper_config(
    config: "VitsConfig", front: TextFrontEnd, *, dataset: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """The NAME.onnx.json of the voice, in the form piper.config.PiperConfig.from_dict reads."""
    id_map, clusters = phoneme_id_map(front)
    args = config.model_args
    language = str(config.phoneme_language or "en-us")
    described: dict[str, Any] = {
        "dataset": dataset,
        "audio": {"sample_rate": int(config.audio.sample_rate)},
        "espeak": {"voice": language},
        "language": {"code": language.replace("-", "_")},
        "phoneme_type": "espeak",
        "phoneme_map": {},
        "phoneme_id_map": id_map,
        "num_symbols": int(args.num_chars),
        "num_speakers": 1,
        "speaker_id_map": {},
        "inference": {
            "noise_scale": float(args.inference_noise_scale),
            "length_scale": float(args.length_scale),
            "noise_w": float(args.inference_noise_scale_dp),
        },
        "hop_length": int(config.audio.hop_length),
        "piper_version": "1.0.0",
        "voicesmith": extra,
    }
    if clusters:
        described["vowel_clusters"] = clusters
    return described


def check_phonemes(front: TextFrontEnd, described: dict[str, Any]) -> PhonemeCheck:
    """Phonemize the probe sentences as Piper would and compare the ids with Coqui's."""
    id_map = described["phoneme_id_map"]
    clusters = {tuple(c) for c in described.get("vowel_clusters", [])} or None
    name, phonemize = _phonemizer(front, described["espeak"]["voice"], clusters)
    check = PhonemeCheck(phonemizer=name)
    for sentence in PROBE_SENTENCES:
        coqui = front.tokenizer.text_to_ids(sentence, language=front.language)
        phonemes = [p for part in phonemize(sentence) for p in part]
        check.unmapped |= {p for p in phonemes if p not in id_map}
        piper = _piper_ids(phonemes, id_map)
        check.sentences += 1
        check.identical += piper == coqui
        symbols = front.tokenizer.characters.id_to_char
        said_by_piper, said_by_coqui = {symbols(i) for i in piper}, {symbols(i) for i in coqui}
        check.only_piper |= said_by_piper - said_by_coqui
        check.only_coqui |= said_by_coqui - said_by_piper
    if check.unmapped:
        raise PiperExportError(
            "Piper's phonemizer says symbols this voice has no id for, so Piper would drop "
            f"them: {_listed(check.unmapped)}"
        )
    return check


def _phonemizer(
    front: TextFrontEnd, voice: str, clusters: set[tuple[str, ...]] | None
) -> tuple[str, Callable[[str], list[list[str]]]]:
    """Piper's own phonemizer when piper-tts is installed, else its rules on this espeak-ng."""
    try:
        from piper.phonemize_espeak import EspeakPhonemizer
    except ImportError:
        # Without piper-tts, Piper's NFD split and clusters applied to Coqui's phonemes still
        # prove the map covers every symbol; only a newer espeak-ng in Piper can differ.
        return "espeak-ng of this host, split as Piper does", lambda text: [
            _merged(list(unicodedata.normalize("NFD", front.phonemes(text))), clusters)
        ]
    phonemizer = EspeakPhonemizer()
    return "piper-tts", lambda text: phonemizer.phonemize(voice, text, vowel_clusters=clusters)


def _merged(phonemes: list[str], clusters: set[tuple[str, ...]] | None) -> list[str]:
    """Join the codepoints of each cluster back into one symbol, as Piper does."""
    out: list[str] = []
    for phoneme in phonemes:
        if out and clusters and (out[-1], phoneme) in clusters:
            out[-1] += phoneme
        else:
            out.append(phoneme)
    return out


def _piper_ids(phonemes: list[str], id_map: dict[str, list[int]]) -> list[int]:
    """Piper's phonemes_to_ids, as piper/phoneme_ids.py writes it (unknown symbols dropped)."""
    ids = [*id_map[BOS], *id_map[PAD]]
    for phoneme in phonemes:
        if phoneme in id_map:
            ids += [*id_map[phoneme], *id_map[PAD]]
    return [*ids, *id_map[EOS]]
