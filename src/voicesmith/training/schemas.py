"""Request and response bodies for training jobs."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class StartRequest(BaseModel):
    """The seed's start body plus the optional knobs."""

    dataset_name: str = Field(max_length=256)
    epochs: int = Field(default=10, ge=1, description="passes over the dataset")
    batch_size: int = Field(default=4, ge=1, description="clips per training step")
    base_model: str | None = Field(default=None, max_length=2048)
    learning_rate: float | None = Field(default=None, gt=0, le=1)
    eval_split: float | None = Field(default=None, gt=0, lt=0.5)
    save_every_steps: int | None = Field(default=None, ge=1, le=10_000_000)
    test_sentences: list[str] | None = Field(default=None, max_length=10)


class StartResponse(BaseModel):
    """The seed's start answer, plus any warnings about the data."""

    status: Literal["accepted"] = "accepted"
    job_id: str
    output_dir: str
    warnings: list[str] = []


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
    warnings: list[str] | None
    worker_id: str | None = None
    gpus: str | None = None
    can_resume: bool = False


class JobList(BaseModel):
    """The seed's job list answer."""

    status: Literal["ok"] = "ok"
    jobs: list[JobOut]
