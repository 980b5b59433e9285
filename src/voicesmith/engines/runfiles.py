"""A job's run folder: the name of every file in it, and how each is read and written.

Torch-free, so the API process, the worker and the training child all ask this module; no
other module spells these names.

Fencing: each claim of a job is one attempt, and the worker writes its number into the
folder's `attempt` file. A process that holds a folder for an attempt (hold()) has every
write below checked against that file first: once a newer attempt took the job over, the
write is refused, and the training child exits without writing at all.
"""

import json
import math
import os
import re
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from voicesmith.core.files import atomic_write_text
from voicesmith.engines.base_models import EngineError

RUN_SPEC_FILE = "job.json"
PROGRESS_FILE = "progress.json"
LOG_FILE = "train.log"
METRICS_FILE = "metrics.jsonl"
SAMPLES_DIR = "samples"
CONFIG_FILE = "config.json"
FINETUNE_CONFIG_FILE = "finetune_config.json"
DEFAULT_CHECKPOINT = "best_model.pth"
ONNX_FILE = "model.onnx"
INT8_ONNX_FILE = "model.int8.onnx"
SCORES_FILE = "checkpoints.json"
SPEAKER_FILE = "speaker.json"
SNAPSHOT_DIR = "dataset"
SNAPSHOT_MANIFEST = "snapshot.json"
PHONEME_CACHE_DIR = "phoneme_cache"
ATTEMPT_FILE = "attempt"  # the job's current attempt, written by the worker that claimed it
# Beside each checkpoint, the attempt that saved it: attempt-checkpoint_4 for checkpoint_4.pth.
# The name must match neither "checkpoint_*" (Coqui's rotation globs that and deletes the first
# of what it finds, which was once the checkpoint itself), "*.pth" nor a temporary ".*" name.
STAMP_PREFIX = "attempt-"
ESTIMATE_FILE = "estimate.json"  # what a dry run (engines/training/probe.py) measured
TRAINER_RUN_NAME = "run"  # the Trainer's own folder inside the run folder, until publish
CHECKPOINT_RE = re.compile(r"^(checkpoint|best_model)_(\d+)\.pth$")
SAMPLE_RE = re.compile(r"step_(\d+)_(\d+)\.wav")
# The training child's exit status when memory ran out: the worker may continue the job
# with a smaller batch. progress.json's "out_of_memory" says at which step and batch size.
EXIT_OUT_OF_MEMORY = 75
# The training child's exit status when a newer attempt took its job over; it wrote nothing.
EXIT_STALE = 76
REQUIRED_FIELDS = ("job_id", "dataset_dir", "base_model", "epochs", "batch_size")
# Reading this many bytes per wanted line from the end of train.log is almost always enough.
LOG_BYTES_PER_LINE = 400


class RunFilesError(EngineError):
    """job.json or the run folder is unusable; the message is for people."""


@dataclass(frozen=True)
class RunSpec:
    """The fields of job.json: everything the training child needs to know."""

    job_id: str
    dataset_dir: Path
    base_model: str
    models_dir: Path
    epochs: int
    batch_size: int
    learning_rate: float | None = None
    eval_split: float | None = None
    save_every_steps: int | None = None
    test_sentences: list[str] | None = None
    resume: bool = False
    keep_checkpoints: int = 2
    seed: int | None = None
    # Where the speech recognition model is, to measure how intelligible the samples are.
    asr_model: str | None = None
    asr_threads: int = 2
    asr_compute_type: str = "int8"
    # The dataset's speaker, frozen at submit: samples are scored for likeness against it.
    speaker_centroid: list[float] | None = None
    real_similarity: float | None = None
    scoring: bool = True
    score_budget: float = 0.15  # scoring may take at most this share of the training time
    early_stop_patience: int = 0  # scored evaluations without a better checkpoint; 0 is off
    max_steps: int | None = None  # with epochs "auto": train until early stopping or this
    # Each step's batch is split in this many parts, each backpropagated before one update:
    # the worker raises it when it halves batch_size after running out of memory.
    grad_accum_steps: int = 1
    memory_limit_mb: int | None = None  # the data memory cap on CPU hosts; None is none
    int8: bool = True  # make model.int8.onnx after the export
    figures: bool = True  # TensorBoard's spectrogram and alignment figures; scalars always
    attempt: int | None = None  # the claim this run is; None for a child started by hand


class StaleAttempt(RunFilesError):
    """A write of an attempt that a newer one took over; the folder is the new attempt's."""


