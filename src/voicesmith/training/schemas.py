"""Request and response bodies for training jobs."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

MIN_OVERRIDE_CHARS = 10


def written_reason(reason: str | None) -> str | None:
    """A consent override's reason on one line, at least MIN_OVERRIDE_CHARS long; blank: none."""
    text = " ".join((reason or "").split())
    if text and len(text) < MIN_OVERRIDE_CHARS:
        raise ValueError(
            f"consent_override_reason must say why, in at least {MIN_OVERRIDE_CHARS} characters"
        )
    return text or None


class StartRequest(BaseModel):
    """The seed's start body plus the optional knobs."""

    dataset_name: str = Field(max_length=256)
    epochs: int | Literal["auto"] = Field(
        default=10,
        description='passes over the dataset, or "auto": until the score stops improving',
    )
    batch_size: int = Field(default=4, ge=1, description="clips per training step")
    base_model: str | None = Field(default=None, max_length=2048)
    learning_rate: float | None = Field(default=None, ge=0, le=1)
    eval_split: float | None = Field(default=None, gt=0, lt=0.5)
    save_every_steps: int | None = Field(default=None, ge=1, le=10_000_000)
    test_sentences: list[str] | None = Field(default=None, max_length=10)
    early_stop_patience: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="scored evaluations without a better checkpoint before stopping; 0: off; "
        'default 3 with epochs "auto", else 0',
    )
    max_steps: int | None = Field(
        default=None, ge=1, le=10_000_000, description='the bound of epochs "auto"; default 5000'
    )
    consent_override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="why this job may train without the speaker's verified consent; "
        "audited. Needed under VOICESMITH_CONSENT=require when the dataset has none",
    )

    @field_validator("consent_override_reason")
    @classmethod
    def _written_reason(cls, reason: str | None) -> str | None:
        """A reason someone wrote; blank means none."""
        return written_reason(reason)

    @field_validator("epochs", mode="before")
    @classmethod
    def _whole_or_auto(cls, epochs: object) -> int | str:
        """A whole number of epochs, at least one (also as form text), or "auto"."""
        # Before the union's own check, so a bad value gets one sentence, not one per member.
        if epochs == "auto":
            return "auto"
        text = str(epochs).strip()
        if isinstance(epochs, bool) or not text.isdigit() or int(text) < 1:
            raise ValueError('epochs must be a whole number of at least 1, or "auto"')
        return int(text)


class StartResponse(BaseModel):
    """The seed's start answer, plus any warnings about the data."""

    status: Literal["accepted"] = "accepted"
    job_id: str
    output_dir: str
    warnings: list[str] = []


class EstimateOut(BaseModel):
    """A dry run: its status, and once measured what the job would take and need."""

    estimate_id: str | None = None
    status: Literal["queued", "running", "done", "failed"]
    dataset_name: str | None = None
    detail: str | None = Field(default=None, description="why a failed dry run has no answer")
    source: Literal["measured", "stored"] | None = Field(
        default=None,
        description="measured now, or stored: an earlier measurement of the same settings, "
        "answered at once while a job holds the worker",
    )
    measured_at: datetime | None = None
    device: str | None = None
    seconds_per_step: float | None = None
    steps_per_epoch: int | None = None
    total_steps: int | None = None
    estimated_seconds: float | None = Field(default=None, description="the training time")
    peak_memory_mb: int | None = None
    memory_limit_mb: int | None = None
    fits: bool | None = Field(default=None, description="whether the batch size fits in memory")
    suggested_batch_size: int | None = Field(
        default=None, description="the largest batch (halving from the asked one) that fits"
    )
    batch_size: int | None = None
    probe_seconds: float | None = None


class JobOut(BaseModel):
    """A job in the seed's list shape plus progress and details."""

    job_id: str
    created_at: datetime
    status: str
    has_model: bool
    log_file: str
    dataset_name: str
    progress: dict[str, Any] | None
    error: str | None
    params: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None
    device: str | None
    attempts: int
    # How many times a worker claimed the job; the fencing token of its current run.
    attempt: int = 0
    warnings: list[str] | None
    worker_id: str | None = None
    gpus: str | None = None
    can_resume: bool = False
    consent_override_reason: str | None = None
    consent_override_by: str | None = None


class JobList(BaseModel):
    """The seed's job list answer."""

    status: Literal["ok"] = "ok"
    jobs: list[JobOut]


class CheckpointOut(BaseModel):
    """One scored checkpoint; a score is null where it could not be measured."""

    step: int
    file: str
    eval_loss: float | None
    cer: float | None
    similarity: float | None
    relative_similarity: float | None
    kept: bool
    samples: list[str]


class CheckpointList(BaseModel):
    """A job's scored checkpoints and the step its voice speaks with."""

    promoted: int | None
    rule: int | None = Field(description="the step the promotion rule picks, an override aside")
    checkpoints: list[CheckpointOut]

    @classmethod
    def of(cls, found: dict[str, Any], samples_url: str) -> "CheckpointList":
        """The service's record with each sample as a URL under samples_url."""
        for entry in found["checkpoints"]:
            entry["samples"] = [f"{samples_url}/{name}" for name in entry["samples"]]
        return cls.model_validate(found)


class ChallengeRequest(BaseModel):
    """Who is to read the consent statement."""

    speaker_name: str = Field(max_length=1000, description="the person whose voice it is")


class ChallengeOut(BaseModel):
    """A statement to read aloud, once, before it expires."""

    challenge_id: str
    dataset_name: str
    speaker_name: str
    statement: str
    expires_at: datetime


class ConsentOut(BaseModel):
    """A consent recording's verdict and the figures behind it."""

    record_id: int
    status: Literal["verified", "rejected", "override"]
    code: str | None = Field(
        default=None,
        description="why it was rejected: no_speech, other_speaker, wrong_text, "
        "phrase_missing, expired, used or no_challenge",
    )
    reason: str | None
    cer: float | None = Field(description="ASR's reading against the statement")
    similarity: float | None = Field(description="the recording's speaker against the dataset's")
    threshold: float | None = Field(description="the least similarity that passes")
    heard: str | None = None
    dataset_name: str
    speaker_name: str | None = None
    statement: str | None = None
    sha256: str | None = None
    recording: str | None = None
    job_id: str | None = None
    created_by: str | None = None
    created_at: datetime


class ConsentList(BaseModel):
    """A dataset's consent: whether it counts now, and every record under its name."""

    dataset_name: str
    consent: Literal["off", "warn", "require"]
    has_consent: bool
    records: list[ConsentOut]
