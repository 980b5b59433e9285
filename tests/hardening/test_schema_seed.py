"""The seeded schemathesis run is reproducible: the same seed sends the same requests twice."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hardening import test_schema

# A route with a JSON body, one with path and query parameters, and one with a form upload.
OPERATIONS = (
    "POST /api/v1/admin/training/start",
    "GET /api/v1/admin/training/jobs/{job_id}/log",
    "PATCH /api/v1/admin/training/datasets/{name}/clips/{clip}",
)
ROOT = Path(__file__).resolve().parents[2]


def _generate(record: Path) -> list[dict]:
    """Run the suite's schemathesis test in a fresh process for OPERATIONS; the requests sent."""
    env = {
        **os.environ,
        test_schema.RECORD_ENV: str(record),
        "VOICESMITH_FUZZ_OPERATIONS": ",".join(OPERATIONS),
    }
    env.pop("VOICESMITH_FUZZ", None)  # the seeded mode of `make test`, whatever the caller set
    target = f"{Path(test_schema.__file__)}::test_generated_requests_conform"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", target]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(test_schema.EXPLORING, reason="`make fuzz` is unseeded on purpose")
def test_the_same_seed_sends_the_same_requests(tmp_path: Path) -> None:
    """Two seeded runs record the same requests (3 routes, each run in a fresh process)."""
    first = _generate(tmp_path / "first.jsonl")
    second = _generate(tmp_path / "second.jsonl")
    assert {r["operation"] for r in first} == set(OPERATIONS)
    assert len({json.dumps(r, sort_keys=True) for r in first}) > 20  # varied, not one request
    assert first == second
