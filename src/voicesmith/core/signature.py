"""A keyed spread-spectrum signature: which installation and voice made a clip; numpy only."""

import hashlib
import hmac
from functools import lru_cache

import numpy as np

RATE = 22050
PERIOD = 16384  # samples; the pattern repeats, so any offset into a clip can be searched
BAND_HZ = (1000.0, 4000.0)  # MP3 keeps this band; speech's loud low end stays out of the way
LEVEL_DB = -32.0  # the signature's level against the speech it rides on
# A clean clip's best z-score over a few dozen keys and every offset stays near 5-6; the
# benchmark's wrong-key distribution is what this was chosen from (docs/WATERMARK.md).
THRESHOLD = 8.0
_ENVELOPE_SAMPLES = 1024
_DETECT_ENVELOPE_SAMPLES = 512
_SMOOTH_BINS = 64


def voice_key(secret: bytes, voice: str) -> bytes:
    """The signature key of one voice of one installation."""
    return hmac.new(secret, voice.encode("utf-8"), hashlib.sha256).digest()


@lru_cache(maxsize=256)
def pattern(key: bytes) -> np.ndarray:
    """One period of the key's band-limited noise, at unit RMS."""
    rng = np.random.default_rng(int.from_bytes(key[:16], "little"))
    freqs = np.fft.rfftfreq(PERIOD, 1 / RATE)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    spectrum = np.zeros(len(freqs), dtype=np.complex128)
    spectrum[band] = rng.standard_normal(band.sum()) + 1j * rng.standard_normal(band.sum())
    period = np.fft.irfft(spectrum, PERIOD)
    return period / np.sqrt(np.mean(period**2))


def embed(samples: np.ndarray, key: bytes, *, offset: int = 0) -> np.ndarray:
    """The samples with the key's pattern added under their envelope; offset continues a stream."""
    host = samples.astype(np.float64)
    if not len(host):
        return samples
    index = (offset + np.arange(len(host))) % PERIOD
    # Following the speech's envelope hides the pattern under it and leaves pauses silent.
    mark = 10 ** (LEVEL_DB / 20) * _envelope(host, _ENVELOPE_SAMPLES) * pattern(key)[index]
    return (host + mark).astype(samples.dtype, copy=False)


def fold(samples: np.ndarray) -> np.ndarray:
    """A clip at RATE whitened, band-limited and summed period by period, ready to score."""
    clip = _band(samples.astype(np.float64))
    envelope = _envelope(clip, _DETECT_ENVELOPE_SAMPLES)
    # Dividing by the envelope gives quiet and loud stretches an equal say.
    clip = clip / np.maximum(envelope, 1e-3 * envelope.max() + 1e-12)
    spectrum = np.fft.rfft(clip)
    smooth = np.convolve(np.abs(spectrum), np.ones(_SMOOTH_BINS) / _SMOOTH_BINS, mode="same")
    clip = np.fft.irfft(spectrum / (smooth + 1e-12), len(clip))
    padded = np.pad(clip, (0, -len(clip) % PERIOD))
    return padded.reshape(-1, PERIOD).sum(axis=0)


def score(folded: np.ndarray, key: bytes) -> float:
    """The best z-score of the key's pattern over every offset into the folded clip."""
    spectrum = np.fft.rfft(folded) * np.conj(np.fft.rfft(pattern(key)))
    correlation = np.fft.irfft(spectrum, PERIOD)
    spread = correlation.std()
    if not np.isfinite(spread) or spread == 0:
        return 0.0
    return float((correlation.max() - correlation.mean()) / spread)


def _band(samples: np.ndarray) -> np.ndarray:
    """Only the signature's band of the samples."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    spectrum[(freqs < BAND_HZ[0]) | (freqs > BAND_HZ[1])] = 0
    return np.fft.irfft(spectrum, len(samples))


def _envelope(samples: np.ndarray, width: int) -> np.ndarray:
    """The moving RMS of the samples over width samples."""
    # Running sums rather than np.convolve: a 1024-wide window is 1024 times the work.
    sums = np.concatenate([[0.0], np.cumsum(samples**2)])
    start = np.clip(np.arange(len(samples)) - width // 2, 0, len(samples))
    stop = np.clip(start + width, 0, len(samples))
    power = (sums[stop] - sums[start]) / width
    return np.sqrt(np.maximum(power, 0.0))
