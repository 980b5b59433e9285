"""Training overhead: a plain Coqui recipe against a voicesmith job, same data, same steps.

For each preset it runs (a) benchmarks/coqui_recipe.py (Trainer.fit(), nothing else) and
(b) a voicesmith job from POST /start to `completed`, on a live server with its embedded
worker, alternating a and b, at the same CPU priority. Neither side is instrumented: each
run's time is split by what it leaves behind. Both write the Trainer's TensorBoard events
(each with its wall time); the job also writes metrics.jsonl (a time and the mean step time
per step), train.log, progress.json and its model files, and its row has started_at and
finished_at. It prints medians, side by side with ratios b/a: start to the first step,
steady-state seconds per step (steps 2..N), and the work after the last step item by item,
each with a line on what it is. Run: .venv/bin/python benchmarks/training.py [--repeats 3]
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SENTENCES, login, start_server_retrying, stop_server, upload_clips  # noqa: E402
from tests.factories import fixture_clips, speak  # noqa: E402
from tests.jobs import wait_for_job  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.engines import runfiles  # noqa: E402

PASSWORD = "benchmark-password"
JOB_TIMEOUT_S = 1800
STEADY_TARGET = 1.05
# train.log lines the end of a run prints (engines/training/main.py, intelligibility.py).
EXPORT_LINE = re.compile(r"^(exported .*) in ([\d.]+) s$", re.M)
EXPORT_FAILED = re.compile(r"^WARNING: ONNX export failed.*$", re.M)
ASR_LINE = re.compile(r"^(intelligibility: .*|WARNING: could not measure intelligibility.*)$", re.M)

# Start to the first step: (key, label, what it is). "-" in the recipe column: job only.
BEFORE = (
    ("claim", "POST /start to the worker's claim", "request, queue, job.json (job only)"),
    ("setup", "imports, config, model", "process start to the Trainer's logger"),
    ("trainer", "Trainer set-up", "restore, loaders, config summary to epoch 1"),
    ("step1", "step 1", "first step with its first plots (not steady state)"),
)
# After the last step, in the order the job does it: (key, label, what it is).
AFTER = (
    ("eval", "final evaluation + test sentences",
     "Coqui's end-of-epoch pass: eval loss on the held-out clips and each test sentence "
     "synthesised (the job also writes them to samples/); the recipe does the same"),
    ("save", "checkpoint save",
     "best_model_N.pth written by the Trainer, as in the recipe; the job links "
     "checkpoint_N.pth to it for resume (or saves one when step N was not the best)"),
    ("publish", "publish the run folder",
     "TensorBoard closed, config.json copied and the Trainer's run folder moved up into the "
     "job folder, old checkpoints pruned (job only)"),
    ("onnx", "ONNX export",
     "best_model.pth reloaded and traced by Coqui's export_onnx into model.onnx, stamped "
     "with its checkpoint, so synthesis runs without PyTorch (job only)"),
    ("int8", "int8 quantisation + calibration",
     "static int8 of the decoder's convolutions, calibrated on the test sentences and the "
     "stock ones, then timed and compared (SNR) with model.onnx to keep it or not (job only)"),
    ("asr", "intelligibility ASR",
     "the ASR model loaded and the last evaluations' samples recognised, for the job's "
     "character error rate in progress.json (job only)"),
    ("exit", "process exit, job completed",
     "the process exits (torch teardown); the worker sees it within its 0.5 s poll and "
     "marks the job completed; for the recipe, TensorBoard closed and the process exits"),
)  # fmt: skip


def main() -> None:
    """Run every preset and print the tables."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-bench-"))
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD}
    proc, base = start_server_retrying(work, env)
    try:
        client = httpx.Client(base_url=base, timeout=60)
        headers = login(client, "admin", PASSWORD)
        clips = fixture_clips() + [
            (speak(t, work / f"s{n}.wav"), t) for n, t in enumerate(SENTENCES)
        ]
        upload_clips(client, headers, clips, "bench")
        rows = [
            _measure(client, headers, work, args, preset, epochs)
            for preset, epochs in _presets(args)
        ]
    finally:
        stop_server(proc)
    _print(rows, len(clips), args)


