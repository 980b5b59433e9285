"""Builders for real audio files: tones encoded by FFmpeg's libraries, speech from espeak-ng."""

import re
import shutil
import subprocess
import wave
from pathlib import Path

import av
import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ljspeech-mp3"
CHUNK = 1024


def write_tone(
    path: Path,
    *,
    seconds: float = 3.0,
    rate: int = 44100,
    channels: int = 1,
    codec: str = "pcm_s16le",
    container: str | None = None,
    amplitude: float = 0.3,
) -> Path:
    """Encode a sine tone with the given codec and container, as a real file."""
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo" if channels == 2 else "mono")
        for pts, frame in _frames(seconds, rate, channels, amplitude):
            frame.pts = pts
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _frames(seconds: float, rate: int, channels: int, amplitude: float):
    """Planar float frames of a 220 Hz tone (a 330 Hz one on the right channel)."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    signal = [amplitude * np.sin(2 * np.pi * f * t) for f in (220, 330)[:channels]]
    data = np.stack(signal).astype(np.float32)
    layout = "stereo" if channels == 2 else "mono"
    for start in range(0, n, CHUNK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data[:, start : start + CHUNK]), format="fltp", layout=layout
        )
        frame.rate = rate
        yield start, frame


def speak(text: str, path: Path, *, voice: str = "en-us") -> Path:
    """Speak text with espeak-ng into a WAV file."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is missing; run `make test`, which installs it")
    subprocess.run([espeak, "-v", voice, "-w", str(path), text], check=True, capture_output=True)
    return path


def source_seconds(path: Path) -> float:
    """Decoded length of a file, measured by FFmpeg at its own rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def fixture_clips() -> list[tuple[Path, str]]:
    """The shared LJSpeech MP3 fixtures with their transcripts."""
    lines = (FIXTURES / "metadata.csv").read_text(encoding="utf-8").splitlines()
    return [(FIXTURES / f, t) for f, t in (line.split("|", 1) for line in lines if line)]


REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"


def readme_block(marker: str, language: str, doc: Path | str = README) -> str:
    """The code block a document fences between <!-- marker --> comments.

    doc is the README unless told; a relative path is taken from the repository root.
    """
    path = REPO / doc
    pattern = rf"<!-- {re.escape(marker)} -->\n```{re.escape(language)}\n(.*?)```"
    found = re.search(pattern, path.read_text(encoding="utf-8"), re.S)
    if found is None:
        raise LookupError(f"{path} has no {language} block marked {marker}")
    return found.group(1)


def run_snippet(command: list[str], *, env: dict[str, str], cwd: Path):
    """Run a README snippet as a user would, capturing its output."""
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def transcode(
    source: Path, target: Path, *, codec: str, rate: int | None = None, channels: int = 1
) -> Path:
    """Re-encode real audio with another codec, rate and channel count, as users' files are."""
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        in_stream = src.streams.audio[0]
        stream = out.add_stream(
            codec, rate=rate or in_stream.codec_context.sample_rate, layout=layout
        )
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=stream.codec_context.rate)
        for frame in src.decode(in_stream):
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return target


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """A mono PCM16 WAV's samples as float32 in [-1, 1), and its rate."""
    with wave.open(str(path)) as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return data.astype(np.float32) / 32768, wav.getframerate()


def write_pcm(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Write float samples as a mono PCM16 WAV, clipping them as a recorder would."""
    samples = np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path


def tensorboard_counts(job_dir: Path) -> dict[str, int]:
    """How many scalar, image and audio tags the job's TensorBoard events hold."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = job_dir.glob("events.out.tfevents.*")
    reader = EventAccumulator(str(events), size_guidance={"images": 0, "scalars": 0, "audio": 0})
    reader.Reload()
    return {kind: len(reader.Tags()[kind]) for kind in ("scalars", "images", "audio")}
