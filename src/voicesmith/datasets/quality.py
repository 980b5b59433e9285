"""Measuring and cleaning one clip's samples: silence, loudness, clipping; pure functions."""

import math
from dataclasses import dataclass

import numpy as np
import pyloudnorm

FRAME_SECONDS = 0.02
# A frame is speech when it is within 40 dB of the clip's loudest frame, and above -60 dBFS.
SPEECH_RANGE_DB = 40.0
SPEECH_FLOOR_DB = -60.0
KEEP_SECONDS = 0.1
# pyloudnorm's gating blocks are 400 ms; a shorter clip has no integrated loudness.
MIN_LOUDNESS_SECONDS = 0.4
PEAK_CEILING_DB = -1.0
CLIPPED_LEVEL = 0.99
FLOOR_DB = -120.0


@dataclass(frozen=True)
class Metrics:
    """What a clip sounds like before clean-up."""

    peak_dbfs: float
    loudness_lufs: float | None
    clipped_ratio: float
    leading_silence: float
    trailing_silence: float
    snr_db: float
    speech_seconds: float


@dataclass(frozen=True)
class Cleanup:
    """How a dataset cleans its clips at ingest."""

    trim_silence: bool
    normalize_loudness: bool
    target_lufs: float


def measure(samples: np.ndarray, rate: int) -> Metrics:
    """Peak, loudness, clipping, silence at both ends and a signal-to-noise estimate."""
    audio = _floats(samples)
    levels = _frame_levels(audio, rate)
    start, end = _speech_bounds(levels, rate, len(audio))
    return Metrics(
        peak_dbfs=_db(float(np.max(np.abs(audio))) if len(audio) else 0.0),
        loudness_lufs=loudness(audio, rate),
        clipped_ratio=float(np.mean(np.abs(audio) >= CLIPPED_LEVEL)) if len(audio) else 0.0,
        leading_silence=start / rate,
        trailing_silence=(len(audio) - end) / rate,
        snr_db=_snr(levels),
        speech_seconds=(end - start) / rate,
    )


def clean(samples: np.ndarray, rate: int, cleanup: Cleanup) -> np.ndarray:
    """Trim silence (keeping ~100 ms) and normalise loudness without clipping; int16 out."""
    audio = _floats(samples)
    if cleanup.trim_silence:
        audio = _trimmed(audio, rate)
    if cleanup.normalize_loudness:
        audio = _normalized(audio, rate, cleanup.target_lufs)
    return np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def loudness(audio: np.ndarray, rate: int) -> float | None:
    """Integrated loudness in LUFS (ITU-R BS.1770), or None when too short or silent."""
    if len(audio) < MIN_LOUDNESS_SECONDS * rate:
        return None
    value = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
    return float(value) if math.isfinite(value) else None


def _floats(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1)."""
    return samples.astype(np.float32) / 32768.0


def _frame_levels(audio: np.ndarray, rate: int) -> np.ndarray:
    """RMS level in dBFS of each 20 ms frame."""
    size = max(1, int(FRAME_SECONDS * rate))
    count = len(audio) // size
    if count == 0:
        return np.full(1, _db(float(np.sqrt(np.mean(audio**2)))) if len(audio) else FLOOR_DB)
    frames = audio[: count * size].reshape(count, size)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 10 ** (FLOOR_DB / 20)))


def _speech_bounds(levels: np.ndarray, rate: int, length: int) -> tuple[int, int]:
    """First and one-past-last sample of speech; (length, length) when there is none."""
    size = max(1, int(FRAME_SECONDS * rate))
    threshold = max(float(levels.max()) - SPEECH_RANGE_DB, SPEECH_FLOOR_DB)
    voiced = np.flatnonzero(levels > threshold)
    if len(voiced) == 0:
        return length, length
    return int(voiced[0]) * size, min(length, (int(voiced[-1]) + 1) * size)


def _snr(levels: np.ndarray) -> float:
    """Loud frames against quiet frames, in dB: a rough signal-to-noise ratio."""
    spread = float(np.percentile(levels, 95) - np.percentile(levels, 10))
    return round(min(max(spread, 0.0), 100.0), 1)


def _trimmed(audio: np.ndarray, rate: int) -> np.ndarray:
    """The audio without its leading and trailing silence, keeping KEEP_SECONDS of each."""
    start, end = _speech_bounds(_frame_levels(audio, rate), rate, len(audio))
    if start >= end:
        return audio  # nothing but silence: the report says so, trimming would empty it
    keep = int(KEEP_SECONDS * rate)
    return audio[max(0, start - keep) : min(len(audio), end + keep)]


def _normalized(audio: np.ndarray, rate: int, target_lufs: float) -> np.ndarray:
    """The audio at target_lufs, or as close as the -1 dBFS peak ceiling allows."""
    current = loudness(audio, rate)
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if current is None or peak == 0.0:
        return audio
    gain_db = min(target_lufs - current, PEAK_CEILING_DB - 20 * math.log10(peak))
    return audio * np.float32(10 ** (gain_db / 20))


def _db(amplitude: float) -> float:
    """An amplitude in dBFS, floored at -120."""
    return round(max(20 * math.log10(amplitude), FLOOR_DB) if amplitude > 0 else FLOOR_DB, 2)
