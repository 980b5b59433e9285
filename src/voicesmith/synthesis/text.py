"""Text normalisation and sentence splitting for synthesis; pure functions."""

import re
import unicodedata

from voicesmith.errors import BadInput

_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\n+")
_SPACES = re.compile(r"\s+")
MAX_CHUNK_CHARS = 300


def normalise(text: str, *, max_chars: int) -> str:
    """NFC, no control characters, single spaces; BadInput when nothing speakable is left."""
    text = unicodedata.normalize("NFC", text)
    if len(text) > max_chars:
        raise BadInput(f"text is {len(text)} characters; the limit is {max_chars}, split it up")
    text = "".join(" " if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c for c in text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise BadInput("text is empty; send something to say")
    if not any(c.isalnum() for c in text):
        raise BadInput("text has no letters or digits to speak")
    return text


def sentences(text: str) -> list[str]:
    """Split normalised text into sentences, and over-long sentences at commas or spaces."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    return [chunk for piece in pieces for chunk in _cap(piece)]


def _cap(sentence: str) -> list[str]:
    """Break a sentence longer than MAX_CHUNK_CHARS at the last comma or space that fits."""
    chunks = []
    while len(sentence) > MAX_CHUNK_CHARS:
        window = sentence[:MAX_CHUNK_CHARS]
        # A comma is a natural pause; fall back to a space only when no comma is near the end.
        cut = window.rfind(", ")
        if cut < MAX_CHUNK_CHARS // 2:
            cut = window.rfind(" ")
        cut = cut if cut > 0 else MAX_CHUNK_CHARS
        chunks.append(sentence[:cut].strip(" ,"))
        sentence = sentence[cut:].strip(" ,")
    return [*chunks, sentence] if sentence else chunks


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """Streamed text split into the sentences it has finished, and the unfinished rest."""
    # A terminator counts only once whitespace follows it: "Dr." or "3." may go on.
    pieces = _SENTENCE_END.split(buffer)
    done = [p.strip() for p in pieces[:-1] if p.strip()]
    return done, pieces[-1]
