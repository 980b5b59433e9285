"""What the pages say instead of internal names: flag labels, voice names, verdicts."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple


class Flag(NamedTuple):
    """A report flag as a person reads it."""

    label: str
    explanation: str


FLAGS = {
    "transcript_mismatch": Flag(
        "Transcript differs from speech",
        "speech recognition (ASR) heard something else than the transcript says. Listen, then "
        "fix the transcript or accept what ASR heard.",
    ),
    "low_asr_confidence": Flag(
        "Unsure transcript",
        "ASR wrote this transcript but was not sure of it. Listen and correct it.",
    ),
    "speaker_outlier": Flag(
        "Another speaker?",
        "this clip sounds unlike the dataset's other clips; a second speaker spoils the voice.",
    ),
    "rate_mismatch": Flag(
        "Odd speaking rate",
        "far faster or slower than the other clips for its text: the transcript may belong to "
        "another clip.",
    ),
    "unknown_characters": Flag(
        "Unsayable characters",
        "the transcript has characters the model cannot say; they are left out in training.",
    ),
    "clipping": Flag("Clipped", "the recording distorts at full volume; the voice learns that."),
    "too_quiet": Flag("Too quiet", "the recording is very quiet; noise may drown the voice."),
    "mostly_silence": Flag("Mostly silence", "less than a third of the recording is speech."),
    "too_short": Flag("Too short", "under one second: too little speech to learn from."),
    "too_long": Flag("Too long", "over 15 seconds: long clips need much memory in training."),
}
# ASR character error rates of the job's own samples, and what they mean to a listener.
CLEAR_CER = 0.15
MOSTLY_CER = 0.4


def flag(name: str) -> Flag:
    """A flag's label and explanation; an unknown name is shown as it is."""
    return FLAGS.get(name, Flag(name.replace("_", " ").capitalize(), ""))


def flags_in(clips: Iterable[Any]) -> list[tuple[str, Flag]]:
    """The flags these clips carry, in the order of FLAGS, for a page's legend."""
    present = {name for clip in clips for name in clip.flags}
    return [(name, flag(name)) for name in FLAGS if name in present]


def sentence(text: str) -> str:
    """A report warning as a sentence: capital first letter, a full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def voice_name(voice: Mapping[str, Any]) -> str:
    """A voice's name for people: its aliases, else its dataset and the day it finished."""
    if voice.get("aliases"):
        return ", ".join(voice["aliases"])
    finished = voice.get("created_at")
    day = finished.strftime("%Y-%m-%d") if isinstance(finished, datetime) else "in training"
    return f"{voice['dataset']}, {day}"


def verdict(cer: float | None) -> tuple[str, str]:
    """How intelligible a job's samples are, as (css class, sentence), from their ASR CER."""
    if cer is None:
        return "", ""
    if cer <= CLEAR_CER:
        return "verdict-good", "intelligible: speech recognition understands almost every word"
    if cer <= MOSTLY_CER:
        return "verdict-poor", "partly intelligible: some words are lost; train longer"
    return "verdict-poor", "not yet intelligible: train longer or check the transcripts"


def plural(count: int, word: str) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration(seconds: float) -> str:
    """A forecast's length, rounded as people say it: '40 s', '3 h 10 min', '2 days 4 h'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def estimate(answer: Mapping[str, Any]) -> str:
    """A dry run's answer in words: how long on what, and whether the batch fits in memory."""
    if answer.get("status") == "failed":
        return f"The dry run failed: {answer.get('detail')}"
    if answer.get("status") != "done":
        return "Measuring on the training worker; it runs between jobs."
    device = "this GPU" if answer["device"] == "cuda" else "this CPU"
    said = f"about {duration(answer['estimated_seconds'])} on {device}; "
    size, suggested = answer.get("batch_size"), answer["suggested_batch_size"]
    if answer["fits"]:
        said += f"fits in memory with batch size {suggested or size}"
    else:
        limit = f"{answer['memory_limit_mb']:,} MB"
        said += f"does not fit in {limit} at batch size {size}; batch size {suggested} fits"
    if answer.get("source") == "stored":
        said += f" (measured earlier, {str(answer.get('measured_at', ''))[:16].replace('T', ' ')})"
    return said
