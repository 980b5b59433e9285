"""Clip analysis cost: a speaker embedding per clip against speech recognition per clip,
side by side in one run on the same clips.

Clips are espeak-ng speech re-encoded as MP3, M4A and 48 kHz WAV in turn (as in
benchmarks/ingest.py). Both models are loaded first and their load times printed apart;
then each clip is recognised (the configured ASR model, tiny.en int8 by default) and
embedded (resemblyzer, engines.speaker) in turn, so both see the same machine load. Each
measure includes decoding the file. Prints per-clip medians, real-time factors and the ratio.
The second half of issue 15's benchmark (training with checkpoint scoring on and off) comes
with the scoring.
Run: .venv/bin/python benchmarks/quality.py [--clips 30] [--repeats 3]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import _make_clips  # noqa: E402  (the same generated set, beside this script)

from tests.factories import source_seconds  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.engines import asr, speaker  # noqa: E402


def main() -> None:
    """Make the clips, load both models, time both per clip, print medians and the ratio."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-quality-"))
    clips = [path for path, _ in _make_clips(work / "clips", args.clips)]
    settings = Settings(data_dir=work / "var", admin_password="benchmark-password")
    loads = _load(settings, clips[0])
    times: dict[str, list[float]] = {"asr": [], "embed": []}
    for _ in range(args.repeats):
        for path in clips:
            times["asr"].append(_timed(lambda p=path: asr.recognise(settings, p)))
            times["embed"].append(_timed(lambda p=path: speaker.embed_file(p)))
    seconds = statistics.median(source_seconds(p) for p in clips)
    _print(times, loads, len(clips), seconds, args.repeats)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def _load(settings: Settings, first: Path) -> dict[str, float]:
    """Seconds to load each model and run it once (imports and first-call set-up included)."""
    return {
        "asr": _timed(lambda: asr.recognise(settings, first)),
        "embed": _timed(lambda: speaker.embed_file(first)),
    }


def _timed(work) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _print(
    times: dict[str, list[float]], loads: dict[str, float], count: int, seconds: float, runs: int
) -> None:
    """The side-by-side table."""
    recognise, embed = statistics.median(times["asr"]), statistics.median(times["embed"])
    print(f"\n{count} clips (median {seconds:.2f} s of audio), {os.cpu_count()} cores, {runs} runs")
    print(f"{'per clip, median':28} {'seconds':>9} {'RTF':>7} {'ratio':>7}")
    print(f"{'speech recognition (ASR)':28} {recognise:9.3f} {recognise / seconds:7.3f} {1:7.2f}")
    print(f"{'speaker embedding':28} {embed:9.3f} {embed / seconds:7.3f} {embed / recognise:7.2f}")
    print(f"first call, load included: ASR {loads['asr']:.2f} s, embedding {loads['embed']:.2f} s")


if __name__ == "__main__":
    main()
