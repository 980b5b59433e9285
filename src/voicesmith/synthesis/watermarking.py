"""Marking every synthesized clip: PerTh's mark, under it this installation's voice signature."""

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicesmith.config import Settings
from voicesmith.core import signature
from voicesmith.core.files import write_temp

SECRET_FILE = "installation.key"
_SECRET_BYTES = 32


@dataclass(frozen=True)
class Installation:
    """This installation's signing secret and the short public id derived from it."""

    secret: bytes

    @property
    def id(self) -> str:
        """The short id detection reports; it reveals nothing of the secret."""
        return "vs-" + hashlib.sha256(b"voicesmith-installation:" + self.secret).hexdigest()[:12]


def installation(settings: Settings) -> Installation:
    """The data dir's installation secret, created once on first use."""
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return Installation(bytes.fromhex(path.read_text().strip()))


def _create_secret(path: Path) -> None:
    """Write a new secret unless another process got there first; the first one wins."""
    text = secrets.token_hex(_SECRET_BYTES) + "\n"
    temporary = write_temp(path.parent, lambda handle: handle.write(text.encode()), prefix=".key.")
    try:
        os.chmod(temporary, 0o600)
        # link fails when the file exists: no process replaces another's secret.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class Marker:
    """Watermarks the float samples of one voice; off when VOICESMITH_WATERMARK is false."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.watermark
        self.perth = settings.watermark_perth
        self._installation: Installation | None = None

    @property
    def uses_perth(self) -> bool:
        """Whether each clip goes through PerTh's network after synthesis."""
        return self.enabled and self.perth

    def mark(self, samples: np.ndarray, rate: int, voice: str, *, offset: int = 0) -> np.ndarray:
        """The samples with the voice's signature and PerTh's mark; offset continues a stream."""
        if not self.enabled or not len(samples):
            return samples
        from voicesmith.engines import watermark

        if rate == signature.RATE:
            key = signature.voice_key(self.secret(), voice)
            samples = signature.embed(samples, key, offset=offset)
        return watermark.apply(samples, rate) if self.perth else samples

    def secret(self) -> bytes:
        """The installation secret, read once."""
        if self._installation is None:
            self._installation = installation(self.settings)
        return self._installation.secret
