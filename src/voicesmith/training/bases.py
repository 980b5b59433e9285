"""Which base model a job starts from, checked in the web process without importing torch."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.engines import vocab
from voicesmith.engines.base_models import (
    CONFIG_FILE,
    BaseModelError,
    find_model_files,
    zoo_names,
)
from voicesmith.errors import BadInput, Conflict, NotFound
from voicesmith.training.models import Job, JobStatus

SCRATCH = ("scratch:tiny", "scratch:full")
HINT = (
    "use a Coqui model name such as tts_models/en/ljspeech/vits, an http(s):// URL to a zip, "
    "an absolute path to a model directory, job:<job_id> of a completed job, or scratch:tiny"
)


@dataclass(frozen=True)
class ResolvedBase:
    """A base model spec and, when known before download, its text settings."""

    spec: str
    text_config: dict[str, Any] | None


def resolve(*, session: Session, settings: Settings, spec: str) -> ResolvedBase:
    """Check that a base model spec names something that exists."""
    spec = spec.strip()
    if spec in SCRATCH:
        return ResolvedBase(spec, vocab.preset_text_config(spec))
    if spec.startswith("job:"):
        return ResolvedBase(spec, _config(_completed_job_dir(session, settings, spec[4:])))
    if re.match(r"https?://[^\s/]+", spec):
        return ResolvedBase(spec, None)
    if spec in zoo_names():
        return ResolvedBase(spec, None)
    if spec.startswith("/"):
        return ResolvedBase(spec, _config(_model_dir(Path(spec))))
    raise BadInput(f"unknown base model '{spec[:200]}'; {HINT}")


def _completed_job_dir(session: Session, settings: Settings, job_id: str) -> Path:
    """The directory of a completed job with a model."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"base model job '{job_id}' does not exist")
    if job.status != JobStatus.COMPLETED:
        raise Conflict(
            f"base model job '{job_id}' is {job.status}; only completed jobs can be used"
        )
    return _model_dir(settings.runs_dir / job_id)


def _model_dir(path: Path) -> Path:
    """A directory holding config.json and a checkpoint, or BadInput saying what is missing."""
    if not path.is_dir():
        raise BadInput(f"base model directory {path} does not exist")
    try:
        return find_model_files(path).directory
    except BaseModelError as exc:
        raise BadInput(f"base model directory {exc}") from exc


def _config(path: Path) -> dict[str, Any]:
    """A model directory's config.json."""
    try:
        return json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BadInput(f"{path / CONFIG_FILE} is not valid JSON") from exc


def check_transcripts(base: ResolvedBase, transcripts: dict[str, str]) -> None:
    """Refuse transcripts with characters the base model's tokenizer does not know."""
    if base.text_config is None:
        return
    unknown = vocab.unknown_characters(base.text_config, transcripts)
    if unknown:
        parts = [f"{char!r} in {', '.join(clips[:5])}" for char, clips in sorted(unknown.items())]
        raise BadInput(
            f"transcripts use characters the base model does not know: {'; '.join(parts)}; "
            "edit those transcripts or pick another base model"
        )


def engine_spec(*, settings: Settings, spec: str) -> str:
    """The base model as the training process takes it: job:<id> becomes that job's dir."""
    if spec.startswith("job:"):
        return str((settings.runs_dir / spec[4:]).resolve())
    return spec
