"""Comparing transcripts: normalisation for people's spelling and the character error rate."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w']+|_")
_SENTENCE_END = (".", "!", "?", "…")


def normalize(text: str) -> str:
    """Lower case, letters and digits only, single spaces: what both texts are compared as."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    words = _NOT_WORD.sub(" ", text).replace("'", "").split()
    return " ".join(words)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of the hypothesis against the reference, both normalised."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, one each."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def ends_sentence(token: str) -> bool:
    """Whether a word of running text closes a sentence."""
    return token.rstrip("\"')]»”").endswith(_SENTENCE_END)
