"""API latency under load while a tiny job trains (SQLite, then PostgreSQL), and how two
workers compare with one on four queued tiny jobs.

(a) 50 concurrent clients loop over the job and dataset list and detail endpoints for 30 s
while a `scratch:tiny` job trains in the server's embedded worker; p50, p99 and requests
per second, first on SQLite with the SQLite queue, then on PostgreSQL with Redis.
(b) `serve --no-worker` plus 1, then 2, `voicesmith worker` processes on PostgreSQL and Redis
drain four queued one-epoch `scratch:tiny` jobs, with torch's default threads and with
VOICESMITH_TRAINING_THREADS splitting the cores; median wall times of --repeats rounds.
Private PostgreSQL and Redis servers are started on free ports (tests/scale/services.py).
With --rate R, (a) is open-loop instead: requests leave on a fixed schedule of R per second
whatever the answers do, and each latency counts from its scheduled send time, so a stall
shows up in full rather than slowing the senders down (no coordinated omission).
Run: .venv/bin/python benchmarks/api_load.py [--seconds 30] [--clients 50 | --rate 100]
[--repeats 3] [--skip-load] [--skip-workers]
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SENTENCES, login, start_server, stop_server, upload_clips  # noqa: E402
from tests.factories import speak  # noqa: E402
from tests.jobs import at_step, wait_for_job  # noqa: E402
from tests.scale.services import Postgres, Redis, ensure_packages  # noqa: E402
from tests.scale.test_cluster import start_worker  # noqa: E402

PASSWORD = "benchmark-password"
TRAINING = "/api/v1/admin/training"


def main() -> None:
    """Start the servers, run both measurements and print them."""
    args = _parse()
    problem = ensure_packages()
    if problem:
        sys.exit(problem)
    work = Path(tempfile.mkdtemp(prefix="vs-load-"))
    clips = [(speak(t, work / f"c{n:02d}.wav"), t) for n, t in enumerate(SENTENCES[:10])]
    pg, redis = Postgres().start(), Redis().start()
    try:
        if not args.skip_load:
            for name, env in (("sqlite", {}), ("postgres", _shared(pg, redis, "load"))):
                result = _load(work / name, env, clips, args)
                _print_load(name, result, args)
        if not args.skip_workers:
            _compare_workers(work, pg, redis, clips, args.repeats)
    finally:
        pg.stop()
        redis.stop()


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50, help="closed-loop clients")
    parser.add_argument("--rate", type=float, default=0, help="open loop: requests per second")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each worker setup")
    return parser.parse_args()


def _shared(pg: Postgres, redis: Redis, db: str, redis_db: int = 0) -> dict[str, str]:
    """Environment for processes sharing a fresh PostgreSQL database and a Redis database."""
    return {
        "VOICESMITH_DATABASE_URL": pg.create_database(db),
        "VOICESMITH_QUEUE_URL": redis.url(redis_db),
    }


def _base_env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD, **extra}


def _load(data_dir: Path, env: dict[str, str], clips, args) -> list[float]:
    """Latencies of every request made while a tiny job trains."""
    proc, base = start_server(data_dir, _base_env(env))
    try:
        client = httpx.Client(base_url=base, timeout=120)
        headers = login(client, "admin", PASSWORD)
        upload_clips(client, headers, clips, "lj")
        job_id = _start(client, headers, epochs=200)
        wait_for_job(client, headers, job_id, at_step(1), timeout=900)
        latencies = asyncio.run(_drive(base, headers, job_id, args))
        client.post(f"{TRAINING}/jobs/{job_id}/cancel", headers=headers)
        return latencies
    except httpx.HTTPStatusError:
        print(stop_server(proc)[-3000:], file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            stop_server(proc)


async def _drive(base: str, headers, job_id: str, args) -> list[float]:
    """Latencies of the four read endpoints, closed-loop or at a fixed rate."""
    paths = [f"{TRAINING}/jobs", f"{TRAINING}/jobs/{job_id}", f"{TRAINING}/datasets"]
    paths.append(f"{TRAINING}/datasets/lj")
    # aiohttp, not httpx: httpx's async pool costs more CPU per request than the server here,
    # and the load generator shares the server's cores. No connection limit in open loop:
    # a request must never queue in the client, or its wait would hide the server's.
    connector = aiohttp.TCPConnector(limit=0 if args.rate else args.clients)
    timeout = aiohttp.ClientTimeout(total=60)
    session = aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout)
    async with session as c:
        if args.rate:
            return await _open_loop(c, paths, args.rate, args.seconds)
        return await _closed_loop(c, paths, args.clients, args.seconds)


async def _closed_loop(c: aiohttp.ClientSession, paths, clients: int, seconds: float) -> list:
    """`clients` loops over the paths until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    runs = [_client_loop(c, paths[n % 4 :] + paths[: n % 4], deadline) for n in range(clients)]
    results = await asyncio.gather(*runs)
    return [latency for run in results for latency in run]


