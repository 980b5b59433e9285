"""Files written so that a crash leaves either the old file or the new one, never half of one."""

import os
import shutil
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np


def write_temp(
    folder: Path,
    write: Callable[[BinaryIO], object],
    *,
    prefix: str = "",
    suffix: str = ".part",
    sync: bool = True,
) -> Path:
    """A new temporary file in folder filled by write(handle); removed again if write fails."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        # A full disk or a kill must not leave half a file behind.
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace path with data via a fsynced temporary file in the same directory."""
    temporary = write_temp(path.parent, lambda handle: handle.write(data), prefix=f".{path.name}.")
    try:
        if mode is not None:
            os.chmod(temporary, mode)  # mkstemp makes files private
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace path with UTF-8 text, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(path: Path) -> None:
    """Make a rename inside path durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_wav_temp(samples: np.ndarray, rate: int, tmp_dir: Path) -> Path:
    """Write mono PCM16 samples to a fsynced temporary WAV in tmp_dir."""

    def write(handle: BinaryIO) -> None:
        with wave.open(handle, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(samples.astype("<i2", copy=False).tobytes())

    return write_temp(tmp_dir, write, suffix=".wav.part")


def link_or_copy(source: Path, target: Path) -> None:
    """Make target the same file as source: a hard link saves a full model's worth of disk."""
    temporary = target.with_name(f".{target.name}.part")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
