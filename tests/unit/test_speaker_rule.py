"""The speaker-outlier rule on made-up embeddings: the spread and the floor must both agree."""

import numpy as np

from voicesmith.datasets import speakers
from voicesmith.datasets.models import Clip
from voicesmith.engines import speaker

DIMS = speaker.DIMENSIONS


def _like(similarity: float, rng: np.random.Generator) -> np.ndarray:
    """A vector at about this cosine to the first axis, in a random other direction."""
    away = rng.normal(size=DIMS)
    away[0] = 0
    away /= np.linalg.norm(away)
    axis = np.eye(DIMS)[0]
    return similarity * axis + np.sqrt(1 - similarity**2) * away


def _clips(vectors: list[np.ndarray | str | None]) -> list[Clip]:
    """Clips with these embeddings; a string stands for a clip skipped for that reason."""
    clips = []
    for n, item in enumerate(vectors, start=1):
        clip = Clip(id=n, wav_filename=f"c{n}.wav")
        clip.speaker_embedding = speaker.to_bytes(item) if isinstance(item, np.ndarray) else None
        clip.speaker_detail = item if isinstance(item, str) else None
        clips.append(clip)
    return clips


def test_a_clip_is_flagged_only_below_both_the_spread_and_the_floor():
    rng = np.random.default_rng(5)
    same = [_like(0.97, rng) for _ in range(10)]
    # Both far below a very tight dataset's median; only the second is also under the floor.
    unusual, other = _like(0.8, rng), _like(0.5, rng)
    found = speakers.analyse(_clips([*same, unusual, other]))
    assert found.outliers == {12}
    assert found.similarity[11] > speakers.FLOOR > found.similarity[12]
    assert found.threshold == speakers.FLOOR and found.real_similarity > 0.9
    assert speakers.warning(found) is None  # 1 of 12 is under 10%


def test_too_few_clips_are_reported_but_never_flagged():
    rng = np.random.default_rng(6)
    vectors = [_like(0.97, rng) for _ in range(speakers.MIN_CLIPS - 2)] + [_like(0.3, rng)]
    found = speakers.analyse(_clips(vectors))
    assert found.outliers == frozenset() and found.threshold is None
    assert len(found.similarity) == speakers.MIN_CLIPS - 1


def test_skipped_and_waiting_clips_are_counted_and_a_second_voice_warns():
    rng = np.random.default_rng(7)
    vectors = [_like(0.97, rng) for _ in range(8)] + [_like(0.4, rng) for _ in range(2)]
    found = speakers.analyse(_clips([*vectors, "too short to embed: 0.4 s of speech", None]))
    summary = speakers.summary(found)
    assert summary["embedded_clips"] == 10 and summary["pending_clips"] == 1
    assert summary["skipped"] == [
        {"file": "c11.wav", "detail": "too short to embed: 0.4 s of speech"}
    ]
    assert found.outliers == {9, 10}
    assert "2 of 10 clips" in speakers.warning(found)
    # The centroid leaves the outliers out: it is the first voice's.
    assert speaker.cosine(found.centroid, np.eye(DIMS)[0]) > 0.99
