"""What the job page reads from a run's directory: the loss curve and the evaluation samples."""

import json
import re
from pathlib import Path
from typing import Any

from voicesmith.errors import NotFound
from voicesmith.training.models import Job

METRICS_FILE = "metrics.jsonl"
SAMPLES_DIR = "samples"
SAMPLE_RE = re.compile(r"step_(\d+)_(\d+)\.wav")


def metrics(job: Job, *, after: int) -> list[dict[str, Any]]:
    """The per-step losses logged after a step, oldest first."""
    path = Path(job.output_dir) / METRICS_FILE
    if not path.is_file():
        return []
    points = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        point = _parse(line)
        if point is not None and point["step"] > after:
            points.append(point)
    return points


def _parse(line: str) -> dict[str, Any] | None:
    """One metrics line as {step, losses}; None for a line cut off by a kill."""
    try:
        raw = json.loads(line)
        losses = {k: float(v) for k, v in (raw.get("losses") or {}).items()}
        return {"step": int(raw["step"]), "losses": losses}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def samples(job: Job) -> list[dict[str, Any]]:
    """The audio written at each evaluation, as {name, step}, by step."""
    folder = Path(job.output_dir) / SAMPLES_DIR
    found = []
    for path in folder.glob("step_*.wav") if folder.is_dir() else ():
        match = SAMPLE_RE.fullmatch(path.name)
        if match:
            found.append({"name": path.name, "step": int(match[1]), "index": int(match[2])})
    return sorted(found, key=lambda s: (s["step"], s["index"]))


def sample_path(job: Job, name: str) -> Path:
    """The file of one sample; only plain names that the run wrote."""
    path = Path(job.output_dir) / SAMPLES_DIR / name
    if not SAMPLE_RE.fullmatch(name) or not path.is_file():
        raise NotFound(f"job '{job.id}' has no sample '{name}'")
    return path
