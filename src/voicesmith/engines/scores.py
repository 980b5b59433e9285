"""Which checkpoint a job's voice speaks with: the promotion rule, written once, and keeping.

Torch-free: the training child applies it as it scores, the API when it lists checkpoints.

The rule: among the scored checkpoints whose `cer` is within CER_MARGIN of the best `cer`,
the one with the highest `relative_similarity`; where similarity is unknown (the dataset has
no speaker centroid), the lowest `eval_loss` among those. Ties go to the earlier step, so a
later checkpoint must be strictly better to win (which is what early stopping counts). With
no CER at all (no speech model), every checkpoint counts as near the best.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

CER_MARGIN = 0.05

Score = Mapping[str, Any]


def rank(scores: Sequence[Score]) -> list[int]:
    """The steps of scored checkpoints, best first by the promotion rule."""
    cers = [s["cer"] for s in scores if _number(s.get("cer"))]
    best_cer = min(cers) if cers else None
    return [s["step"] for s in sorted(scores, key=lambda s: _key(s, best_cer))]


def _key(score: Score, best_cer: float | None) -> tuple[int, float, float, int]:
    """Sort key: near the best cer first, then likeness (else eval loss), then the earlier step."""
    loss = score.get("eval_loss")
    loss = loss if _number(loss) else math.inf
    cer = score.get("cer")
    near = best_cer is None or (_number(cer) and cer <= best_cer + CER_MARGIN)
    if not near:
        return (2, cer if _number(cer) else math.inf, loss, score["step"])
    likeness = score.get("relative_similarity")
    if _number(likeness):
        return (0, -likeness, 0.0, score["step"])
    return (1, loss, 0.0, score["step"])


def promoted(scores: Sequence[Score]) -> int | None:
    """The step the rule promotes; None when nothing was scored."""
    ranked = rank(scores)
    return ranked[0] if ranked else None


def chosen(record: Mapping[str, Any]) -> int | None:
    """The step a checkpoints.json record makes the voice: an admin's override, else the rule."""
    override = record.get("override")
    return override if override is not None else promoted(record.get("checkpoints") or [])


def to_keep(
    scores: Sequence[Score], keep: int, newest: int | None, override: int | None = None
) -> set[int]:
    """The steps whose checkpoints stay: the best `keep`, the newest (resume), an admin's pick."""
    kept = set(rank(scores)[:keep])
    return kept | {s for s in (newest, override) if s is not None}


def evaluations_since_best(scores: Sequence[Score]) -> int:
    """How many scored evaluations came after the promoted one without beating it."""
    best = promoted(scores)
    return 0 if best is None else sum(1 for s in scores if s["step"] > best)


def _number(value: Any) -> bool:
    """Whether value is a finite number (JSON null and NaN are not)."""
    return isinstance(value, int | float) and math.isfinite(value)