async def _open_loop(c: aiohttp.ClientSession, paths, rate: float, seconds: float) -> list:
    """Send `rate` requests a second on a fixed schedule, whatever the answers do."""
    start, sent = time.perf_counter() + 0.1, []
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        sent.append(asyncio.create_task(_get_since(c, paths[n % len(paths)], scheduled)))
    return list(await asyncio.gather(*sent))


async def _get_since(client: aiohttp.ClientSession, path: str, scheduled: float) -> float:
    """One GET; seconds from when it was scheduled to leave until its body arrived."""
    async with client.get(path) as response:
        response.raise_for_status()
        await response.read()
    return time.perf_counter() - scheduled


async def _client_loop(client: aiohttp.ClientSession, paths: list[str], deadline: float) -> list:
    """One client: request the paths in turn, timing each, until the deadline."""
    latencies, n = [], 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        async with client.get(paths[n % len(paths)]) as response:
            response.raise_for_status()
            await response.read()
        latencies.append(time.perf_counter() - started)
        n += 1
    return latencies


def _start(client: httpx.Client, headers, *, epochs: int) -> str:
    body = {"dataset_name": "lj", "base_model": "scratch:tiny", "epochs": epochs, "batch_size": 4}
    response = client.post(f"{TRAINING}/start", json=body, headers=headers)
    response.raise_for_status()
    return response.json()["job_id"]


def _compare_workers(work: Path, pg: Postgres, redis: Redis, clips, repeats: int) -> None:
    """1 and 2 workers, with torch's default threads and with the cores split between them."""
    half = max(1, (os.cpu_count() or 1) // 2)
    configs = [(1, 0), (1, half), (2, 0), (2, half)]
    walls: dict[tuple[int, int], list[float]] = {config: [] for config in configs}
    # Rounds rather than one config after another, so the machine's drift hits all alike.
    runs = [(n, config) for n in range(repeats) for config in configs]
    for redis_db, (n, (workers, threads)) in enumerate(runs, start=1):
        wall = _drain(work, pg, redis, clips, workers, threads, f"{n}", redis_db)
        walls[(workers, threads)].append(wall)
    baseline = statistics.median(walls[configs[0]])
    for (workers, threads), seen in walls.items():
        label = f"{threads} thread(s) per job" if threads else "torch's default threads"
        _print_workers(f"{workers} worker(s), {label}", statistics.median(seen), baseline)


def _drain(work: Path, pg, redis, clips, workers: int, threads: int, tag: str, redis_db: int):
    """Seconds for `workers` workers to finish four queued one-epoch tiny jobs."""
    run = f"drain{workers}_{threads}_{tag}"
    env = _base_env(_shared(pg, redis, run, redis_db=redis_db))
    env["VOICESMITH_TRAINING_THREADS"] = str(threads)
    data_dir = work / run
    api, base = start_server(data_dir, env, "--no-worker")
    procs = [start_worker(data_dir, env) for _ in range(workers)]
    try:
        client = httpx.Client(base_url=base, timeout=120)
        headers = login(client, "admin", PASSWORD)
        upload_clips(client, headers, clips, "lj")
        time.sleep(3)  # the workers are up and polling before the clock starts
        started = time.monotonic()
        jobs = [_start(client, headers, epochs=1) for _ in range(4)]
        for job_id in jobs:
            wait_for_job(client, headers, job_id, timeout=900)
        return time.monotonic() - started
    finally:
        for proc in procs:
            stop_server(proc)
        stop_server(api)


def _print_load(name: str, latencies: list[float], args) -> None:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    load = f"open loop {args.rate:.0f} req/s" if args.rate else f"{args.clients} clients"
    print(
        f"{name:9s} {load} x {args.seconds:.0f} s while training: "
        f"{len(ms)} requests, p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, "
        f"{len(ms) / args.seconds:.0f} req/s",
        flush=True,
    )


def _print_workers(label: str, wall: float, baseline: float) -> None:
    print(
        f"4 queued tiny jobs, {label:38s} median {wall:6.1f} s, {wall / baseline:.2f}x "
        f"(on {os.cpu_count()} CPU cores)",
        flush=True,
    )


if __name__ == "__main__":
    main()
