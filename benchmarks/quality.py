"""Clip analysis cost: a speaker embedding per clip against speech recognition per clip,
side by side in one run on the same clips.

Clips are espeak-ng speech re-encoded as MP3, M4A and 48 kHz WAV in turn (as in
benchmarks/ingest.py). Both models are loaded first and their load times printed apart;
then each clip is recognised (the configured ASR model, tiny.en int8 by default) and
embedded (resemblyzer, engines.speaker) in turn, so both see the same machine load. Each
measure includes decoding the file. Prints per-clip medians, real-time factors and the ratio.

Then the training half: the same scratch:tiny job (the training child, as the worker starts
it) with checkpoint scoring on (the default budget) and off (job.json's `scoring`, which
VOICESMITH_SCORING sets), in turn, so both see the same machine load; prints the median
wall times and their ratio (target: at most 1.15x).
Run: .venv/bin/python benchmarks/quality.py [--clips 30] [--repeats 3] [--jobs 3] [--epochs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import _make_clips  # noqa: E402  (the same generated set, beside this script)

from tests.factories import source_seconds  # noqa: E402
from tests.slow.test_engine import SENTENCES, job_spec, make_dataset  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.engines import asr, speaker  # noqa: E402
from voicesmith.transcripts.warnings import asr_spec  # noqa: E402


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
    if args.jobs:
        _print_training(_training(work, settings, args.jobs, args.epochs), args.epochs)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=3, help="tiny jobs each way; 0 skips")
    parser.add_argument("--epochs", type=int, default=3)
    return parser.parse_args()


def _training(work: Path, settings: Settings, jobs: int, epochs: int) -> dict[str, list[float]]:
    """Wall seconds of the same scratch:tiny job with scoring on and off, alternating."""
    dataset = make_dataset(work / "tiny", SENTENCES)
    wavs = sorted((dataset / "wavs").glob("*.wav"))
    voice = speaker.centroid(np.stack([speaker.embed_file(p) for p in wavs]))
    base = job_spec(dataset, work / "models", epochs=epochs, **asr_spec(settings))
    base.update(speaker_centroid=voice.tolist(), real_similarity=0.9)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for n in range(jobs):
        for mode in ("on", "off"):
            spec = {**base, "scoring": mode == "on"}
            times[mode].append(_run_job(work / f"job-{mode}-{n}", spec))
    return times


def _run_job(job_dir: Path, spec: dict) -> float:
    """Run the training child on spec; its wall seconds (it must succeed)."""
    job_dir.mkdir(parents=True)
    (job_dir / "job.json").write_text(json.dumps(spec), encoding="utf-8")
    command = [sys.executable, "-m", "voicesmith.engines.training", str(job_dir)]
    started = time.perf_counter()
    with (job_dir / "train.log").open("wb") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def _print_training(times: dict[str, list[float]], epochs: int) -> None:
    """Scoring on against off: median wall seconds of a tiny job, and the ratio."""
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print(f"\nscratch:tiny, {epochs} epochs, {len(times['on'])} jobs each way")
    print(f"{'training job, median':28} {'seconds':>9} {'ratio':>7}")
    print(f"{'scoring off':28} {off:9.1f} {1:7.2f}")
    print(f"{'scoring on (budget 15%)':28} {on:9.1f} {on / off:7.2f}   target <= 1.15")


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
