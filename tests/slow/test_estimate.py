"""The dry run: a real probe of the session's tiny job, checked against that job's own time."""

import time

import pytest

from tests.jobs import at_step, done
from tests.slow.conftest import Api

ESTIMATE = "/api/v1/admin/training/estimate"
# The session's tiny job (tests/slow/conftest.py): the same body is the same job.
TINY = {
    "dataset_name": "lj",
    "base_model": "scratch:tiny",
    "epochs": 2,
    "batch_size": 4,
    "test_sentences": ["Hello from a tiny voice."],
}
FIELDS = {
    "device": str,
    "seconds_per_step": float,
    "steps_per_epoch": int,
    "total_steps": int,
    "estimated_seconds": float,
    "peak_memory_mb": int,
    "memory_limit_mb": int,
    "fits": bool,
    "suggested_batch_size": int,
}


def poll(server: Api, answer: dict, timeout: float = 300) -> dict:
    """Follow a 202 until the estimate is measured or failed."""
    deadline = time.monotonic() + timeout
    while answer["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1)
        url = f"{ESTIMATE}/{answer['estimate_id']}"
        answer = server.client.get(url, headers=server.headers).json()
    return answer


@pytest.fixture(scope="module")
def measured(server: Api, tiny_job: dict) -> tuple[dict, float]:
    """The tiny job's dry run, measured by the worker once the job is done; and its wall time."""
    started = time.monotonic()
    response = server.client.post(ESTIMATE, json=TINY, headers=server.headers, timeout=200)
    assert response.status_code in (200, 202), response.text
    answer = poll(server, response.json())
    return answer, time.monotonic() - started


@pytest.mark.slow
def test_dry_run_measures_every_field_and_forecasts_the_real_job(measured, tiny_job):
    answer, took = measured
    assert answer["status"] == "done", answer
    assert answer["source"] == "measured" and answer["measured_at"]
    for name, kind in FIELDS.items():
        assert type(answer[name]) is kind, (name, answer[name])
    progress = tiny_job["job"]["progress"]
    assert answer["device"] == "cpu" == progress["device"]
    assert answer["steps_per_epoch"] == progress["total_steps"] // 2
    assert answer["total_steps"] == progress["total_steps"]
    assert answer["fits"] is True and answer["suggested_batch_size"] == 4
    assert 0 < answer["peak_memory_mb"] <= answer["memory_limit_mb"]
    assert answer["seconds_per_step"] > 0
    real = progress["training_seconds"]
    assert 0.5 * real <= answer["estimated_seconds"] <= 1.5 * real, (answer, real)
    assert took < 200, f"the dry run took {took:.0f} s"


@pytest.mark.slow
def test_dry_run_refuses_a_missing_dataset_as_start_does(server):
    body = {**TINY, "dataset_name": "nowhere"}
    start = server.client.post("/api/v1/admin/training/start", json=body, headers=server.headers)
    estimate = server.client.post(ESTIMATE, json=body, headers=server.headers)
    assert estimate.status_code == start.status_code == 404
    assert estimate.json() == start.json()
    unknown = server.client.get(f"{ESTIMATE}/est_20260101000000_00000000", headers=server.headers)
    assert unknown.status_code == 404 and "does not exist" in unknown.json()["detail"]


@pytest.mark.slow
def test_while_a_job_trains_a_stored_answer_comes_at_once_and_a_new_one_queues(server, measured):
    first, _ = measured
    job_id = server.start(epochs=20)
    server.wait(job_id, at_step(1), timeout=120)
    began = time.monotonic()
    stored = server.client.post(ESTIMATE, json=TINY, headers=server.headers)
    assert stored.status_code == 200, stored.text
    assert time.monotonic() - began < 10
    said = stored.json()
    assert said["source"] == "stored" and said["measured_at"] == first["measured_at"]
    assert said["estimated_seconds"] == first["estimated_seconds"]
    # Other settings have no measurement: the probe waits for the worker behind the job.
    queued = server.client.post(ESTIMATE, json={**TINY, "batch_size": 2}, headers=server.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["estimate_id"]
    server.post(job_id, "cancel")
    server.wait(job_id, done, timeout=60)
    answer = poll(server, queued.json())
    assert answer["status"] == "done" and answer["source"] == "measured", answer
    assert answer["suggested_batch_size"] == 2 and answer["total_steps"] > first["total_steps"]
