"""The pure parts of transcripts: normalised CER, cutting between words, aligning user text."""

from voicesmith.core.text import cer, normalize
from voicesmith.engines.asr import Word
from voicesmith.transcripts import align, split


def test_cer_ignores_case_punctuation_and_spacing():
    assert normalize("  Hello,   World! It’s  fine.") == "hello world its fine"
    assert cer("Hello, world!", "hello world") == 0.0
    assert cer("abcd", "abxd") == 0.25
    assert cer("", "") == 0.0 and cer("", "words") == 1.0


def _words(spec: list[tuple[str, float, float]]) -> list[Word]:
    return [Word(t, s, e, 0.9) for t, s, e in spec]


def test_plan_cuts_only_between_words_at_the_pauses():
    words = _words(
        [("One", 0.0, 0.5), ("two", 0.6, 1.2), ("three.", 1.3, 2.5)]
        + [("Four", 3.5, 4.0), ("five", 4.1, 4.8), ("six.", 4.9, 6.0)]
        + [("Seven", 7.0, 7.5), ("eight.", 7.6, 9.0)]
    )
    regions = [(0.0, 2.5), (3.5, 6.0), (7.0, 9.0)]
    spans = split.plan(words, regions, 9.5, min_seconds=2, max_seconds=15)
    assert [(s.first, s.stop) for s in spans] == [(0, 3), (3, 6), (6, 8)]
    assert spans[0].end == spans[1].start and 2.5 <= spans[0].end <= 3.5
    assert spans[-1].end <= 9.5


def test_plan_keeps_clips_under_the_maximum_without_pauses():
    words = _words([(f"w{n}", n * 0.5, n * 0.5 + 0.45) for n in range(80)])
    spans = split.plan(words, [(0.0, 40.0)], 40.0, min_seconds=2, max_seconds=15)
    assert all(s.end - s.start <= 15.5 for s in spans)
    assert spans[0].first == 0 and spans[-1].stop == 80
    assert all(a.stop == b.first for a, b in zip(spans, spans[1:], strict=False))


def test_user_text_is_split_where_the_recognised_words_are():
    heard = "the quick roundfark stump over the lady nog she sells seashell by the shore"
    user = "The quick brown fox jumps over the lazy dog. She sells sea shells by the shore."
    parts = align.user_spans(heard.split(" "), user, [8])
    assert parts == [
        "The quick brown fox jumps over the lazy dog.",
        "She sells sea shells by the shore.",
    ]
