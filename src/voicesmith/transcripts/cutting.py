"""Cutting a recognised long recording into clips and storing them like uploaded ones."""

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.core import text
from voicesmith.core.files import write_wav_temp
from voicesmith.datasets import ingest, layout, quality
from voicesmith.datasets.audio import TARGET_RATE, AudioDecodeError, DecodedAudio, decode_to_pcm16
from voicesmith.datasets.models import Clip, Dataset
from voicesmith.datasets.service import get_dataset, validate_transcript
from voicesmith.datasets.storing import ClipRows, Prepared, store_clips
from voicesmith.engines import asr
from voicesmith.errors import BadInput, VoicesmithError
from voicesmith.transcripts import align, split
from voicesmith.transcripts.models import LongImport

MAX_NOTED = 5


@dataclass(frozen=True)
class Cut:
    """A prepared clip and what ASR heard in it."""

    prepared: Prepared
    heard: str
    confidence: float | None


@dataclass(frozen=True)
class Stored:
    """How many clips an import stored, and a note on the parts it left out."""

    count: int
    note: str | None


def split_and_store(
    *, session: Session, settings: Settings, row: LongImport, report: Callable[[str, float], None]
) -> Stored:
    """Recognise the recording with word timings, cut it at pauses and store the clips."""
    source = Path(row.source_path)
    decoded = _decode(source, settings)
    audio16 = asr.decode_16k(source)
    report("recognising", 0.0)
    heard = asr.recognise(
        settings, audio16, words=True, progress=lambda share: report("recognising", 100 * share)
    )
    if not heard.words:
        raise BadInput(asr.NO_SPEECH)
    report("splitting", 0.0)
    spans = split.plan(
        heard.words,
        asr.speech_regions(audio16),
        len(audio16) / asr.SAMPLE_RATE,
        min_seconds=settings.long_clip_min_seconds,
        max_seconds=settings.long_clip_max_seconds,
    )
    texts = _texts(heard.words, spans, row.transcript)
    report("storing", 0.0)
    return _prepare_and_store(session, settings, row, decoded, heard.words, spans, texts)


def _decode(source: Path, settings: Settings) -> DecodedAudio:
    """The whole recording at 22050 Hz, for the clips."""
    try:
        return decode_to_pcm16(source, max_seconds=settings.max_long_seconds)
    except AudioDecodeError as exc:
        raise BadInput(f"{exc}; {ingest.FORMATS_HINT}") from exc


def _texts(words: list[asr.Word], spans: list[split.Span], transcript: str | None) -> list[str]:
    """Each clip's transcript: its span of the user's text, else the words ASR heard."""
    if not transcript:
        return [split.words_text(words[s.first : s.stop]) for s in spans]
    cuts = [s.first for s in spans[1:]]
    return align.user_spans([w.text for w in words], transcript, cuts)


def _prepare_and_store(
    session: Session,
    settings: Settings,
    row: LongImport,
    decoded: DecodedAudio,
    words: list[asr.Word],
    spans: list[split.Span],
    texts: list[str],
) -> Stored:
    """Convert every span, then store the good ones under the dataset lock."""
    cleanup = ingest.cleanup_of(get_dataset(session=session, name=row.dataset_name), settings)
    session.commit()
    stem = layout.safe_stem(row.original_filename)
    cuts, left_out = [], []
    for n, (span, said) in enumerate(zip(spans, texts, strict=True), 1):
        try:
            cuts.append(_cut(settings, cleanup, decoded, words, span, said, f"{stem}_{n:04d}"))
        except VoicesmithError as exc:
            left_out.append(f"{span.start:.1f}-{span.end:.1f} s: {exc.detail}")
    try:
        count = _store(session, settings, row, cuts)
    finally:
        for cut in cuts:
            cut.prepared.discard()
    return Stored(count, _note(left_out))


def _cut(
    settings: Settings,
    cleanup: quality.Cleanup,
    decoded: DecodedAudio,
    words: list[asr.Word],
    span: split.Span,
    said: str,
    name: str,
) -> Cut:
    """One span as a converted clip with its original, waiting in tmp/."""
    transcript = validate_transcript(said, max_chars=settings.max_transcript_chars)
    samples = decoded.samples[int(span.start * TARGET_RATE) : int(span.end * TARGET_RATE)]
    part = DecodedAudio(
        samples, decoded.source_format, decoded.source_codec, decoded.source_rate,
        decoded.source_channels,
    )  # fmt: skip
    converted = ingest.convert(part, cleanup, settings)
    original = write_wav_temp(samples, TARGET_RATE, settings.data_dir / "tmp")
    with original.open("rb") as handle:
        digest = ingest.file_digest(handle)
    source = ingest.ClipSource(f"{name}.wav", transcript, part, converted, digest)
    heard = words[span.first : span.stop]
    confidence = statistics.fmean(w.probability for w in heard) if heard else None
    return Cut(Prepared(source, original), split.words_text(heard), confidence)


def _store(session: Session, settings: Settings, row: LongImport, cuts: list[Cut]) -> int:
    """Commit the clips with their ASR results and re-render the dataset once."""
    rows = _rows(row, cuts)
    store_clips(session=session, settings=settings, name=row.dataset_name, rows=rows)
    return len(cuts)


def _rows(row: LongImport, cuts: list[Cut]) -> ClipRows:
    """Each cut as a clip row carrying what ASR heard in it."""

    def rows(dataset: Dataset) -> Iterator[tuple[Clip, Prepared]]:
        for cut in cuts:
            clip = ingest.new_clip(dataset, cut.prepared.source)
            clip.transcript_source = "user" if row.transcript else "asr"
            clip.asr_text, clip.asr_confidence = cut.heard, _rounded(cut.confidence)
            clip.cer = round(text.cer(clip.transcript, cut.heard), 4)
            yield clip, cut.prepared

    return rows


def _note(left_out: list[str]) -> str | None:
    """A sentence naming the parts of the recording that did not become clips."""
    if not left_out:
        return None
    shown = "; ".join(left_out[:MAX_NOTED]) + (" ..." if len(left_out) > MAX_NOTED else "")
    return f"{len(left_out)} part(s) were left out: {shown}"


def _rounded(value: float | None) -> float | None:
    """A confidence rounded for storage."""
    return None if value is None else round(float(value), 4)
