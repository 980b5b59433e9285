"""Decode any audio FFmpeg knows into 22050 Hz mono PCM16; pure functions, no I/O policy."""

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

TARGET_RATE = 22050


class AudioDecodeError(Exception):
    """The input is not audio we can decode."""


class ClipTooLong(AudioDecodeError):
    """The audio runs past the allowed length; decoding stopped early."""


@dataclass(frozen=True)
class DecodedAudio:
    """Mono int16 samples at TARGET_RATE plus what the source looked like."""

    samples: np.ndarray
    source_format: str
    source_codec: str
    source_rate: int
    source_channels: int

    @property
    def duration_seconds(self) -> float:
        """Length of the converted audio."""
        return len(self.samples) / TARGET_RATE


def decode_to_pcm16(source: BinaryIO | str | Path, *, max_seconds: float) -> DecodedAudio:
    """Decode the first audio stream, downmix to mono and resample to 22050 Hz."""
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            stream = _first_audio_stream(container)
            samples = _resample_stream(container, stream, int(max_seconds * TARGET_RATE))
            return DecodedAudio(
                samples=samples,
                source_format=container.format.name.split(",")[0],
                source_codec=stream.codec_context.name,
                source_rate=stream.codec_context.sample_rate or 0,
                source_channels=stream.codec_context.channels or 0,
            )
    except (av.FFmpegError, ValueError, IndexError, EOFError) as exc:
        raise AudioDecodeError(f"could not decode audio ({_reason(exc)})") from exc


def _first_audio_stream(container: av.container.InputContainer) -> av.AudioStream:
    """The first audio stream, or a decode error naming what was found instead."""
    if not container.streams.audio:
        raise AudioDecodeError("the file has no audio stream")
    return container.streams.audio[0]


def _resample_stream(
    container: av.container.InputContainer, stream: av.AudioStream, max_samples: int
) -> np.ndarray:
    """Run every frame through one resampler, stopping once past max_samples."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    for frame in container.decode(stream):
        # Source timestamps can jump in damaged files; the resampler only needs the samples.
        frame.pts = None
        for out in resampler.resample(frame):
            total += _append(chunks, out)
        if total > max_samples:
            raise ClipTooLong(f"the audio is longer than {max_samples / TARGET_RATE:g} s")
    for out in resampler.resample(None):
        total += _append(chunks, out)
    if total == 0:
        raise AudioDecodeError("the audio stream holds no samples")
    return np.concatenate(chunks)


def _append(chunks: list[np.ndarray], frame: av.AudioFrame) -> int:
    """Add a resampled frame's samples to chunks and return how many there were."""
    samples = frame.to_ndarray().reshape(-1).astype(np.int16, copy=False)
    chunks.append(samples)
    return len(samples)


def _reason(exc: Exception) -> str:
    """A short reason from an FFmpeg error, without file paths."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[0].strip()
