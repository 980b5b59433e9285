"""Whether a clip carries our watermark and, when its signature is found, which voice made it."""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core import signature
from voicesmith.datasets.audio import TARGET_RATE, AudioDecodeError, decode_to_pcm16
from voicesmith.datasets.ingest import FORMATS_HINT
from voicesmith.errors import BadInput
from voicesmith.synthesis.models import VoiceAlias
from voicesmith.synthesis.service import BASE_VOICE
from voicesmith.synthesis.watermarking import installation
from voicesmith.training.models import Job

MAX_SECONDS = 600.0


@dataclass(frozen=True)
class Detection:
    """The answer: marked or not, and the voice and installation when the signature says so."""

    watermarked: bool
    voice: str | None
    installation: str | None
    score: float  # PerTh's confidence, 0 to 1
    signature_score: float  # the best voice signature's z-score; THRESHOLD and above is a match

    def as_dict(self) -> dict[str, object]:
        """The JSON answer of the route and the command."""
        return asdict(self)


def detect(*, session: Session, settings: Settings, audio: BinaryIO | Path) -> Detection:
    """Decode any audio FFmpeg knows and look for PerTh's mark and this installation's voices."""
    samples = _decoded(audio)
    names = _voice_names(session)
    session.commit()  # release the read transaction before the slow part
    from voicesmith.engines import watermark

    confidence = watermark.confidence(samples, TARGET_RATE)
    this = installation(settings)
    voice, best = best_voice(samples, this.secret, names)
    return Detection(
        watermarked=confidence >= watermark.PRESENT or voice is not None,
        voice=voice,
        installation=this.id if voice is not None else None,
        score=round(confidence, 4),
        signature_score=round(best, 2),
    )


def _decoded(audio: BinaryIO | Path) -> np.ndarray:
    """The upload as float samples at 22050 Hz, or BadInput saying what is wrong with it."""
    if _is_empty(audio):
        raise BadInput(f"the audio file is empty; {FORMATS_HINT}")
    try:
        decoded = decode_to_pcm16(audio, max_seconds=MAX_SECONDS)
    except AudioDecodeError as exc:
        raise BadInput(f"{exc}; {FORMATS_HINT}") from exc
    return decoded.samples.astype(np.float32) / 32768.0


def _is_empty(audio: BinaryIO | Path) -> bool:
    """Whether the file holds no bytes at all; leaves a handle at its start."""
    if isinstance(audio, Path):
        return audio.stat().st_size == 0
    empty = not audio.read(1)
    audio.seek(0)
    return empty


def _voice_names(session: Session) -> list[str]:
    """Every name a clip of this installation can have been spoken under."""
    jobs = session.scalars(select(Job.id)).all()
    aliases = session.scalars(select(VoiceAlias.alias)).all()
    return [BASE_VOICE, *sorted({*jobs, *aliases})]


def best_voice(samples: np.ndarray, secret: bytes, names: list[str]) -> tuple[str | None, float]:
    """The name whose signature scores highest, if that clears the threshold, and its score."""
    folded = signature.fold(samples)
    scores = {name: signature.score(folded, signature.voice_key(secret, name)) for name in names}
    name = max(scores, key=scores.__getitem__)
    return (name if scores[name] >= signature.THRESHOLD else None), scores[name]