def _parse() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny-epochs", type=int, default=2)
    parser.add_argument("--full-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--presets", default="scratch:tiny,scratch:full")
    # The worker renices every training process (VOICESMITH_TRAINING_NICE); on a busy host a
    # recipe at a higher priority than the job would win CPU time, not measure overhead.
    parser.add_argument("--nice", type=int, default=Settings().training_nice)
    return parser.parse_args()


def _presets(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(preset, epochs) pairs to run."""
    epochs = {"scratch:tiny": args.tiny_epochs, "scratch:full": args.full_epochs}
    return [(p, epochs[p]) for p in args.presets.split(",")]


def _measure(client, headers, work: Path, args, preset: str, epochs: int) -> dict:
    """Alternate baseline and job runs; return each run's split."""
    baseline, ours, load = [], [], []
    for n in range(args.repeats):
        load.append(os.getloadavg()[0])
        baseline.append(_baseline(work, preset, epochs, n, args))
        load.append(os.getloadavg()[0])
        ours.append(_job(client, headers, preset, epochs, args.batch_size))
        # Each run as it ends, so a long benchmark cut short still leaves its numbers.
        said = {"preset": preset, "run": n + 1, "recipe": baseline[-1], "job": ours[-1]}
        print(json.dumps(said), file=sys.stderr, flush=True)
    return {"preset": preset, "epochs": epochs, "baseline": baseline, "ours": ours, "load": load}


def _baseline(work: Path, preset: str, epochs: int, n: int, args) -> dict:
    """One plain-recipe process, split from its TensorBoard events."""
    out = work / f"recipe-{preset.replace(':', '-')}-{n}"
    command = [
        "nice", "-n", str(args.nice), sys.executable, str(ROOT / "benchmarks" / "coqui_recipe.py"),
        str(work / "var" / "data" / "bench"), str(out), preset, str(epochs), str(args.batch_size),
    ]  # fmt: skip
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    ended = time.time()
    if done.returncode != 0:
        raise SystemExit(f"the recipe exited {done.returncode}:\n{done.stderr[-4000:]}")
    return _recipe_split(out, started, ended)


def _recipe_split(out: Path, started: float, ended: float) -> dict:
    """Seconds of each part of a recipe run; started and ended are its process's wall times."""
    events = _events(out)
    logger, epoch_one, step_one_end, epochs = _trainer_marks(events)
    steps = epochs[-1][0]
    tested = _last(events, steps, "Test") or epochs[-1][1]
    # A last evaluation that is not the best saves nothing: then the save took no time.
    saved = max([tested, *(path.stat().st_mtime for path in out.rglob("*.pth"))])
    parts = {
        "claim": math.nan,
        "setup": logger - started,
        "trainer": epoch_one - logger,
        "step1": step_one_end - epoch_one,
        "eval": tested - epochs[-1][1],
        "save": saved - tested,
        "exit": ended - saved,
    }
    trained = sum(seconds for _, _, seconds in epochs)
    return _totals(parts, steps, (trained - parts["step1"]) / max(steps - 1, 1), started, ended)


def _job(client, headers, preset: str, epochs: int, batch_size: int) -> dict:
    """One job from POST /start to completed, split from its run folder; fails fast."""
    body = {
        "dataset_name": "bench", "base_model": preset, "epochs": epochs, "batch_size": batch_size,
    }  # fmt: skip
    started = time.time()
    response = client.post("/api/v1/admin/training/start", json=body, headers=headers)
    response.raise_for_status()
    answer = response.json()
    # A job that ends failed or cancelled raises JobEnded at once, with its error.
    job = wait_for_job(client, headers, answer["job_id"], timeout=JOB_TIMEOUT_S, interval=0.2)
    return _job_split(Path(answer["output_dir"]), job, started)


def _job_split(job_dir: Path, job: dict, started: float) -> dict:
    """Seconds of each part of a job; started is the wall time of its POST /start."""
    lines = (job_dir / runfiles.METRICS_FILE).read_text(encoding="utf-8").splitlines()
    metrics = [json.loads(line) for line in lines]
    first, last = metrics[0], metrics[-1]
    steps = last["step"]
    claimed, finished = _wall(job["started_at"]), _wall(job["finished_at"])
    events = _events(job_dir)
    logger, _, _, _ = _trainer_marks(events)
    epoch_one = first["time"] - first["seconds_per_step"]  # step 1 is timed from epoch start
    log = runfiles.log_path(job_dir).read_text(encoding="utf-8", errors="replace")
    ends, notes = _after_marks(job_dir, steps, log, events)
    parts = {
        "claim": claimed - started,
        "setup": logger - claimed,
        "trainer": epoch_one - logger,
        "step1": first["seconds_per_step"],
    }
    previous = last["time"]
    for key, end in zip(("eval", "save", "publish", "onnx", "int8", "asr"), ends, strict=True):
        end = min(max(end or previous, previous), finished)  # a missing file: 0 s
        parts[key], previous = end - previous, end
    parts["exit"] = finished - previous
    # seconds_per_step is the job's own mean of its last <= 20 steps, step 1 left out.
    row = _totals(parts, steps, last["seconds_per_step"], started, finished)
    return {**row, "notes": notes}


def _after_marks(
    job_dir: Path, step: int, log: str, events: list
) -> tuple[list[float | None], dict]:
    """When each item after the last step ended (None: not written), and what the log said."""
    config = _mtime(job_dir / runfiles.CONFIG_FILE)  # publish copies it up first
    exported = EXPORT_LINE.search(log)
    # export_voice starts right after publish; train.log gives its seconds to 0.1 s.
    export_end = _mtime(job_dir / runfiles.INT8_ONNX_FILE) or (
        config + float(exported[2]) if exported and config else None
    )
    failed = EXPORT_FAILED.search(log)
    asr = ASR_LINE.search(log)
    notes = {
        "onnx": failed[0] if failed else "",
        "int8": exported[1] if exported else "",
        "asr": asr[1] if asr else "no ASR line in train.log: no samples or no ASR model",
    }
    ends = [
        _last(events, step, "Test"),
        _mtime(runfiles.step_checkpoints(job_dir, step)[1]),
        config,
        _mtime(job_dir / runfiles.ONNX_FILE),
        export_end,
        _mtime(job_dir / runfiles.PROGRESS_FILE),  # written once more after the ASR
    ]
    return ends, notes


def _totals(parts: dict, steps: int, steady: float, started: float, ended: float) -> dict:
    """A run's parts with its sums: to the first step, after the last, between, and in all."""
    before = sum(parts[key] for key, _, _ in BEFORE if not math.isnan(parts[key]))
    after = sum(parts.get(key, 0.0) for key, _, _ in AFTER)
    total = ended - started
    if steps < 2:
        steady = math.nan
    between = total - before - after - (steady * (steps - 1) if steps > 1 else 0.0)
    return {
        "steps": steps,
        "parts": parts,
        "before": before,
        "steady": steady,
        "between": between,
        "after": after,
        "total": total,
    }


def _events(folder: Path) -> list[tuple[float, int, str, float]]:
    """Every TensorBoard scalar and summary under folder as (wall time, step, tag, value)."""
    found = []
    for path in folder.rglob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            if event.WhichOneof("what") == "file_version":
                found.append((event.wall_time, event.step, "file_version", 0.0))
            for value in event.summary.value:
                number = value.tensor.float_val[0] if value.tensor.float_val else math.nan
                found.append((event.wall_time, event.step, value.tag, number))
    return sorted(found)


def _trainer_marks(events: list) -> tuple[float, float, float, list[tuple[int, float, float]]]:
    """The logger's creation, epoch 1's start, step 1's end and each epoch's (step, end, secs).

    The Trainer logs step 1 (global step 0) with its figures and audio at its end; each
    finished epoch logs its epoch_time. A job ends its last epoch early, so it may log none.
    """
    logger = next(wall for wall, _, tag, _ in events if tag == "file_version")
    step_one = _last(events, 0, "Train")
    epochs = [(s, w, v) for w, s, tag, v in events if tag == "TrainEpochStats/epoch_time"]
    epoch_one = epochs[0][1] - epochs[0][2] if epochs else math.nan
    return logger, epoch_one, step_one or math.nan, epochs


def _last(events: list, step: int, prefix: str) -> float | None:
    """The wall time of the last event at step whose tag starts with prefix."""
    walls = [wall for wall, s, tag, _ in events if s == step and tag.startswith(prefix)]
    return max(walls, default=None)


def _mtime(path: Path) -> float | None:
    """When a file was last written; None if it is not there."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def _wall(stamp: str) -> float:
    """An API timestamp as a Unix time."""
    return datetime.fromisoformat(stamp).timestamp()


def _print(rows: list[dict], clips: int, args: argparse.Namespace) -> None:
    """The side-by-side tables, medians only, then every run as JSON."""
    print(
        f"\n{clips} clips, batch {args.batch_size}, both sides at nice {args.nice}; "
        f"medians of {args.repeats} runs each, seconds; "
        f"load average {min(min(r['load']) for r in rows):.1f}-"
        f"{max(max(r['load']) for r in rows):.1f} on {os.cpu_count()} CPUs"
    )
    for row in rows:
        _print_preset(row)
    print(json.dumps(rows, indent=1))


def _print_preset(row: dict) -> None:
    """One preset's table and the explanation of each item after training."""
    a, b = row["baseline"], row["ours"]
    steps = b[0]["steps"]
    print(f"\n{row['preset']}, {row['epochs']} epoch(s), {steps} steps (recipe: {a[0]['steps']})")
    print("{:44} {:>10} {:>9} {:>7}".format("", "(a) recipe", "(b) job", "b/a"))
    _line("start to the first step", _median(a, "before"), _median(b, "before"))
    for key, label, what in BEFORE:
        _line(f"  {label}", _median(a, "parts", key), _median(b, "parts", key), f"  {what}")
    steady = (_median(a, "steady"), _median(b, "steady"))
    verdict = "met" if steady[1] / steady[0] <= STEADY_TARGET else "MISSED"
    _line(f"steady state, s/step (steps 2..{steps})", *steady,
          f"  target <= {STEADY_TARGET:.2f}x: {verdict}")  # fmt: skip
    _line("between epochs (eval, test sentences)", _median(a, "between"), _median(b, "between"))
    _line("after the last step", _median(a, "after"), _median(b, "after"))
    for key, label, _ in AFTER:
        _line(f"  {label}", _median(a, "parts", key), _median(b, "parts", key))
    _line("total", _median(a, "total"), _median(b, "total"))
    print("\nafter the last step, item by item:")
    for key, label, what in AFTER:
        said = next((run["notes"].get(key) for run in reversed(b) if run["notes"].get(key)), "")
        print(f"  {label}: {what}" + (f"\n    last run: {said}" if said else ""))


def _median(runs: list[dict], key: str, part: str | None = None) -> float:
    """The median of one number over runs; nan where a side has no such part."""
    values = [run[key] if part is None else run[key].get(part, math.nan) for run in runs]
    return statistics.median(values)


def _line(label: str, a: float, b: float, tail: str = "") -> None:
    """A table row: recipe, job and their ratio; '-' for a part the recipe does not have."""
    ratio = b / a if a and not math.isnan(a) else math.nan
    cells = ["-" if math.isnan(x) else f"{x:.2f}" for x in (a, b)]
    share = "-" if math.isnan(ratio) else f"{ratio:.2f}x"
    print(f"{label:44} {cells[0]:>10} {cells[1]:>9} {share:>7}{tail}")


if __name__ == "__main__":
    main()
