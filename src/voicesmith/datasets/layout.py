"""The LJSpeech layout on disk: paths, atomic writes and per-dataset locks."""

import fcntl
import os
import re
import tempfile
import wave
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from voicesmith.errors import BadInput

METADATA_FILE = "metadata.csv"
WAVS_DIR = "wavs"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+", re.ASCII)
# The dataset-name alphabet: a name outside it must never become part of a path.
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
MAX_STEM_CHARS = 100


def dataset_dir(datasets_root: Path, name: str) -> Path:
    """<data_dir>/data/<name>."""
    return datasets_root / checked_name(name)


def checked_name(name: str) -> str:
    """The name, if it is safe inside a path; a caller that forgot to validate gets a 422."""
    if not SAFE_NAME.fullmatch(name):
        raise BadInput(
            "dataset name may contain only letters, digits, '_' and '-', 1 to 64 characters"
        )
    return name


def safe_stem(filename: str) -> str:
    """A filesystem-safe stem for a client-supplied filename."""
    stem = Path(filename.replace("\\", "/")).stem
    stem = _UNSAFE.sub("_", stem).strip("._-")[:MAX_STEM_CHARS]
    return stem or "clip"


def write_wav_temp(samples: np.ndarray, rate: int, tmp_dir: Path) -> Path:
    """Write mono PCM16 samples to a fsynced temporary WAV in tmp_dir."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".wav.part", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            with wave.open(handle, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(rate)
                wav.writeframes(samples.astype("<i2", copy=False).tobytes())
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace path with text via a fsynced temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename inside path durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def metadata_text(rows: Iterable[tuple[str, str]]) -> str:
    """metadata.csv's content: one 'file.wav|transcript' line per clip."""
    return "".join(f"{wav}|{text}\n" for wav, text in rows)


def render_metadata(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """Write metadata.csv, atomically."""
    atomic_write_text(path, metadata_text(rows))


@contextmanager
def dataset_lock(locks_dir: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock for one dataset, across threads and processes on this host."""
    locks_dir.mkdir(parents=True, exist_ok=True)
    # Each call opens its own descriptor, so flock also excludes other threads of this process.
    with open(locks_dir / f"{checked_name(name)}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
