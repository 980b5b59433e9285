"""Encoding synthesized audio: WAV and raw PCM by hand, MP3, Ogg/Opus and FLAC with PyAV."""

import io
import struct
import wave

import av
import numpy as np

MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "pcm": "audio/L16",
}
# (container, codec, rate the codec needs or None to keep the voice's)
_CODECS = {
    "mp3": ("mp3", "libmp3lame", None),
    "ogg": ("ogg", "libopus", 48000),
    "opus": ("ogg", "libopus", 48000),
    "flac": ("flac", "flac", None),
}
STREAMABLE = ("wav", "pcm")


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float audio in [-1, 1] as little-endian 16-bit PCM."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def encode(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    """Encode mono float samples as a whole file in the given format."""
    if fmt == "pcm":
        return to_pcm16(samples)
    if fmt == "wav":
        return _wav(samples, rate)
    return _with_pyav(samples, rate, *_CODECS[fmt])


def _wav(samples: np.ndarray, rate: int) -> bytes:
    """A PCM16 mono WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(to_pcm16(samples))
    return buffer.getvalue()


def _with_pyav(
    samples: np.ndarray, rate: int, container: str, codec: str, codec_rate: int | None
) -> bytes:
    """Encode through FFmpeg's libraries, resampling where the codec needs another rate."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=codec_rate or rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1),
            format="flt",
            layout="mono",
        )
        frame.rate = rate
        frame.pts = 0
        resampler = _resampler(stream, codec_rate)
        for resampled in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def _resampler(stream: av.AudioStream, codec_rate: int | None) -> av.AudioResampler:
    """A resampler to the encoder's own sample format and rate."""
    ctx = stream.codec_context
    return av.AudioResampler(format=ctx.format.name, layout="mono", rate=codec_rate or ctx.rate)


def streaming_wav_header(rate: int) -> bytes:
    """A WAV header for a stream of unknown length: the sizes say 'as long as it goes'."""
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", unknown)
    )
