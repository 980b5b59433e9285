"""Training overhead: a plain Coqui recipe against a voicesmith job, same data, same steps.

For each preset it runs (a) benchmarks/coqui_recipe.py (Trainer.fit(), nothing else) and
(b) a voicesmith job from POST /start to `completed`, on a live server with its embedded
worker, alternating a and b. It prints medians, the ratio b/a, and the time from start to
the first training step. Run: .venv/bin/python benchmarks/training.py [--repeats 3]
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

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SENTENCES, login, start_server, stop_server, upload_clips  # noqa: E402
from tests.factories import fixture_clips, speak  # noqa: E402

PASSWORD = "benchmark-password"


def main() -> None:
    """Run every preset and print the table."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-bench-"))
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD}
    proc, base = start_server(work / "var", env)
    try:
        client = httpx.Client(base_url=base, timeout=60)
        headers = login(client, "admin", PASSWORD)
        clips = fixture_clips() + [
            (speak(t, work / f"s{n}.wav"), t) for n, t in enumerate(SENTENCES)
        ]
        upload_clips(client, headers, clips, "bench")
        rows = [
            _measure(client, headers, work, preset, epochs, args.repeats)
            for preset, epochs in _presets(args)
        ]
    finally:
        stop_server(proc)
    _print(rows, len(clips))


def _parse() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny-epochs", type=int, default=2)
    parser.add_argument("--full-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--presets", default="scratch:tiny,scratch:full")
    return parser.parse_args()


def _presets(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(preset, epochs) pairs to run."""
    epochs = {"scratch:tiny": args.tiny_epochs, "scratch:full": args.full_epochs}
    return [(p, epochs[p]) for p in args.presets.split(",")]


def _measure(client, headers, work: Path, preset: str, epochs: int, repeats: int) -> dict:
    """Alternate baseline and job runs; return their timings."""
    baseline, ours, first_step, steps = [], [], [], 0
    for n in range(repeats):
        baseline.append(_baseline(work, preset, epochs, n))
        total, first, steps = _job(client, headers, preset, epochs)
        ours.append(total)
        first_step.append(first)
    return {
        "preset": preset,
        "epochs": epochs,
        "steps": steps,
        "baseline": baseline,
        "ours": ours,
        "first_step": first_step,
    }


def _baseline(work: Path, preset: str, epochs: int, n: int) -> float:
    """Wall seconds of one plain-recipe process."""
    out = work / f"recipe-{preset.replace(':', '-')}-{n}"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "coqui_recipe.py"),
        str(work / "var" / "data" / "bench"),
        str(out),
        preset,
        str(epochs),
        "4",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def _job(client, headers, preset: str, epochs: int) -> tuple[float, float, int]:
    """Seconds from POST /start to completed, seconds to the first step, and steps run."""
    body = {"dataset_name": "bench", "base_model": preset, "epochs": epochs, "batch_size": 4}
    started = time.perf_counter()
    job_id = client.post("/api/v1/admin/training/start", json=body, headers=headers).json()[
        "job_id"
    ]
    first = None
    while True:
        job = client.get(f"/api/v1/admin/training/jobs/{job_id}", headers=headers).json()
        if first is None and (job["progress"] or {}).get("step", 0) >= 1:
            first = time.perf_counter() - started
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    if job["status"] != "completed":
        raise SystemExit(f"job {job_id} ended {job['status']}: {job['error']}")
    return time.perf_counter() - started, first or float("nan"), job["progress"]["step"]


def _print(rows: list[dict], clips: int) -> None:
    """The side-by-side table, medians only."""
    print(f"\n{clips} clips, batch 4; medians of {len(rows[0]['ours'])} runs each, seconds")
    header = ("preset", "steps", "(a) recipe", "(b) job", "b/a", "start->step1")
    print("{:14} {:>5} {:>11} {:>9} {:>6} {:>13}".format(*header))
    for row in rows:
        a, b = statistics.median(row["baseline"]), statistics.median(row["ours"])
        first = statistics.median(row["first_step"])
        cells = (row["preset"], row["steps"], a, b, b / a, first)
        print("{:14} {:>5} {:>11.2f} {:>9.2f} {:>6.3f} {:>13.2f}".format(*cells))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
