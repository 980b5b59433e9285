"""How intelligible a job's samples are: ASR hears each test sentence, CER against its text."""

import statistics
from collections import defaultdict
from pathlib import Path

from voicesmith.core.text import cer
from voicesmith.engines import asr, runfiles
from voicesmith.engines.runfiles import RunSpec
from voicesmith.engines.training.progress import Progress

# Older evaluations matter less, and each costs a recognition per sentence.
MAX_STEPS = 10


def measure(spec: RunSpec, job_dir: Path, sentences: list[str]) -> dict[int, float]:
    """Mean CER of each evaluation's samples, by step; empty without samples or a model."""
    by_step = _samples(job_dir, len(sentences))
    if not by_step or not spec.asr_model:
        return {}
    model = asr.open_model(spec.asr_model, spec.asr_threads, spec.asr_compute_type)
    steps = sorted(by_step)[-MAX_STEPS:]
    return {step: _step_cer(model, by_step[step], sentences) for step in steps}


def _samples(job_dir: Path, count: int) -> dict[int, dict[int, Path]]:
    """The run's samples grouped by step, then by sentence number."""
    found: dict[int, dict[int, Path]] = defaultdict(dict)
    for sample in runfiles.list_samples(job_dir):
        if sample["index"] < count:
            path = job_dir / runfiles.SAMPLES_DIR / sample["name"]
            found[sample["step"]][sample["index"]] = path
    return dict(found)


def _step_cer(model: object, samples: dict[int, Path], sentences: list[str]) -> float:
    """The mean CER of one evaluation's samples against the sentences they speak."""
    rates = [
        cer(sentences[n], asr.recognise_with(model, path).text)  # type: ignore[arg-type]
        for n, path in sorted(samples.items())
    ]
    return round(statistics.fmean(rates), 4)


def record(spec: RunSpec, job_dir: Path, sentences: list, progress: Progress) -> None:
    """Put the samples' CER into progress.json; a failure here never fails the job."""
    texts = [s if isinstance(s, str) else s[0] for s in sentences]
    try:
        by_step = measure(spec, job_dir, texts)
    except Exception as exc:  # the model is trained and saved; this number is a bonus
        print(f"WARNING: could not measure intelligibility: {type(exc).__name__}: {exc}")
        return
    if _store(by_step, progress):
        latest = max(by_step)
        print(f"intelligibility: ASR character error rate {by_step[latest]:.3f} at step {latest}")


def record_scores(job_dir: Path, progress: Progress) -> None:
    """Copy the scored evaluations' CER into progress.json, as record() does for unscored runs."""
    by_step = {c["step"]: c["cer"] for c in runfiles.read_scores(job_dir)["checkpoints"]}
    _store({step: value for step, value in by_step.items() if value is not None}, progress)


def _store(by_step: dict[int, float], progress: Progress) -> bool:
    """Put the CER by step, and the latest, into progress.json; False when there is none."""
    if not by_step:
        return False
    latest = max(by_step)
    progress.state["intelligibility_cer"] = by_step[latest]
    progress.state["intelligibility_by_step"] = {str(step): v for step, v in by_step.items()}
    progress.write()
    return True
