"""The dataset quality report: per-clip metrics and flags, totals and dataset warnings."""

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.datasets import speakers
from voicesmith.datasets.models import Clip, ClipStatus, Dataset
from voicesmith.engines import speaker, vocab

SHORT_SECONDS = 1.0
LONG_SECONDS = 15.0
# A clip spoken this much faster or slower than the dataset's median likely has the wrong text.
RATE_FACTOR = 1.6
MIN_CLIPS_FOR_RATE = 5
CLIPPED_RATIO = 0.001
QUIET_LUFS = -40.0
QUIET_PEAK_DBFS = -30.0
MIN_SPEECH_SHARE = 0.3
MIN_MINUTES = 5.0
LOW_SAMPLE_RATE = 22050
LOUDNESS_SPREAD_LU = 10.0
METRICS = (
    "peak_dbfs",
    "loudness_lufs",
    "clipped_ratio",
    "leading_silence",
    "trailing_silence",
    "snr_db",
)


@dataclass(frozen=True)
class Limits:
    """The settings that decide the ASR flags."""

    mismatch_cer: float = 0.35
    review_confidence: float = 0.45

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        """The limits a deployment set."""
        return cls(settings.asr_mismatch_cer, settings.asr_review_confidence)


def refresh(*, session: Session, settings: Settings, dataset: Dataset) -> dict[str, Any]:
    """Recompute and store the report, each clip's flags and the speaker centroid.

    Call with the dataset lock held.
    """
    clips, report, voices = _compute(session, settings, dataset)
    for clip, entry in zip(clips, report["clips"], strict=True):
        clip.flags = json.dumps(entry["flags"])
    dataset.report = json.dumps(report)
    centroid = voices.centroid
    dataset.speaker_centroid = None if centroid is None else speaker.to_bytes(centroid)
    session.commit()
    return report


def stored(*, session: Session, settings: Settings, dataset: Dataset) -> dict[str, Any]:
    """The stored report; datasets from before reports get theirs at their next change."""
    found = json.loads(dataset.report) if dataset.report is not None else None
    if found is None or "speaker" not in found:  # none yet, or from before speakers
        # GETs run in read-only transactions, so this one is computed, not stored.
        return _compute(session, settings, dataset)[1]
    return found


def _compute(
    session: Session, settings: Settings, dataset: Dataset
) -> tuple[list[Clip], dict[str, Any], speakers.Analysis]:
    """The ready clips, the report on them and their speaker analysis."""
    every = list(
        session.scalars(select(Clip).where(Clip.dataset_id == dataset.id).order_by(Clip.id))
    )
    # Only clips with a transcript are measured; the others are listed by status.
    clips = [c for c in every if c.status == ClipStatus.READY]
    config = text_config(settings=settings)
    voices = speakers.analyse(clips)
    report = build(dataset.name, clips, config, limits=Limits.of(settings), voices=voices)
    report.update(_not_ready(every))
    totals = report["totals"]
    totals.update(pending_clips=len(report["pending"]), failed_clips=len(report["failed"]))
    report["speaker"]["enabled"] = settings.speaker_embeddings
    return clips, report, voices


def text_config(*, settings: Settings) -> dict[str, Any]:
    """The default base model's text settings, for the unknown-character flag."""
    known = vocab.known_text_config(settings.default_base_model, runs_dir=settings.runs_dir)
    # Zoo and URL models are not downloaded to write a report; Coqui's are phoneme models.
    return known if known is not None else vocab.preset_text_config("scratch:full")


