"""Speaker embeddings with resemblyzer's GE2E encoder, and the similarity arithmetic on them.

The module itself needs only numpy: torch and resemblyzer are imported when the first clip
is embedded, so the report and the web process can use the arithmetic without them.
"""

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voicesmith.errors import BadInput, Unavailable

if TYPE_CHECKING:
    from resemblyzer import VoiceEncoder

SAMPLE_RATE = 16000  # what the encoder was trained on
DIMENSIONS = 256
# Below 1.2 s of speech the encoder's 1.6 s window is mostly padding: cut from the same
# espeak-ng voice, 1.0 s pieces scored 0.72-0.79 against their own centroid, 1.2 s 0.80-0.85.
MIN_SPEECH_SECONDS = 1.2
# A stored clip this quiet is quantisation noise once scaled up to speaking level.
QUIET_PEAK_DBFS = -50.0
# The encoder's mel spectrogram is not logarithmic, so loudness moves the embedding (the same
# clip at -21 and -30 dBFS scored 0.93 and 0.86): every clip is embedded at this one level.
LEVEL_DBFS = -20.0

_encoder: list["VoiceEncoder"] = []
_lock = threading.Lock()


class SpeakerUnavailable(Unavailable):
    """The speaker encoder cannot be loaded in this process."""


class Unembeddable(BadInput):
    """A recording too short or too quiet to say who is speaking."""


def load() -> "VoiceEncoder":
    """The process's encoder on the CPU, loaded once from the weights resemblyzer ships."""
    with _lock:
        if not _encoder:
            _encoder.append(_load())
        return _encoder[0]


def _load() -> "VoiceEncoder":
    """Import torch and resemblyzer and load the encoder, or SpeakerUnavailable."""
    try:
        from resemblyzer import VoiceEncoder

        return VoiceEncoder("cpu", verbose=False)
    except Exception as exc:  # missing package or weights: say what to install
        raise SpeakerUnavailable(
            f"the speaker encoder could not be loaded ({type(exc).__name__}: {exc}); "
            "install the train extra (resemblyzer, webrtcvad-wheels)"
        ) from exc


def embed_file(path: Path) -> np.ndarray:
    """The unit-length embedding of an audio file (any format FFmpeg decodes)."""
    return embed(read_16k(path))


def read_16k(path: Path) -> np.ndarray:
    """A file's audio as 16 kHz mono float32 samples, decoded and resampled by FFmpeg."""
    import av

    # Not faster_whisper.decode_audio: it runs the garbage collector on every call, which
    # took longer than the embedding once torch was loaded.
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path), metadata_errors="ignore") as container:
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        frames += resampler.resample(None)
    chunks = [frame.to_ndarray().reshape(-1) for frame in frames]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def embed(samples: np.ndarray) -> np.ndarray:
    """The unit-length embedding of 16 kHz float samples; Unembeddable when too short or quiet."""
    encoder = load()
    speech = speech_only(samples)
    embedding = encoder.embed_utterance(speech)
    return (embedding / np.linalg.norm(embedding)).astype(np.float32)


def speech_only(samples: np.ndarray) -> np.ndarray:
    """The samples with long pauses cut out by WebRTC's voice detector, at LEVEL_DBFS."""
    from resemblyzer import preprocess_wav
    from resemblyzer.audio import normalize_volume

    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak <= 10 ** (QUIET_PEAK_DBFS / 20):
        loudest = f"{20 * math.log10(peak):.0f} dBFS" if peak > 0 else "silence"
        raise Unembeddable(f"too quiet to embed: its loudest sample is {loudest}")
    # resemblyzer's own preparation (quiet clips raised to -30 dBFS, then the detector), so
    # the detector sees what it was tuned on; no rate given, so nothing is resampled.
    speech = preprocess_wav(samples.astype(np.float32))
    seconds = len(speech) / SAMPLE_RATE
    if seconds < MIN_SPEECH_SECONDS:
        raise Unembeddable(
            f"too short to embed: {seconds:.1f} s of speech; "
            f"the speaker encoder needs at least {MIN_SPEECH_SECONDS:g} s"
        )
    return normalize_volume(speech, LEVEL_DBFS)


def to_bytes(embedding: np.ndarray) -> bytes:
    """An embedding as stored: little-endian float32."""
    return np.asarray(embedding, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """A stored embedding as a vector."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def centroid(embeddings: np.ndarray) -> np.ndarray:
    """The unit-length mean of a stack of embeddings, one per row."""
    mean = embeddings.mean(axis=0)
    return mean / np.linalg.norm(mean)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def leave_one_out(embeddings: np.ndarray) -> np.ndarray:
    """Each row's cosine to the centroid of all the other rows; needs at least two rows."""
    units = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    others = units.sum(axis=0) - units
    norms = np.linalg.norm(others, axis=1)
    return np.einsum("ij,ij->i", units, others) / norms
