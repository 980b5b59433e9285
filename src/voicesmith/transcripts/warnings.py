"""What training needs from ASR: warnings about transcripts, and the model for the job."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import report
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.engines import asr
from voicesmith.errors import VoicesmithError

MAX_LISTED = 10


def transcript_warnings(
    *, session: Session, settings: Settings, name: str, clips: list[Clip]
) -> list[str]:
    """Warnings for clips whose transcript ASR disagrees with, and clips left out as pending."""
    warnings = []
    mismatched = [c.wav_filename for c in clips if report.is_mismatch(c, settings.asr_mismatch_cer)]
    if mismatched:
        warnings.append(
            f"{len(mismatched)} clip(s) have transcripts that differ from what speech "
            f"recognition heard: {_listed(mismatched)}. Listen to them on the dataset's Review "
            f"page (/admin/datasets/{name}/review), or through the API's accept-asr route"
        )
    waiting = session.scalars(
        select(Clip.wav_filename)
        .join(Dataset)
        .where(Dataset.name == name, Clip.status != ClipStatus.READY.value)
    ).all()
    if waiting:
        warnings.append(
            f"{len(waiting)} clip(s) without a usable transcript are left out: {_listed(waiting)}"
        )
    return warnings


def _listed(names: list[str]) -> str:
    """Clip names for a message, the first few of them."""
    return ", ".join(names[:MAX_LISTED]) + (" ..." if len(names) > MAX_LISTED else "")


def asr_spec(settings: Settings) -> dict[str, object]:
    """job.json's ASR fields, so the training process can check its own samples."""
    try:
        location = asr.model_location(settings.asr_model)
    except VoicesmithError:  # without a model the job trains the same, just unmeasured
        location = None
    return {
        "asr_model": location,
        "asr_threads": settings.asr_threads,
        "asr_compute_type": settings.asr_compute_type,
    }