def build(
    name: str,
    clips: list[Clip],
    config: dict[str, Any],
    *,
    limits: Limits = Limits(),
    voices: speakers.Analysis | None = None,
) -> dict[str, Any]:
    """The report for these clips, in the API's shape."""
    voices = speakers.analyse(clips) if voices is None else voices
    rates = [r for r in map(chars_per_second, clips) if r is not None]
    median_rate = statistics.median(rates) if len(rates) >= MIN_CLIPS_FOR_RATE else None
    unknown = vocab.unknown_characters(config, {c.wav_filename: c.transcript for c in clips})
    by_clip: dict[str, list[str]] = {}
    for char, names in unknown.items():
        for clip_name in names:
            by_clip.setdefault(clip_name, []).append(char)
    entries = [
        _entry(c, median_rate, "".join(by_clip.get(c.wav_filename, [])), limits, voices)
        for c in clips
    ]
    return {
        "dataset": name,
        "totals": _totals(clips, entries),
        "warnings": _warnings(clips, voices),
        "speaker": speakers.summary(voices),
        "clips": entries,
    }


def chars_per_second(clip: Clip) -> float | None:
    """Letters and digits spoken per second of speech."""
    seconds = clip.speech_seconds if clip.speech_seconds is not None else clip.duration_seconds
    if not seconds or seconds <= 0:
        return None
    return sum(ch.isalnum() for ch in clip.transcript) / seconds


def _not_ready(clips: list[Clip]) -> dict[str, list[dict[str, Any]]]:
    """Clips still being transcribed, and those that could not be, with the reason."""
    return {
        "pending": [{"file": c.wav_filename} for c in clips if c.status == ClipStatus.TRANSCRIBING],
        "failed": [
            {"file": c.wav_filename, "detail": c.asr_detail}
            for c in clips
            if c.status == ClipStatus.FAILED
        ],
    }


def _entry(
    clip: Clip,
    median_rate: float | None,
    unknown: str,
    limits: Limits,
    voices: speakers.Analysis,
) -> dict[str, Any]:
    """One clip's line of the report, with what ASR heard beside the transcript."""
    rate = chars_per_second(clip)
    entry = {
        "file": clip.wav_filename,
        "transcript": clip.transcript,
        "duration_seconds": round(clip.duration_seconds, 3),
        **{key: _rounded(getattr(clip, key)) for key in METRICS},
        "chars_per_second": _rounded(rate),
        "transcript_source": clip.transcript_source,
        "asr_text": clip.asr_text,
        "asr_confidence": _rounded(clip.asr_confidence),
        "cer": _rounded(clip.cer),
        "speaker_similarity": _rounded(voices.similarity.get(clip.id)),
        "flags": _flags(clip, rate, median_rate, unknown, limits, clip.id in voices.outliers),
    }
    if unknown:
        entry["unknown_characters"] = unknown
    return entry


def _flags(
    clip: Clip,
    rate: float | None,
    median: float | None,
    unknown: str,
    limits: Limits,
    outlier: bool,
) -> list[str]:
    """The names of what is wrong with a clip."""
    checks = {
        "rate_mismatch": _off_rate(rate, median),
        "clipping": (clip.clipped_ratio or 0.0) > CLIPPED_RATIO,
        "too_quiet": _too_quiet(clip),
        "mostly_silence": _speech_share(clip) < MIN_SPEECH_SHARE,
        "too_short": clip.duration_seconds < SHORT_SECONDS,
        "too_long": clip.duration_seconds > LONG_SECONDS,
        "unknown_characters": bool(unknown),
        "transcript_mismatch": is_mismatch(clip, limits.mismatch_cer),
        "low_asr_confidence": is_unsure(clip, limits.review_confidence),
        "speaker_outlier": outlier,
    }
    return [name for name, failed in checks.items() if failed]


def is_mismatch(clip: Clip, threshold: float) -> bool:
    """Whether ASR heard something else than the user's transcript says."""
    return clip.transcript_source == "user" and clip.cer is not None and clip.cer > threshold


def is_unsure(clip: Clip, threshold: float) -> bool:
    """Whether ASR wrote the transcript and was not sure of it: a person should listen."""
    confidence = clip.asr_confidence
    if clip.transcript_source != "asr" or clip.reviewed or confidence is None:
        return False
    return confidence < threshold


