"""Every evaluation scored, live: ASR CER, speaker likeness and eval loss, within a time budget.

Scored after the Trainer's evaluation and test sentences (samples are spoken with a fixed
seed and no noise, so two checkpoints differ only by their weights). Each scored evaluation
saves its checkpoint, so the promotion rule (engines/scores.py) can pick any of them.
"""

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicesmith.core.text import cer
from voicesmith.engines import asr, runfiles, scores, speaker
from voicesmith.engines.runfiles import RunSpec
from voicesmith.engines.training.progress import Progress

if TYPE_CHECKING:
    from trainer import Trainer


class EarlyStop(Exception):  # noqa: N818 - a signal, not an error
    """Raised after an evaluation when patience ran out; the message is the reason."""


class Scorer:
    """Scores evaluations into checkpoints.json and keeps the best checkpoints on disk."""

    def __init__(self, spec: RunSpec, job_dir: Path, sentences: list[str], progress: Progress):
        self.spec, self.job_dir, self.sentences, self.progress = spec, job_dir, sentences, progress
        self.record = runfiles.read_scores(job_dir)  # a resumed run keeps its earlier scores
        self.centroid = np.asarray(spec.speaker_centroid) if spec.speaker_centroid else None
        self.asr_model: Any = None
        self.started = time.monotonic()
        self.spent = self.last_cost = 0.0
        self.skipped = 0
        if spec.scoring and self.centroid is None:
            print("scoring: the dataset has no speaker centroid; similarity will be null")

    def evaluated(self, trainer: "Trainer", *, final: bool) -> None:
        """Score the evaluation just run if the budget allows (always the final one)."""
        step = trainer.total_steps_done
        done = {c["step"] for c in self.record["checkpoints"]}
        if not self.spec.scoring or step in done:
            return
        training = time.monotonic() - self.started - self.spent
        if not final and self.spent + self.last_cost > self.spec.score_budget * training:
            self.skipped += 1
            print(f"scoring: skipped step {step} to stay within the time budget")
            return
        began = time.monotonic()
        entry = self._score(trainer, step)
        trainer.save_checkpoint()
        self._add(entry, Path(trainer.output_path))
        self.last_cost = time.monotonic() - began
        self.spent += self.last_cost
        self._report(entry, training)
        self._check_patience(final)

    def _score(self, trainer: "Trainer", step: int) -> dict[str, Any]:
        """One checkpoint's scores from the samples of the evaluation at step."""
        samples = [p for p in _samples_at(self.job_dir, step) if p[0] < len(self.sentences)]
        similarity = self._similarity([path for _, path in samples])
        real = self.spec.real_similarity
        loss = trainer._pick_target_avg_loss(trainer.keep_avg_eval)  # noqa: SLF001 - Coqui's own
        return {
            "step": step,
            "file": runfiles.checkpoint_path(Path("."), step).name,
            "eval_loss": None if loss is None else round(float(loss), 5),
            "cer": self._cer(samples),
            "similarity": similarity,
            "relative_similarity": round(similarity / real, 4) if similarity and real else None,
            "samples": [path.name for _, path in samples],
        }

    def _cer(self, samples: list[tuple[int, Path]]) -> float | None:
        """The mean ASR character error rate of the samples; None without a speech model."""
        if not samples or not self.spec.asr_model:
            return None
        if self.asr_model is None:
            spec = self.spec
            self.asr_model = asr.open_model(spec.asr_model, spec.asr_threads, spec.asr_compute_type)
        heard = [asr.recognise_with(self.asr_model, path).text for _, path in samples]
        rates = [cer(self.sentences[n], text) for (n, _), text in zip(samples, heard, strict=True)]
        return round(statistics.fmean(rates), 4)

    def _similarity(self, paths: list[Path]) -> float | None:
        """Cosine of the samples' mean embedding to the dataset's centroid; None if unknown."""
        if self.centroid is None or not paths:
            return None
        vectors = [v for v in (_embed(p) for p in paths) if v is not None]
        if not vectors:
            return None
        return round(speaker.cosine(speaker.centroid(np.stack(vectors)), self.centroid), 4)

    def _add(self, entry: dict[str, Any], run_dir: Path) -> None:
        """Record the entry, promote by the rule, and delete checkpoints the rule drops."""
        self.record["checkpoints"].append(entry)
        # An admin may have promoted a checkpoint while this run trains: that choice stands.
        override = runfiles.read_scores(self.job_dir).get("override")
        self.record["override"] = override
        self.record["promoted"] = scores.chosen(self.record)
        runfiles.write_scores(self.job_dir, self.record)
        kept = self.spec.keep_checkpoints
        keep = scores.to_keep(self.record["checkpoints"], kept, entry["step"], override)
        for folder in {run_dir, self.job_dir}:
            for path in folder.glob("checkpoint_*.pth"):
                if runfiles.checkpoint_step(path) not in keep:
                    for doomed in runfiles.checkpoint_files(path):
                        doomed.unlink(missing_ok=True)

    def _report(self, entry: dict[str, Any], training: float) -> None:
        """Say what was scored and what scoring has cost, in the log and in progress."""
        share = 100 * self.spent / training if training > 0 else 0.0
        print(
            f"scored step {entry['step']}: cer {entry['cer']}, similarity {entry['similarity']}, "
            f"relative {entry['relative_similarity']}, eval_loss {entry['eval_loss']}; "
            f"took {self.last_cost:.1f} s, {self.spent:.1f} s in all ({share:.0f}% of training); "
            f"promoted step {self.record['promoted']}"
        )
        self.progress.state["scoring"] = {
            "promoted": self.record["promoted"],
            "scored": len(self.record["checkpoints"]),
            "skipped": self.skipped,
            "seconds": round(self.spent, 2),
            "share": round(share / 100, 4),
        }
        self.progress.write()

    def _check_patience(self, final: bool) -> None:
        """Raise EarlyStop when `early_stop_patience` evaluations brought nothing better."""
        patience = self.spec.early_stop_patience
        waited = scores.evaluations_since_best(self.record["checkpoints"])
        if patience and not final and waited >= patience:
            best = self.record["promoted"]
            raise EarlyStop(f"no better checkpoint in {waited} evaluations after step {best}")


def _samples_at(job_dir: Path, step: int) -> list[tuple[int, Path]]:
    """The (sentence number, file) samples written at step."""
    found = [s for s in runfiles.list_samples(job_dir) if s["step"] == step]
    return [(s["index"], job_dir / runfiles.SAMPLES_DIR / s["name"]) for s in found]


def _embed(path: Path) -> np.ndarray | None:
    """A sample's speaker embedding; None for silence. Short samples are embedded whole."""
    samples = speaker.read_16k(path)
    try:
        return speaker.embed(samples)
    except speaker.Unembeddable:
        if not len(samples) or float(np.max(np.abs(samples))) == 0.0:
            return None
        # An early checkpoint mumbles: too short for the clip rule, still worth a likeness.
        vector = speaker.load().embed_utterance(samples.astype(np.float32))
        return vector / np.linalg.norm(vector)
