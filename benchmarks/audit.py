"""What the audit record adds to a synthesis, side by side in one run on a real SQLite file.

(1) a whole synthesis through `speak` (which writes the audit row) against the same work
without the row (voice cache, synthesis, WAV encoding), interleaved, medians and ratio;
(2) the audit write alone, in milliseconds, on an empty table and on one of 100,000 rows;
(3) a streamed synthesis read to its end, with its row, against the same chunks without one.
Random weights cost the same as trained ones. Run: .venv/bin/python benchmarks/audit.py
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from voicesmith.auth.audit import AuditEvent, text_hash  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.db import make_engine, make_sessionmaker, run_migrations, utcnow  # noqa: E402
from voicesmith.synthesis import auditing, formats, sharing  # noqa: E402
from voicesmith.synthesis.service import Audio, Synthesizer, base_voice, speak  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank."
PARAGRAPH = "Our first sentence sets the scene. The second carries it on. The third ends it."
ROUTE = "POST /api/v1/synthesize"
AUDIENCE = sharing.Audience("bench", 1, admin=False)
FILLED_ROWS = 100_000


def main() -> None:
    """Build the model and the database, run every measurement and print the table."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-audit-"))
    model_dir = _model(work, args.preset)
    settings = Settings(data_dir=work / "var", default_base_model=str(model_dir))
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    run_migrations(engine)
    sessions = make_sessionmaker(engine)
    synth = Synthesizer(settings)
    with sessions() as session:
        rows = _whole(session, synth, args.repeats)
        rows += _write_alone(session, synth, args.repeats * 20)
        rows += _streamed(session, synth, args.repeats)
    print(f"\n{args.preset} VITS, random weights, SQLite (WAL), medians of {args.repeats}")
    for name, ours, baseline, ratio in rows:
        print(f"{name:44} {ours:>12} {baseline:>12} {ratio:>10}")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--preset", default="scratch:full", help="scratch:full or scratch:tiny")
    return parser.parse_args()


def _model(work: Path, preset: str) -> Path:
    """A job-like folder with a random VITS, exported as training exports it."""
    from voicesmith.engines.export import export_voice, make_random_model_dir

    model_dir = make_random_model_dir(work / "model", preset)
    print(export_voice(model_dir))
    return model_dir


def _median_ms(run: Callable[[], object]) -> Callable[[list[float]], None]:
    """A step that appends one timing of run, in milliseconds, to a list."""

    def step(into: list[float]) -> None:
        started = time.perf_counter()
        run()
        into.append((time.perf_counter() - started) * 1000)

    return step


def _whole(session: Session, synth: Synthesizer, repeats: int) -> list[tuple]:
    """speak() with its audit row against the same synthesis and encoding without it."""

    def audited() -> Audio:
        return speak(
            session=session, synth=synth, audience=AUDIENCE, voices=(), text=SENTENCE, route=ROUTE
        )

    def bare() -> bytes:
        # speak()'s own steps, but the audit row: the voice looked up, the text checked.
        voice = base_voice(settings=synth.settings)
        synth.check(SENTENCE)
        speech = synth.speak(voice, SENTENCE, speed=1.0)
        return formats.encode(speech.samples, speech.sample_rate, "wav")

    with_row, without = _interleaved(audited, bare, repeats)
    return [
        ("(1) whole WAV of one sentence, ms", "with audit", "without", "ratio"),
        ("    speak() vs synthesis + encoding", *_cells(with_row, without)),
    ]


def _interleaved(
    a: Callable[[], object], b: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median milliseconds of a and of b, run in turns after one warm-up each."""
    a(), b()
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(repeats):
        _median_ms(a)(times_a)
        _median_ms(b)(times_b)
    return statistics.median(times_a), statistics.median(times_b)


def _cells(ours: float, baseline: float) -> tuple[str, str, str]:
    """Both medians and their ratio, as the table prints them."""
    return f"{ours:.1f}", f"{baseline:.1f}", f"{ours / baseline:.3f}x"


def _spread(values: list[float]) -> tuple[str, str]:
    """The median and the 95th percentile, in milliseconds."""
    return f"{statistics.median(values):.2f}", f"{statistics.quantiles(values, n=20)[-1]:.2f}"


def _write_alone(session: Session, synth: Synthesizer, repeats: int) -> list[tuple]:
    """The audit row alone: on the table as it is, then filled to FILLED_ROWS."""
    ref = base_voice(settings=synth.settings)
    audio = Audio("audio/wav", frozenset(), "onnx-int8", content=b"RIFF", seconds=3.0)

    def write() -> None:
        auditing.audited(
            audio,
            session=session,
            synth=synth,
            ref=ref,
            audience=AUDIENCE,
            route=ROUTE,
            text=SENTENCE,
        )

    small = _times(write, repeats)
    _fill(session)
    big = _times(write, repeats)
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    session.commit()  # a SQLite write lock held here would block the stream's own row
    return [
        ("(2) the audit write alone, ms", "p50", "p95", "rows"),
        ("    on a near-empty table", *_spread(small), ""),
        ("    on a table of 100,000 rows", *_spread(big), f"{count}"),
    ]


def _times(run: Callable[[], object], repeats: int) -> list[float]:
    """Milliseconds of each of `repeats` runs."""
    found: list[float] = []
    for _ in range(repeats):
        _median_ms(run)(found)
    return found


def _fill(session: Session) -> None:
    """FILLED_ROWS synthesis rows, written in bulk."""
    row = {"at": utcnow(), "actor": "bench", "action": "synthesis", "route": ROUTE, "voice": "base"}
    row |= {"text_length": len(SENTENCE), "text_sha256": text_hash(SENTENCE), "audio_seconds": 3.0}
    session.execute(insert(AuditEvent), [row] * FILLED_ROWS)
    session.commit()


def _streamed(session: Session, synth: Synthesizer, repeats: int) -> list[tuple]:
    """A streamed paragraph read to its end, with its row, against the same chunks bare."""

    def audited() -> int:
        audio = speak(
            session=session,
            synth=synth,
            audience=AUDIENCE,
            voices=(),
            text=PARAGRAPH,
            route=ROUTE,
            stream=True,
        )
        return sum(len(chunk) for chunk in audio.chunks or ())

    def bare() -> int:
        voice = base_voice(settings=synth.settings)
        synth.check(PARAGRAPH)
        synth.dropped(voice, PARAGRAPH)  # the streamed answer's header names them too
        return sum(len(formats.to_pcm16(a)) for a in synth.stream(voice, PARAGRAPH, speed=1.0))

    with_row, without = _interleaved(audited, bare, repeats)
    return [
        ("(3) streamed paragraph read to the end, ms", "with audit", "without", "ratio"),
        ("    speak(stream) vs the chunks alone", *_cells(with_row, without)),
    ]


if __name__ == "__main__":
    main()
