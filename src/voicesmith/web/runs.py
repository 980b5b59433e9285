"""What the job page reads from a run's directory: the loss curve and the evaluation samples."""

from pathlib import Path
from typing import Any

from voicesmith.engines import runfiles
from voicesmith.errors import NotFound
from voicesmith.training.models import Job


def metrics(job: Job, *, after: int) -> list[dict[str, Any]]:
    """The per-step losses logged after a step, oldest first."""
    return runfiles.read_metrics(Path(job.output_dir), after=after)


def samples(job: Job) -> list[dict[str, Any]]:
    """The audio written at each evaluation, as {name, step}, by step."""
    return runfiles.list_samples(Path(job.output_dir))


def sample_path(job: Job, name: str) -> Path:
    """The file of one sample; only plain names that the run wrote."""
    path = runfiles.sample_path(Path(job.output_dir), name)
    if path is None:
        raise NotFound(f"job '{job.id}' has no sample '{name}'")
    return path
