"""Consent, verified: challenges to read, judged recordings kept as an audit, and /start's gate.

The records name their dataset rather than refer to its row, and the recordings live under
<data_dir>/consent/, outside the dataset's folder: deleting the dataset leaves the audit.
"""

import os
import re
import secrets
import shutil
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voicesmith.auth import audit
from voicesmith.config import Settings
from voicesmith.core.files import fsync_dir, write_temp, write_wav_temp
from voicesmith.datasets import ingest
from voicesmith.datasets.audio import TARGET_RATE
from voicesmith.datasets.models import Dataset
from voicesmith.datasets.service import check_size, get_dataset, validate_dataset_name
from voicesmith.db import utcnow
from voicesmith.errors import BadInput, Conflict, NotFound
from voicesmith.training import consent_judge
from voicesmith.training.consent_judge import Verdict
from voicesmith.training.models import ConsentChallenge, ConsentRecord, Job

CONSENT_DIR = "consent"
_CONSENT_ROUTE = "/api/v1/admin/training/datasets/{name}/consent"
MAX_SPEAKER_CHARS = 100
VERIFIED = "verified"
OVERRIDE = "override"
_FORMAT = re.compile(r"[a-z0-9]{1,8}", re.ASCII)


def how_to(name: str) -> str:
    """How an admin records a dataset's consent, for details and warnings."""
    base = _CONSENT_ROUTE.format(name=name)
    return (
        f"record the speaker's consent: POST {base}/challenge with the speaker_name, have the "
        f"speaker read the statement aloud and POST the recording to {base} as the field "
        "'audio' (or use the Consent panel on the dataset's page)"
    )


def open_challenge(
    *, session: Session, settings: Settings, dataset_name: str, speaker_name: str, admin: str
) -> ConsentChallenge:
    """A new statement for the dataset's speaker to read, with a fresh one-time phrase."""
    dataset = _dataset(session, dataset_name)
    speaker = _speaker_name(speaker_name)
    now = utcnow()
    phrase = consent_judge.draw_phrase()
    challenge = ConsentChallenge(
        id=secrets.token_hex(16),
        dataset_name=dataset.name,
        speaker_name=speaker,
        statement=consent_judge.statement(speaker, settings.organisation, now, phrase),
        phrase=phrase,
        created_by=admin,
        created_at=now,
        expires_at=now + timedelta(hours=settings.consent_challenge_hours),
    )
    session.add(challenge)
    session.commit()
    return challenge


def _dataset(session: Session, dataset_name: str) -> Dataset:
    """The dataset with this name, or NotFound."""
    name = validate_dataset_name(dataset_name)
    dataset = get_dataset(session=session, name=name)
    if dataset is None:
        raise NotFound(f"dataset '{name}' does not exist; upload clips to it first")
    return dataset


def _speaker_name(given: str) -> str:
    """The speaker's name as the statement spells it: one line, 1 to MAX_SPEAKER_CHARS."""
    name = " ".join(given.split())
    if not name:
        raise BadInput("speaker_name is empty; give the name of the person whose voice it is")
    if len(name) > MAX_SPEAKER_CHARS:
        raise BadInput(f"speaker_name is {len(name)} characters; the limit is {MAX_SPEAKER_CHARS}")
    if any(not c.isprintable() for c in name) or any(c in name for c in "<>{}|"):
        raise BadInput("speaker_name may not hold control characters or markup; give a name")
    return name


def verify(
    *,
    session: Session,
    settings: Settings,
    dataset_name: str,
    audio: BinaryIO,
    admin: str,
    challenge_id: str | None = None,
) -> ConsentRecord:
    """Judge a recording of the open challenge's statement and keep it as an audit record."""
    dataset = _dataset(session, dataset_name)
    check_size(audio, settings.max_upload_bytes, noun="consent recording")
    digest = ingest.file_digest(audio)
    decoded = ingest.decode_checked(audio, settings)
    challenge = _challenge(session, dataset, challenge_id)
    verdict = _unusable(challenge)
    if verdict is None:
        ref = consent_judge.reference(session=session, settings=settings, dataset=dataset)
        wav = write_wav_temp(decoded.samples, TARGET_RATE, settings.data_dir / "tmp")
        try:
            verdict = consent_judge.judge(settings, wav, challenge.statement, challenge.phrase, ref)
        finally:
            wav.unlink(missing_ok=True)
        verdict = _consume(session, challenge, verdict)
    record = ConsentRecord(
        dataset_name=dataset.name,
        status=verdict.status,
        code=verdict.code,
        reason=verdict.reason,
        challenge_id=challenge.id if challenge else None,
        speaker_name=challenge.speaker_name if challenge else None,
        statement=challenge.statement if challenge else None,
        heard=verdict.heard,
        cer=verdict.cer,
        similarity=verdict.similarity,
        threshold=verdict.threshold,
        sha256=digest,
        created_by=admin,
    )
    _keep(session, settings, record, audio, decoded.source_format)
    return record


def _challenge(
    session: Session, dataset: Dataset, challenge_id: str | None
) -> ConsentChallenge | None:
    """The challenge named, else the dataset's newest one (none from a deleted namesake)."""
    if challenge_id:
        found = session.get(ConsentChallenge, challenge_id)
        if (
            found is None
            or found.dataset_name != dataset.name
            or found.created_at < dataset.created_at
        ):
            raise NotFound(f"dataset '{dataset.name}' has no consent challenge '{challenge_id}'")
        return found
    query = select(ConsentChallenge).where(ConsentChallenge.dataset_name == dataset.name)
    newest = session.scalars(query.order_by(ConsentChallenge.created_at.desc())).first()
    if newest is None or newest.created_at < dataset.created_at:
        return None
    return newest