# The folders this process writes as one attempt; how a stale child reacts (it exits).
_held: dict[Path, int] = {}
_held_lock = threading.Lock()
_exit_when_stale = False


def start_attempt(job_dir: Path, attempt: int) -> None:
    """Make `attempt` the job's current one (the worker, at claim), and hold the folder for it."""
    job_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(job_dir / ATTEMPT_FILE, f"{attempt}\n")
    hold(job_dir, attempt)


def current_attempt(job_dir: Path) -> int | None:
    """The job's current attempt from its folder; None before any claim wrote one."""
    try:
        return int((job_dir / ATTEMPT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def hold(job_dir: Path, attempt: int, *, exit_when_stale: bool = False) -> None:
    """Write job_dir as `attempt` from now on; exit_when_stale is for the training child."""
    global _exit_when_stale
    with _held_lock:
        _held[job_dir.absolute()] = attempt
    _exit_when_stale = _exit_when_stale or exit_when_stale


def release(job_dir: Path, attempt: int) -> None:
    """Stop holding job_dir, unless a later claim in this process holds it now."""
    with _held_lock:
        if _held.get(job_dir.absolute()) == attempt:
            del _held[job_dir.absolute()]


def check(path: Path) -> None:
    """Refuse a write under a held folder whose attempt is no longer the current one."""
    for folder, attempt in list(_held.items()):
        if path.absolute().is_relative_to(folder):
            current = current_attempt(folder)
            if current is not None and current != attempt:
                _stale(folder, attempt, current)


def _stale(folder: Path, attempt: int, current: int) -> None:
    """Exit at once (the training child) or raise StaleAttempt (a worker's thread)."""
    if _exit_when_stale:
        # Not sys.exit: unwinding would run the Trainer's handlers, which save and log.
        os._exit(EXIT_STALE)
    raise StaleAttempt(f"attempt {attempt} of {folder.name} was taken over by attempt {current}")


def write_spec(job_dir: Path, spec: dict[str, Any]) -> None:
    """Write job.json for the training child."""
    check(job_dir)
    atomic_write_text(job_dir / RUN_SPEC_FILE, json.dumps(spec, indent=2))


def load_spec(job_dir: Path) -> RunSpec:
    """Read and check job.json."""
    path = job_dir / RUN_SPEC_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunFilesError(f"cannot read {path}: {exc}") from exc
    missing = [name for name in REQUIRED_FIELDS if raw.get(name) is None]
    if missing:
        raise RunFilesError(f"{RUN_SPEC_FILE} lacks {', '.join(missing)}")
    fields = {k: v for k, v in raw.items() if k in RunSpec.__dataclass_fields__ and v is not None}
    fields["dataset_dir"] = Path(raw["dataset_dir"])
    fields["models_dir"] = Path(raw.get("models_dir") or job_dir / "models")
    spec = RunSpec(**fields)
    if min(spec.epochs, spec.batch_size, spec.keep_checkpoints) < 1:
        raise RunFilesError("epochs, batch_size and keep_checkpoints must be at least 1")
    if not (spec.dataset_dir / "metadata.csv").is_file():
        raise RunFilesError(f"{spec.dataset_dir} holds no metadata.csv")
    return spec


def spec_attempt(job_dir: Path) -> int | None:
    """The attempt job.json was written for; None for none (or an unreadable job.json)."""
    try:
        attempt = json.loads((job_dir / RUN_SPEC_FILE).read_text(encoding="utf-8"))["attempt"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return attempt if isinstance(attempt, int) else None


def write_progress(job_dir: Path, state: dict[str, Any]) -> None:
    """Replace progress.json."""
    check(job_dir)
    atomic_write_text(job_dir / PROGRESS_FILE, json.dumps(state))


def read_progress(job_dir: Path) -> dict[str, Any] | None:
    """The latest progress.json, or None while there is none (or it cannot be read)."""
    try:
        return json.loads((job_dir / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_estimate(job_dir: Path, estimate: dict[str, Any]) -> None:
    """Replace estimate.json, the dry run's answer."""
    check(job_dir)
    atomic_write_text(job_dir / ESTIMATE_FILE, json.dumps(estimate, indent=1))


def read_estimate(job_dir: Path) -> dict[str, Any] | None:
    """The dry run's estimate.json, or None when it wrote none (or it cannot be read)."""
    try:
        found = json.loads((job_dir / ESTIMATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def append_metric(job_dir: Path, point: dict[str, Any]) -> None:
    """Add one step's line to metrics.jsonl."""
    check(job_dir)
    with (job_dir / METRICS_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(point) + "\n")


def drop_metrics_after(job_dir: Path, step: int) -> None:
    """Forget metrics of steps that will be trained again (after a crash, or a fresh start)."""
    path = job_dir / METRICS_FILE
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if _line_step(line) <= step]
    if len(kept) != len(lines):
        check(job_dir)
        atomic_write_text(path, "".join(kept))


def _line_step(line: str) -> float:
    """The step of a metrics.jsonl line; infinity for a line cut off by a kill."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


def read_metrics(job_dir: Path, *, after: int) -> list[dict[str, Any]]:
    """The per-step losses logged after a step, as {step, losses}, oldest first."""
    path = job_dir / METRICS_FILE
    if not path.is_file():
        return []
    points = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        point = _parse_metric(line)
        if point is not None and point["step"] > after:
            points.append(point)
    return points


def _parse_metric(line: str) -> dict[str, Any] | None:
    """One metrics line as {step, losses}; None for a line cut off by a kill."""
    try:
        raw = json.loads(line)
        losses = {k: float(v) for k, v in (raw.get("losses") or {}).items()}
        return {"step": int(raw["step"]), "losses": losses}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def sample_name(step: int, index: int | str) -> str:
    """The file name of test sentence `index` spoken at `step`."""
    return f"step_{step:06d}_{index}.wav"


def list_samples(job_dir: Path) -> list[dict[str, Any]]:
    """The audio written at each evaluation, as {name, step, index}, by step."""
    folder = job_dir / SAMPLES_DIR
    found = []
    for path in folder.glob("step_*.wav") if folder.is_dir() else ():
        match = SAMPLE_RE.fullmatch(path.name)
        if match:
            found.append({"name": path.name, "step": int(match[1]), "index": int(match[2])})
    return sorted(found, key=lambda s: (s["step"], s["index"]))


def sample_path(job_dir: Path, name: str) -> Path | None:
    """The file of one sample; None unless it is a plain name that the run wrote."""
    path = job_dir / SAMPLES_DIR / name
    return path if SAMPLE_RE.fullmatch(name) and path.is_file() else None


def write_scores(job_dir: Path, scores: dict[str, Any]) -> None:
    """Replace checkpoints.json: {promoted, checkpoints: [{step, file, eval_loss, cer, ...}]}."""
    check(job_dir)
    atomic_write_text(job_dir / SCORES_FILE, json.dumps(scores, indent=1))


def read_scores(job_dir: Path) -> dict[str, Any]:
    """checkpoints.json; an empty record while there is none (or it cannot be read)."""
    try:
        found = json.loads((job_dir / SCORES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    return found if isinstance(found, dict) else {"promoted": None, "checkpoints": []}


def write_override(job_dir: Path, step: int) -> None:
    """Record an admin's choice of checkpoint, which the promotion rule then yields to."""
    record = read_scores(job_dir)
    record["override"] = record["promoted"] = step
    write_scores(job_dir, record)


def find_checkpoint(job_dir: Path, step: int) -> Path | None:
    """checkpoint_<step>.pth in the job folder, or in the Trainer's folder while it trains."""
    name = checkpoint_path(job_dir, step).name
    # The Trainer's folder is named run-<date>; it moves up into job_dir when training ends.
    found = [job_dir / name, *job_dir.glob(f"{TRAINER_RUN_NAME}-*/{name}")]
    return next((path for path in found if path.is_file()), None)


def write_speaker(job_dir: Path, speaker: dict[str, Any]) -> None:
    """Freeze the dataset's speaker (centroid and real_similarity) into the job folder."""
    check(job_dir)
    atomic_write_text(job_dir / SPEAKER_FILE, json.dumps(speaker))


def read_speaker(job_dir: Path) -> dict[str, Any]:
    """The frozen speaker: {speaker_centroid, real_similarity}, or {} without one."""
    try:
        return json.loads((job_dir / SPEAKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def checkpoint_path(job_dir: Path, step: int) -> Path:
    """checkpoint_<step>.pth in the job folder."""
    return step_checkpoints(job_dir, step)[1]


def log_path(job_dir: Path) -> Path:
    """<job_dir>/train.log."""
    return job_dir / LOG_FILE


def open_log(job_dir: Path) -> BinaryIO:
    """train.log opened for appending bytes, as the training child's stdout."""
    check(job_dir)
    return log_path(job_dir).open("ab")


def append_log(job_dir: Path, lines: list[str]) -> None:
    """Add lines of text to train.log."""
    check(job_dir)
    with log_path(job_dir).open("a", encoding="utf-8") as log:
        for line in lines:
            log.write(f"{line}\n")


def append_log_bytes(log: BinaryIO, job_dir: Path, data: bytes) -> None:
    """Add raw output to an open train.log, if this attempt still owns the folder."""
    check(job_dir)
    log.write(data)
    log.flush()


def log_tail(job_dir: Path, lines: int) -> str:
    """The last lines of train.log, read from the end of the file."""
    path = log_path(job_dir)
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - lines * LOG_BYTES_PER_LINE))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def has_model(job_dir: Path) -> bool:
    """Whether the folder holds a usable model: config.json and a best_model*.pth."""
    return (job_dir / CONFIG_FILE).is_file() and any(job_dir.glob("best_model*.pth"))


def longest_clip_seconds(job_dir: Path) -> float:
    """Seconds of the longest clip in the job's dataset (0.0 when none can be read)."""
    try:
        dataset = Path(json.loads((job_dir / RUN_SPEC_FILE).read_text("utf-8"))["dataset_dir"])
        wavs = list((dataset / "wavs").glob("*.wav"))
    except (OSError, ValueError, KeyError):
        return 0.0
    return max((_wav_seconds(path) for path in wavs), default=0.0)


def _wav_seconds(path: Path) -> float:
    """A WAV's duration from its header; 0.0 when it does not open."""
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


def has_checkpoint(job_dir: Path) -> bool:
    """Whether a resume has a checkpoint_<step>.pth to continue from, anywhere in the folder."""
    return any(job_dir.rglob("checkpoint_*.pth"))


def checkpoint_step(path: Path) -> int:
    """The step in checkpoint_<n>.pth or best_model_<n>.pth; -1 for other names."""
    match = CHECKPOINT_RE.match(path.name)
    return int(match.group(2)) if match else -1


def stamp_checkpoint(path: Path) -> None:
    """Record which attempt saves the checkpoint at path, just before it is put in place."""
    for folder, attempt in list(_held.items()):
        if path.absolute().is_relative_to(folder):
            check(path)
            atomic_write_text(stamp_path(path), f"{attempt}\n")


def checkpoint_attempt(path: Path) -> int:
    """The attempt that saved a checkpoint; 0 for one saved before attempts were stamped."""
    try:
        return int(stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0


def stamp_path(checkpoint: Path) -> Path:
    """Where the attempt that saved a checkpoint is written."""
    return checkpoint.with_name(STAMP_PREFIX + checkpoint.stem)


def is_stamp(path: Path) -> bool:
    """Whether path is a checkpoint's attempt stamp."""
    return path.name.startswith(STAMP_PREFIX) and not path.suffix


def checkpoint_files(path: Path) -> list[Path]:
    """A checkpoint and its attempt stamp, for moving or deleting them together."""
    stamp = stamp_path(path)
    return [path, stamp] if stamp.exists() else [path]


def step_checkpoints(folder: Path, step: int) -> tuple[Path, Path]:
    """The best model saved at step, and the checkpoint a resume continues from."""
    return folder / f"best_model_{step}.pth", folder / f"checkpoint_{step}.pth"


def write_config(folder: Path, config_json: str) -> None:
    """Write the Coqui config.json that every checkpoint in folder is loaded with."""
    check(folder)
    atomic_write_text(folder / CONFIG_FILE, config_json)


def write_finetune_config(job_dir: Path, config_json: str) -> None:
    """Write finetune_config.json: the run's config with the snapshot it trained on."""
    check(job_dir)
    atomic_write_text(job_dir / FINETUNE_CONFIG_FILE, config_json)


def read_snapshot_manifest(dataset_dir: Path) -> Any | None:
    """The snapshot.json beside a frozen dataset, or None for a live dataset."""
    manifest = dataset_dir / SNAPSHOT_MANIFEST
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8"))


def model_language(job_dir: Path) -> str:
    """The language a job's voice speaks, from its config.json; 'en' when it does not say."""
    try:
        config = json.loads((job_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "en"
    datasets = config.get("datasets") or [{}]
    language = datasets[0].get("language") or config.get("phoneme_language") or "en"
    return str(language)
