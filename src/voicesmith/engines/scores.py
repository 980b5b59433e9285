"""Which checkpoint a job's voice speaks with: the promotion rule, written once, and keeping.

Torch-free: the training child applies it as it scores, the API when it lists checkpoints.

The rule: among the scored checkpoints whose `cer` is within CER_MARGIN of the best `cer`,
the one with the highest `relative_similarity`; where similarity is unknown (the dataset has
no speaker centroid), the lowest `eval_loss` among those. Ties go to the earlier step, so a
later checkpoint must be strictly better to win (which is what early stopping counts).
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
    """Sort key: near the best cer first, then likeness, then eval loss, then the earlier step."""
    loss = score.get("eval_loss")
    loss = loss if _number(loss) else math.inf
    cer = score.get("cer")
    near = best_cer is None or (_number(cer) and cer <= best_cer + CER_MARGIN)
    if not near:
        return (1, cer if _number(cer) else math.inf, loss, score["step"])
    likeness = score.get("relative_similarity")
    return (0, -likeness if _number(likeness) else math.inf, loss, score["step"])


def promoted(scores: Sequence[Score]) -> int | None:
    """The step the rule promotes; None when nothing was scored."""
    ranked = rank(scores)
    return ranked[0] if ranked else None


def to_keep(scores: Sequence[Score], keep: int, newest: int | None) -> set[int]:
    """The steps whose checkpoints stay: the best `keep` by the rule, plus the newest (resume)."""
    kept = set(rank(scores)[:keep])
    return kept | {newest} if newest is not None else kept


def evaluations_since_best(scores: Sequence[Score]) -> int:
    """How many scored evaluations came after the promoted one without beating it."""
    best = promoted(scores)
    return 0 if best is None else sum(1 for s in scores if s["step"] > best)


def _number(value: Any) -> bool:
    """Whether value is a finite number (JSON null and NaN are not)."""
    return isinstance(value, int | float) and math.isfinite(value)