def _unusable(challenge: ConsentChallenge | None) -> Verdict | None:
    """Why the challenge cannot be answered any more, or None while it is open."""
    ask = "ask for a new challenge (POST .../consent/challenge) and record its statement"
    if challenge is None:
        return Verdict("no_challenge", f"there is no open consent challenge; {ask}")
    if challenge.used_at is not None:
        when = f"{challenge.used_at:%Y-%m-%d %H:%M} UTC"
        return Verdict("used", f"this challenge was answered at {when}; a code works once: {ask}")
    if challenge.expires_at <= utcnow():
        when = f"{challenge.expires_at:%Y-%m-%d %H:%M} UTC"
        return Verdict("expired", f"the challenge expired at {when}; {ask}")
    return None


def _consume(session: Session, challenge: ConsentChallenge, verdict: Verdict) -> Verdict:
    """Mark the challenge used, once: a concurrent attempt that came first wins."""
    query = (
        update(ConsentChallenge)
        .where(ConsentChallenge.id == challenge.id, ConsentChallenge.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if session.execute(query).rowcount == 1:
        return verdict
    session.rollback()
    session.refresh(challenge)
    return _unusable(challenge) or verdict


def _keep(
    session: Session, settings: Settings, record: ConsentRecord, audio: BinaryIO, fmt: str
) -> None:
    """Commit the record with the upload's bytes kept as <data_dir>/consent/<id>.<format>."""
    session.add(record)
    session.flush()  # the id names the file
    folder = settings.data_dir / CONSENT_DIR
    suffix = fmt if _FORMAT.fullmatch(fmt) else "bin"
    target = folder / f"{record.id}.{suffix}"
    audio.seek(0)
    temporary = write_temp(folder, lambda handle: shutil.copyfileobj(audio, handle))
    try:
        os.replace(temporary, target)
        fsync_dir(folder)
        record.recording = target.name
        _audit(session, record, audit.Action.CONSENT)
        session.commit()
    except BaseException:
        temporary.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        session.rollback()
        raise


def recording_path(settings: Settings, record: ConsentRecord) -> Path | None:
    """Where a record's recording is kept."""
    return settings.data_dir / CONSENT_DIR / record.recording if record.recording else None


def records(*, session: Session, dataset_name: str) -> list[ConsentRecord]:
    """Every consent record of a dataset name, newest first, deleted datasets' included."""
    name = validate_dataset_name(dataset_name)
    query = select(ConsentRecord).where(ConsentRecord.dataset_name == name)
    return list(session.scalars(query.order_by(ConsentRecord.id.desc())))


def consent_of(*, session: Session, dataset: Dataset) -> ConsentRecord | None:
    """The dataset's newest verified recording, made since the dataset was created."""
    query = select(ConsentRecord).where(
        ConsentRecord.dataset_name == dataset.name, ConsentRecord.status == VERIFIED
    )
    newest = session.scalars(query.order_by(ConsentRecord.id.desc())).first()
    # A dataset deleted and made again under its name starts without its namesake's consent.
    if newest is None or newest.created_at < dataset.created_at:
        return None
    return newest


def gate(
    *, session: Session, settings: Settings, name: str, override_reason: str | None
) -> list[str]:
    """The warnings consent adds to a new job; Conflict under `require` without an override."""
    dataset = get_dataset(session=session, name=name)
    if settings.consent == "off" or dataset is None or consent_of(session=session, dataset=dataset):
        return []
    missing = f"dataset '{name}' has no verified consent from its speaker"
    if override_reason:
        return [f"{missing}; started by an admin's override: {override_reason}"]
    if settings.consent == "require":
        raise Conflict(
            f"{missing}, and VOICESMITH_CONSENT=require: {how_to(name)}; or start with a "
            "consent_override_reason, which is audited"
        )
    return [f"{missing}: {how_to(name)}"]


def note_override(*, session: Session, job: Job, reason: str, admin: str | None) -> None:
    """Audit a job started with a consent override: on the job, as a consent record and a row."""
    job.consent_override_reason, job.consent_override_by = reason, admin
    record = ConsentRecord(
        dataset_name=job.dataset_name,
        status=OVERRIDE,
        code=OVERRIDE,
        reason=reason,
        job_id=job.id,
        created_by=admin,
    )
    session.add(record)
    session.flush()
    _audit(session, record, audit.Action.CONSENT_OVERRIDE)
    session.commit()


def _audit(session: Session, record: ConsentRecord, action: audit.Action) -> None:
    """The audit trail's row for a judged recording or an override, in the record's commit."""
    detail = {
        "dataset": record.dataset_name,
        "record_id": record.id,
        "status": record.status,
        "code": record.code,
        "reason": record.reason,
        "cer": record.cer,
        "similarity": record.similarity,
        "sha256": record.sha256,
    }
    audit.record_admin(
        session=session,
        actor=record.created_by,
        action=action,
        # An override arrives by the API, the web form or the command line alike.
        route=None if record.job_id else f"POST {_CONSENT_ROUTE.format(name=record.dataset_name)}",
        job_id=record.job_id,
        detail={key: value for key, value in detail.items() if value is not None},
    )


def overview(*, session: Session, dataset_name: str) -> tuple[bool, list[ConsentRecord]]:
    """Whether the dataset has consent now, and every record under its name."""
    found = records(session=session, dataset_name=dataset_name)
    return current(session=session, dataset_name=dataset_name) is not None, found


def current(*, session: Session, dataset_name: str) -> ConsentRecord | None:
    """The verified record that gives the named dataset consent now, if there is one."""
    dataset = get_dataset(session=session, name=validate_dataset_name(dataset_name))
    return consent_of(session=session, dataset=dataset) if dataset is not None else None
