"""The dry run against the real job: estimated_seconds beside the job's own training_seconds.

On a live server with its embedded worker, for each preset it runs (a) POST /estimate, timed
from the request to its answer, and (b) the same body as a real job from POST /start to
`completed`, and reads the job's progress.json `training_seconds` (the time in its training
phase, evaluations and scoring included: what the estimate forecasts). scratch:tiny trains
2 epochs; scratch:full a fixed number of steps (max_steps). It prints medians side by side,
the ratio estimate/real (target 0.75 to 1.25) and how long the dry run took (target under
60 s on CPU for scratch:full), then every run as JSON.
Run: .venv/bin/python benchmarks/estimate.py [--repeats 1] [--full-steps 6]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402
    SENTENCES,
    login,
    start_server_retrying,
    stop_server,
    upload_clips,
)
from tests.factories import fixture_clips, speak  # noqa: E402
from tests.jobs import wait_for_job  # noqa: E402

PASSWORD = "benchmark-password"
API = "/api/v1/admin/training"
JOB_TIMEOUT_S = 1800


def main() -> None:
    """Run every preset and print the table."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-bench-estimate-"))
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD}
    proc, base = start_server_retrying(work, env)
    try:
        client = httpx.Client(base_url=base, timeout=JOB_TIMEOUT_S)
        headers = login(client, "admin", PASSWORD)
        clips = fixture_clips() + [
            (speak(t, work / f"s{n}.wav"), t) for n, t in enumerate(SENTENCES)
        ]
        upload_clips(client, headers, clips, "bench")
        runs = [
            _measure(client, headers, body, n)
            for body in _bodies(args)
            for n in range(args.repeats)
        ]
    finally:
        stop_server(proc)
    _print(runs, len(clips), args)


def _parse() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--tiny-epochs", type=int, default=2)
    parser.add_argument("--full-steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--presets", default="scratch:tiny,scratch:full")
    return parser.parse_args()


def _bodies(args: argparse.Namespace) -> list[dict]:
    """The start bodies to estimate and run."""
    shapes = {
        "scratch:tiny": {"epochs": args.tiny_epochs},
        "scratch:full": {"epochs": 100, "max_steps": args.full_steps},
    }
    return [
        {"dataset_name": "bench", "base_model": p, "batch_size": args.batch_size, **shapes[p]}
        for p in args.presets.split(",")
    ]


def _measure(client: httpx.Client, headers: dict, body: dict, n: int) -> dict:
    """One dry run, then the real job; both with the worker otherwise idle."""
    started = time.monotonic()
    answer = client.post(f"{API}/estimate", json=body, headers=headers).json()
    while answer.get("status") in ("queued", "running"):
        time.sleep(1)
        answer = client.get(f"{API}/estimate/{answer['estimate_id']}", headers=headers).json()
    dry_run = time.monotonic() - started
    if answer.get("status") != "done":
        raise SystemExit(f"the dry run of {body} failed: {answer}")
    response = client.post(f"{API}/start", json=body, headers=headers)
    response.raise_for_status()
    job = wait_for_job(client, headers, response.json()["job_id"], timeout=JOB_TIMEOUT_S)
    progress = job["progress"]
    run = {
        "preset": body["base_model"],
        "run": n + 1,
        "estimated_seconds": answer["estimated_seconds"],
        "training_seconds": progress["training_seconds"],
        "steps": progress["total_steps"],
        "estimated_steps": answer["total_steps"],
        "estimated_seconds_per_step": answer["seconds_per_step"],
        "real_seconds_per_step": progress["seconds_per_step"],
        "peak_memory_mb": answer["peak_memory_mb"],
        "real_peak_memory_mb": progress["peak_memory_mb"],
        "dry_run_seconds": round(dry_run, 1),
        "probe_seconds": answer.get("probe_seconds"),
    }
    print(json.dumps(run), file=sys.stderr, flush=True)
    return run


def _print(runs: list[dict], clips: int, args: argparse.Namespace) -> None:
    """The side-by-side table, medians per preset, then every run as JSON."""
    print(
        f"\n{clips} clips, batch {args.batch_size}, {os.cpu_count()} CPUs; medians of "
        f"{args.repeats} run(s) each, seconds. ratio = estimated / real (target 0.75-1.25)."
    )
    head = (
        f"{'preset':<14}{'steps':>6}{'estimated':>11}{'real':>9}{'ratio':>7}"
        f"{'s/step est':>12}{'s/step real':>12}{'peak MB est':>13}{'peak MB real':>14}"
        f"{'dry run':>9}{'probe':>7}"
    )
    print(head)
    for preset in dict.fromkeys(r["preset"] for r in runs):
        mine = [r for r in runs if r["preset"] == preset]

        def med(key: str, rows: list[dict] = mine) -> float:
            return statistics.median(r[key] for r in rows)

        ratio = statistics.median(r["estimated_seconds"] / r["training_seconds"] for r in mine)
        print(
            f"{preset:<14}{med('steps'):>6.0f}{med('estimated_seconds'):>11.1f}"
            f"{med('training_seconds'):>9.1f}{ratio:>7.2f}"
            f"{med('estimated_seconds_per_step'):>12.2f}{med('real_seconds_per_step'):>12.2f}"
            f"{med('peak_memory_mb'):>13.0f}{med('real_peak_memory_mb'):>14.0f}"
            f"{med('dry_run_seconds'):>9.1f}{med('probe_seconds'):>7.1f}"
        )
    print("\nruns:")
    for run in runs:
        print(json.dumps(run))


if __name__ == "__main__":
    main()
