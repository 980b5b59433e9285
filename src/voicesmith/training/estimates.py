"""Dry runs, the API side: check a start request, queue its probe, and answer what it measured.

An estimate is a record in <data_dir>/estimates/<id>.json, and while it waits or runs, a
folder <id>/ beside it with the frozen dataset and job.json (the worker side, probing.py,
runs the probe there and deletes it). Records stay: a later request for the same settings
while a job trains is answered from the newest one instead of waiting behind that job.
"""

import hashlib
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core.files import atomic_write_text
from voicesmith.db import utcnow
from voicesmith.errors import BadInput, NotFound
from voicesmith.training import service, snapshot
from voicesmith.training.models import Job, JobStatus

ESTIMATES_DIR = "estimates"
WAIT_SECONDS = 90.0  # how long a request waits for the worker before answering 202
POLL_SECONDS = 0.25
ID_RE = re.compile(r"^est_\d{14}_[0-9a-f]{8}$")
WAITING = ("queued", "running")
# What the answer's time depends on besides the clips; learning rate and seed do not change it.
KEY_PARAMS = ("base_model", "batch_size", "epochs", "max_steps", "eval_split", "test_sentences")


class Enqueue(Protocol):
    """Puts a dry run on the training queue by id."""

    def __call__(self, estimate_id: str, /) -> object: ...


def folder(settings: Settings) -> Path:
    """Where estimate records and probe folders live."""
    return settings.data_dir / ESTIMATES_DIR


def probe_dir(settings: Settings, estimate_id: str) -> Path:
    """The run folder a probe works in while its estimate waits or runs."""
    return folder(settings) / estimate_id


def read(settings: Settings, estimate_id: str) -> dict[str, Any] | None:
    """An estimate record; None for an id that is malformed or unknown."""
    if not ID_RE.fullmatch(estimate_id):
        return None
    try:
        found = json.loads((folder(settings) / f"{estimate_id}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def write(settings: Settings, record: dict[str, Any]) -> None:
    """Replace an estimate record."""
    path = folder(settings) / f"{record['estimate_id']}.json"
    atomic_write_text(path, json.dumps(record, indent=1))


def request_estimate(
    *,
    session: Session,
    settings: Settings,
    request: dict[str, Any],
    enqueue: Enqueue,
    wait_seconds: float = WAIT_SECONDS,
) -> dict[str, Any]:
    """A dry run of a start request: stored while a job trains, else measured or still queued."""
    with service.trainable(session=session, settings=settings, request=request) as found:
        params = {**service.job_params(request), "base_model": found.base_model}
        key = settings_key(settings, params, found)
        busy = training_device(session=session)
        stored = newest_done(settings, key, busy) if busy else None
        if stored is not None:
            return answer(stored, source="stored")
        record = _create(settings, found, params, key)
    session.commit()  # the wait below holds no connection
    enqueue(record["estimate_id"])
    # A job holds the worker: this one waits its turn rather than a request's 90 s.
    return answer(record) if busy else wait(settings, record["estimate_id"], wait_seconds)


def _create(
    settings: Settings, found: service.Trainable, params: dict[str, Any], key: str
) -> dict[str, Any]:
    """A queued record with its probe folder: the frozen dataset and its speaker."""
    estimate_id = f"est_{utcnow():%Y%m%d%H%M%S}_{secrets.token_hex(4)}"
    job_dir = probe_dir(settings, estimate_id)
    snapshot.freeze(settings=settings, job_dir=job_dir, dataset=found.name, clips=found.rows())
    service.freeze_speaker(job_dir, found.clips)
    record = {
        "estimate_id": estimate_id,
        "status": "queued",
        "dataset_name": found.name,
        "params": params,
        "key": key,
        "created_at": utcnow().isoformat(),
    }
    write(settings, record)
    return record


def settings_key(settings: Settings, params: dict[str, Any], found: service.Trainable) -> str:
    """A hash of everything the measurement depends on: the clips' content and the settings."""
    clips = [(c.wav_filename, c.transcript, c.content_hash) for c in found.clips]
    chosen = {k: params.get(k) for k in KEY_PARAMS}
    limits = (settings.training_memory_limit_mb, settings.scoring, settings.score_budget)
    text = json.dumps([found.name, clips, chosen, limits], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def training_device(*, session: Session) -> str | None:
    """The device of a job training now ('cpu' or 'cuda'); None while no job trains."""
    query = select(Job).where(Job.status == JobStatus.TRAINING.value).limit(1)
    job = session.scalar(query)
    if job is None:
        return None
    return job.device or "cpu"


def newest_done(settings: Settings, key: str, device: str) -> dict[str, Any] | None:
    """The newest finished measurement of these settings on this device, if there is one."""
    found = []
    for path in folder(settings).glob("est_*.json"):
        record = read(settings, path.stem)
        if record and record.get("key") == key and record.get("status") == "done":
            found += [record] if record["estimate"].get("device") == device else []
    return max(found, key=lambda r: r.get("measured_at") or "", default=None)


def wait(settings: Settings, estimate_id: str, seconds: float) -> dict[str, Any]:
    """The record's answer once measured, or where it is after `seconds`; failed is BadInput."""
    deadline = time.monotonic() + seconds
    record = read(settings, estimate_id) or {}
    while record.get("status") in WAITING and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        record = read(settings, estimate_id) or record
    if record.get("status") == "failed":
        raise BadInput(record.get("detail") or "the dry run failed")
    return answer(record)


def get_estimate(*, settings: Settings, estimate_id: str) -> dict[str, Any]:
    """An estimate by id, as the API answers it."""
    record = read(settings, estimate_id)
    if record is None:
        raise NotFound(f"estimate '{estimate_id}' does not exist; POST /estimate to make one")
    return answer(record)


def answer(record: dict[str, Any], source: str = "measured") -> dict[str, Any]:
    """What the API says of a record: its status, and the measurement once there is one."""
    said = {k: record.get(k) for k in ("estimate_id", "status", "dataset_name", "detail")}
    if record.get("status") != "done":
        return said
    return {**said, **record["estimate"], "source": source, "measured_at": record["measured_at"]}


def finished(settings: Settings, estimate_id: str, *, estimate: Any, detail: str | None) -> None:
    """Record a probe's outcome: its estimate, or why there is none."""
    record = read(settings, estimate_id)
    if record is None:
        return
    if estimate is not None:
        record.update(status="done", estimate=estimate, measured_at=utcnow().isoformat())
    else:
        record.update(status="failed", detail=detail or "the dry run failed")
    write(settings, record)
