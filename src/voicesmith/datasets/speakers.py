"""Who speaks in a dataset: its speaker centroid, each clip's likeness, and the outliers.

The rule (docs/API.md): each embedded clip is compared with the centroid of the others
(leave-one-out). A clip is a `speaker_outlier` when its similarity is both more than
SPREAD_K robust standard deviations below the dataset's median and below FLOOR.
"""

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicesmith.datasets.models import Clip
from voicesmith.engines import speaker

# Fewer clips give no stable median: their similarities are reported, none is flagged.
MIN_CLIPS = 5
SPREAD_K = 3.0
# 1.4826 x MAD estimates a standard deviation, robustly: the outliers barely move it.
MAD_SCALE = 1.4826
# espeak-ng voices are so uniform that their MAD is near 0.01; a floor on the spread keeps a
# tiny one from flagging ordinary variation in a very consistent recording.
MIN_SPREAD = 0.01
# The same espeak-ng voice scored 0.82-0.95 against its other clips; another one (+f3,
# +whisper) 0.54-0.75. Real recordings vary more, so the spread alone is not enough.
FLOOR = 0.75
# More flagged clips than this share suggests a second speaker, not a few odd clips.
WARN_SHARE = 0.10


@dataclass(frozen=True)
class Analysis:
    """A dataset's speaker figures: per clip id, and for the dataset as a whole."""

    embedded: int = 0
    similarity: dict[int, float] = field(default_factory=dict)
    outliers: frozenset[int] = frozenset()
    skipped: list[dict[str, str]] = field(default_factory=list)
    pending: int = 0
    centroid: np.ndarray | None = None
    median: float | None = None
    spread: float | None = None
    threshold: float | None = None
    real_similarity: float | None = None


def analyse(clips: list[Clip]) -> Analysis:
    """Leave-one-out similarities, outliers and the centroid of these clips' embeddings."""
    embedded = [c for c in clips if c.speaker_embedding is not None]
    skipped = [
        {"file": c.wav_filename, "detail": c.speaker_detail}
        for c in clips
        if c.speaker_embedding is None and c.speaker_detail is not None
    ]
    pending = len(clips) - len(embedded) - len(skipped)
    if not embedded:
        return Analysis(skipped=skipped, pending=pending)
    vectors = np.stack([speaker.from_bytes(c.speaker_embedding) for c in embedded])
    if len(embedded) < 2:
        return Analysis(1, skipped=skipped, pending=pending, centroid=speaker.centroid(vectors))
    sims = speaker.leave_one_out(vectors)
    median, spread, threshold = _cut_off(sims) if len(embedded) >= MIN_CLIPS else (None,) * 3
    flagged = sims < threshold if threshold is not None else np.zeros(len(sims), dtype=bool)
    kept = vectors[~flagged]
    return Analysis(
        embedded=len(embedded),
        similarity={c.id: float(s) for c, s in zip(embedded, sims, strict=True)},
        outliers=frozenset(c.id for c, bad in zip(embedded, flagged, strict=True) if bad),
        skipped=skipped,
        pending=pending,
        centroid=speaker.centroid(kept),
        median=median,
        spread=spread,
        threshold=threshold,
        real_similarity=_real_similarity(kept),
    )


def _cut_off(sims: np.ndarray) -> tuple[float, float, float]:
    """The median, the robust spread and the similarity below which a clip is an outlier."""
    median = float(np.median(sims))
    spread = max(MAD_SCALE * float(np.median(np.abs(sims - median))), MIN_SPREAD)
    return median, spread, min(median - SPREAD_K * spread, FLOOR)


def _real_similarity(kept: np.ndarray) -> float | None:
    """How alike two real clips of the speaker are: the median leave-one-out similarity."""
    if len(kept) < 2:
        return None
    return statistics.median(float(s) for s in speaker.leave_one_out(kept))


def summary(analysis: Analysis) -> dict[str, Any]:
    """The report's `speaker` section."""
    return {
        "embedded_clips": analysis.embedded,
        "pending_clips": analysis.pending,
        "skipped": analysis.skipped,
        "outlier_clips": len(analysis.outliers),
        "real_similarity": _rounded(analysis.real_similarity),
        "median_similarity": _rounded(analysis.median),
        "spread": _rounded(analysis.spread),
        "threshold": _rounded(analysis.threshold),
    }


def warning(analysis: Analysis) -> str | None:
    """A dataset warning when more than WARN_SHARE of the judged clips are outliers."""
    judged, flagged = len(analysis.similarity), len(analysis.outliers)
    if not judged or flagged <= WARN_SHARE * judged:
        return None
    return (
        f"{flagged} of {judged} clips sound like a different speaker (speaker_outlier): "
        "more than one speaker? Listen to them on the Review page and delete those that "
        "are not the voice you are training"
    )


def _rounded(value: float | None) -> float | None:
    """A similarity rounded for people, or None."""
    return None if value is None else round(value, 4)
