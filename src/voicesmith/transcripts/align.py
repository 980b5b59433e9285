"""Giving each clip of a long recording its span of the user's own transcript."""

from bisect import bisect_left, bisect_right
from difflib import SequenceMatcher

from voicesmith.core.text import ends_sentence, normalize


def user_spans(asr_words: list[str], user_text: str, cuts: list[int]) -> list[str]:
    """Split the user's text where the recording is cut (cuts are ASR word indices)."""
    tokens = user_text.split()
    anchors = _anchors([normalize(w) for w in asr_words], [normalize(t) for t in tokens])
    fences = [_user_fence(anchors, tokens, cut) for cut in cuts]
    fences = _increasing(fences, len(tokens))
    edges = [0, *fences, len(tokens)]
    return [" ".join(tokens[a:b]) for a, b in zip(edges, edges[1:], strict=False)]


def _anchors(asr: list[str], user: list[str]) -> list[tuple[int, int]]:
    """Positions (ASR fence, user fence) known to line up: the edges of matching runs."""
    matcher = SequenceMatcher(None, asr, user, autojunk=False)
    pairs = [(0, 0)]
    for i, j, size in matcher.get_matching_blocks():
        if size:
            pairs += [(i, j), (i + size, j + size)]
    pairs.append((len(asr), len(user)))
    return sorted(set(pairs))


def _user_fence(anchors: list[tuple[int, int]], tokens: list[str], cut: int) -> int:
    """The user fence matching an ASR fence: exact at anchors, else between them."""
    keys = [a for a, _ in anchors]
    exact = bisect_left(keys, cut)
    if exact < len(keys) and keys[exact] == cut:
        return anchors[exact][1]
    left, right = anchors[bisect_right(keys, cut) - 1], anchors[exact]
    share = (cut - left[0]) / max(1, right[0] - left[0])
    guess = left[1] + round(share * (right[1] - left[1]))
    # Inside an unmatched stretch, a sentence end near the guess is the likelier cut.
    ends = [j for j in range(left[1] + 1, right[1]) if ends_sentence(tokens[j - 1])]
    return min(ends, key=lambda j: abs(j - guess)) if ends else guess


def _increasing(fences: list[int], total: int) -> list[int]:
    """Fences made strictly increasing inside (0, total), so no clip's text is empty."""
    fixed: list[int] = []
    for n, fence in enumerate(fences):
        low = fixed[-1] + 1 if fixed else 1
        high = total - (len(fences) - n)
        fixed.append(min(max(fence, low), max(high, low)))
    return fixed
