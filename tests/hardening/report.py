"""Write docs/RELIABILITY.md from the outcomes the hardening tests recorded.

Run the suite, then this: `python -m tests.hardening.report [results.json] [out.md]`.
"""

import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from tests.hardening.conftest import RESULTS

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "RELIABILITY.md"
AREAS = {
    "test_bad_input": "Bad input",
    "test_schema": "Generated requests",
    "test_schema_seed": "Generated requests",
    "test_concurrency": "Concurrency",
    "test_load_during_training": "Concurrency",
    "test_faults": "Faults",
    "test_security": "Security",
    "test_wyoming": "Wyoming",
    "test_consent": "Consent",
}
SCALE_INTRO = """Faults across workers, in `tests/scale/` on real PostgreSQL and Redis with two
workers (not counted in the table below, which is the hardening suite's):

| fault | what must hold | test |
| --- | --- | --- |
"""
# (fault, what must hold, test): written by hand, as the scale suite records no results.
SCALE_ROWS = [
    (
        "A worker and its training process frozen (SIGSTOP) past the timeout, then woken",
        "The job is taken over and trains on the other worker with no API call; the woken "
        "process exits at its first check, and no file of the job folder changes (sha256, "
        "size, mtime); the job completes as attempt 2; `train.log` tells the takeover once",
        "`test_cluster.py::test_a_frozen_worker_that_wakes_taken_over_never_writes_the_job_"
        "folder_again`",
    ),
    (
        "A worker killed (SIGKILL) mid-job, and Redis restarted empty",
        "The job is taken over and completes on the survivor with no API call, its takeover "
        "in `warnings` once",
        "`test_cluster.py::test_two_workers_share_jobs_and_a_lost_job_is_taken_over_by_the_"
        "survivor`",
    ),
    (
        "Redis flushed (FLUSHALL) while the workers run, a job `pending` in no queue",
        "The queue sweep finds it: trained within two sweep periods, exactly once",
        "`test_cluster.py::test_a_pending_job_the_queue_lost_is_trained_once_within_two_sweeps`",
    ),
    (
        "A worker lost with the job on its last attempt (`VOICESMITH_MAX_ATTEMPTS`)",
        "The job stays `failed`, with the reason; earlier attempts go back to the queue",
        "`test_postgres.py::test_the_api_takes_over_jobs_of_silent_workers_until_the_last_attempt`",
    ),
    (
        "A training process stopped, taken over, continued",
        "It exits with status 76 and the folder is as the new attempt left it; a running one "
        "stops within a second",
        "`tests/unit/test_fencing.py`",
    ),
]
HEADER = """# Reliability

What the hardening suite tries against voicesmith, and what happened, as of its last run.
This file is generated: do not edit it by hand. To regenerate it, run

```sh
.venv/bin/pytest -m hardening tests/hardening tests/slow/test_load_during_training.py
.venv/bin/python -m tests.hardening.report
```

The tests record their outcomes in `build/hardening-results.json`; the second command
turns that into the table below. A case is one request, upload, planted orphan or
generated call, as the "what" column says. The faults that need many workers (a worker
killed mid-job, a Redis restart) are in `tests/scale/`. The Wyoming rows send raw bytes to a
live `voicesmith wyoming` (`tests/hardening/test_wyoming.py`); the Wyoming requests that are
well framed but wrong (unknown or unpublished voices, text over the limit, a client leaving
mid-stream) are in `tests/slow/test_wyoming.py`.

Generated requests come in two kinds. `make test` runs schemathesis seeded and derandomized
(`FUZZ_SEED` in `tests/hardening/test_schema.py`), so it sends the same requests on every run
and fails only for a change in the product; `tests/hardening/test_schema_seed.py` proves it by
recording the requests of two runs and comparing them. `make fuzz` is exploration, never a
gate: unseeded, with 300 examples a route instead of 45. What it finds goes into
`tests/hardening/corpus.py` as a fixed case, so the seeded suite keeps it from then on.

"""
SCALE = SCALE_INTRO + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in SCALE_ROWS) + "\n"


def rows(results: list[dict]) -> list[tuple[str, str, int, str, float]]:
    """(area, what is tried, cases, result, seconds), one per test or per bad-input kind."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for result in results:
        module = result["nodeid"].split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        what = result.get("what", result["nodeid"])
        groups[(AREAS.get(module, module), what)].append(result)
    table = [_row(area, what, group) for (area, what), group in groups.items()]
    return sorted(table, key=lambda row: row[0])  # stable: tests keep their order in an area


def _row(area: str, what: str, group: list[dict]) -> tuple[str, str, int, str, float]:
    """One table row: cases counted from what the tests recorded, else from the items."""
    cases = sum(int(r.get("cases", 1)) for r in group)
    failed = sum(1 for r in group if r["outcome"] != "passed")
    result = "pass" if not failed else f"FAIL ({failed} of {len(group)})"
    return area, what, cases, result, sum(r["seconds"] for r in group)


def render(results: list[dict]) -> str:
    """The whole Markdown page."""
    table = rows(results)
    lines = [
        "| area | what is tried | cases | result | seconds |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    lines += [f"| {a} | {w} | {c:,} | {r} | {s:.1f} |" for a, w, c, r, s in table]
    total = sum(c for _, _, c, _, _ in table)
    failed = sum(1 for *_, r, _ in table if r != "pass")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = f"\n{total:,} cases in {len(table)} rows, {failed} failing rows; generated {when}.\n"
    return HEADER + SCALE + "\n".join(lines) + "\n" + summary


def main(argv: list[str]) -> None:
    """Read the recorded results and write the page."""
    source = Path(argv[0]) if argv else RESULTS
    target = Path(argv[1]) if len(argv) > 1 else OUT
    target.write_text(render(json.loads(source.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