def _off_rate(rate: float | None, median: float | None) -> bool:
    """Whether the speaking rate is far from the dataset's median."""
    if rate is None or not median:
        return False
    return rate > median * RATE_FACTOR or rate < median / RATE_FACTOR


def _too_quiet(clip: Clip) -> bool:
    """A recording too quiet to train on, before normalisation."""
    if clip.loudness_lufs is not None and clip.loudness_lufs < QUIET_LUFS:
        return True
    return clip.peak_dbfs is not None and clip.peak_dbfs < QUIET_PEAK_DBFS


def _speech_share(clip: Clip) -> float:
    """The part of the original recording that is speech; 1 when it was never measured."""
    if clip.speech_seconds is None:
        return 1.0
    total = clip.speech_seconds + (clip.leading_silence or 0) + (clip.trailing_silence or 0)
    return clip.speech_seconds / total if total > 0 else 0.0


def _totals(clips: list[Clip], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Clip count, minutes and the spread of durations."""
    durations = [c.duration_seconds for c in clips] or [0.0]
    return {
        "clips": len(clips),
        "total_minutes": round(sum(durations) / 60, 2),
        "min_seconds": round(min(durations), 3),
        "median_seconds": round(statistics.median(durations), 3),
        "max_seconds": round(max(durations), 3),
        "flagged_clips": sum(1 for e in entries if e["flags"]),
    }


def _warnings(clips: list[Clip], voices: speakers.Analysis) -> list[str]:
    """What is wrong with the dataset as a whole."""
    checks = (_too_little, _low_sample_rate, _loudness_spread, _duplicates)
    found = [text for check in checks if (text := check(clips))]
    return found + [text] if (text := speakers.warning(voices)) else found


def _too_little(clips: list[Clip]) -> str | None:
    """Under five minutes of audio."""
    minutes = sum(c.duration_seconds for c in clips) / 60
    if minutes >= MIN_MINUTES:
        return None
    return (
        f"under {MIN_MINUTES:g} minutes of audio ({minutes:.1f} min); a recognisable voice "
        "needs at least 5 minutes, and 30 or more sounds much better"
    )


def _low_sample_rate(clips: list[Clip]) -> str | None:
    """Originals recorded below 22050 Hz sound muffled after upsampling."""
    low = [c for c in clips if 0 < c.original_sample_rate < LOW_SAMPLE_RATE]
    if not low:
        return None
    lowest = min(c.original_sample_rate for c in low)
    return (
        f"{len(low)} clip(s) were recorded below {LOW_SAMPLE_RATE} Hz (lowest {lowest} Hz); "
        "they will sound muffled, so upload higher-quality originals if you have them"
    )


def _loudness_spread(clips: list[Clip]) -> str | None:
    """Originals whose loudness differs widely."""
    values = sorted(c.loudness_lufs for c in clips if c.loudness_lufs is not None)
    if len(values) < 2 or values[-1] - values[0] <= LOUDNESS_SPREAD_LU:
        return None
    return (
        f"the originals' loudness spans {values[-1] - values[0]:.0f} LU "
        f"({values[0]:.0f} to {values[-1]:.0f} LUFS); keep loudness normalisation on"
    )


def _duplicates(clips: list[Clip]) -> str | None:
    """Clips sharing a transcript with another clip."""
    keys = Counter(" ".join(c.transcript.lower().split()) for c in clips)
    twins = [c.wav_filename for c in clips if keys[" ".join(c.transcript.lower().split())] > 1]
    if not twins:
        return None
    shown = ", ".join(twins[:10]) + (" ..." if len(twins) > 10 else "")
    return f"{len(twins)} clips share their transcript with another clip: {shown}"


def _rounded(value: float | None) -> float | None:
    """A metric rounded for people, or None."""
    return None if value is None else round(value, 4 if abs(value) < 1 else 2)
