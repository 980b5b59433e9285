"""Where to cut a long recording: at pauses between recognised words, into clips of 2 to 15 s."""

from dataclasses import dataclass

from voicesmith.engines.asr import Word

# A pause this long between words is a natural place to end a clip.
SENTENCE_PAUSE = 0.3
EDGE_PAD = 0.3


@dataclass(frozen=True)
class Span:
    """One clip to cut: its audio [start, end) in seconds and its words [first, stop)."""

    start: float
    end: float
    first: int
    stop: int


@dataclass(frozen=True)
class Boundary:
    """A place between word i-1 and word i: where to cut there, and how long its pause is."""

    index: int
    cut: float
    pause: float


def plan(
    words: list[Word],
    regions: list[tuple[float, float]],
    duration: float,
    *,
    min_seconds: float,
    max_seconds: float,
) -> list[Span]:
    """Clips covering every word, cut only between words, preferring the pauses."""
    if not words:
        return []
    boundaries = [_boundary(words, i, regions) for i in range(1, len(words))]
    chosen = _choose(boundaries, words, min_seconds, max_seconds)
    cuts = [max(0.0, words[0].start - EDGE_PAD)] + [b.cut for b in chosen]
    cuts.append(min(duration, words[-1].end + EDGE_PAD))
    firsts = [0] + [b.index for b in chosen] + [len(words)]
    return [Span(cuts[n], cuts[n + 1], firsts[n], firsts[n + 1]) for n in range(len(firsts) - 1)]


def _boundary(words: list[Word], index: int, regions: list[tuple[float, float]]) -> Boundary:
    """The cut between two words: in the middle of the longest silence the VAD found there."""
    before, after = words[index - 1], words[index]
    # Whisper's word ends can run into the pause, so look from mid-word to mid-word.
    low = max(before.start + (before.end - before.start) / 2, before.end - EDGE_PAD)
    high = min(after.start + (after.end - after.start) / 2, after.start + EDGE_PAD)
    silence = _longest_silence(regions, low, max(low, high))
    if silence is None or silence[1] - silence[0] <= 0:
        middle = (before.end + max(before.end, after.start)) / 2
        return Boundary(index, middle, max(0.0, after.start - before.end))
    return Boundary(index, (silence[0] + silence[1]) / 2, silence[1] - silence[0])


def _longest_silence(
    regions: list[tuple[float, float]], low: float, high: float
) -> tuple[float, float] | None:
    """The longest stretch of [low, high] outside every speech region."""
    cursor, best = low, None
    for start, end in regions:
        if end <= cursor or start >= high:
            continue
        best = _longer(best, (cursor, min(start, high)))
        cursor = max(cursor, end)
    return _longer(best, (cursor, high))


def _longer(
    best: tuple[float, float] | None, candidate: tuple[float, float]
) -> tuple[float, float] | None:
    """The longer of two stretches, ignoring empty ones."""
    if candidate[1] <= candidate[0]:
        return best
    if best is None or candidate[1] - candidate[0] > best[1] - best[0]:
        return candidate
    return best


def _choose(
    boundaries: list[Boundary], words: list[Word], min_seconds: float, max_seconds: float
) -> list[Boundary]:
    """Walk the recording, ending each clip at the first clear pause once it is long enough."""
    chosen: list[Boundary] = []
    first, end = words[0].start, words[-1].end
    start = first
    while pick := _next_cut(boundaries, start, end, min_seconds, max_seconds):
        chosen.append(pick)
        start = pick.cut
    return _merge_short_tail(chosen, first, end, min_seconds, max_seconds)


def _next_cut(
    boundaries: list[Boundary], start: float, end: float, min_seconds: float, max_seconds: float
) -> Boundary | None:
    """Where the clip starting at `start` ends; None when the rest is one clip."""
    later = [b for b in boundaries if b.cut > start]
    fits = [b for b in later if min_seconds <= b.cut - start <= max_seconds]
    clear = [b for b in fits if b.pause >= SENTENCE_PAUSE]
    if clear:
        return clear[0]
    if end - start <= max_seconds:
        return None
    if fits:
        return max(fits, key=lambda b: b.pause)
    return _fallback(later, start, max_seconds)


def _fallback(later: list[Boundary], start: float, max_seconds: float) -> Boundary | None:
    """No pause fits the range: the longest pause before the limit, else the next one at all."""
    within = [b for b in later if b.cut - start <= max_seconds]
    if within:
        return max(within, key=lambda b: b.pause)
    return later[0] if later else None


def _merge_short_tail(
    chosen: list[Boundary], first: float, end: float, min_seconds: float, max_seconds: float
) -> list[Boundary]:
    """Fold a last clip shorter than the minimum into the one before, when that fits."""
    if not chosen or end - chosen[-1].cut >= min_seconds:
        return chosen
    previous_start = chosen[-2].cut if len(chosen) > 1 else first
    if end - previous_start <= max_seconds:
        return chosen[:-1]
    return chosen


def words_text(words: list[Word]) -> str:
    """Recognised words joined back into text."""
    return " ".join(w.text for w in words).strip()
