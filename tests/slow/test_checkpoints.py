"""Every checkpoint scored live, the best promoted by the documented rule, and early stopping."""

import math

import onnx
import pytest

from tests.jobs import JOBS, completed

pytestmark = pytest.mark.slow

FIELDS = ("eval_loss", "cer", "similarity", "relative_similarity")
SPEAK = "/api/v1/synthesize-trained"


def rule(checkpoints: list[dict]) -> int:
    """docs/API.md's rule, written again here: best cer + 0.05, then likeness, earlier step."""
    best = min(c["cer"] for c in checkpoints)
    near = [c for c in checkpoints if c["cer"] <= best + 0.05]
    return min(near, key=lambda c: (-c["relative_similarity"], c["step"]))["step"]


def checkpoints(server, job_id: str) -> dict:
    response = server.client.get(f"{JOBS}/{job_id}/checkpoints", headers=server.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_scored_checkpoints_follow_the_documented_rule(server, tiny_job):
    job_id = tiny_job["job"]["job_id"]
    found = checkpoints(server, job_id)
    scored = found["checkpoints"]
    assert len(scored) >= 2, found
    for entry in scored:
        for field in FIELDS:
            assert isinstance(entry[field], float) and math.isfinite(entry[field]), (field, entry)
        assert entry["file"] == f"checkpoint_{entry['step']}.pth"
        assert entry["samples"], entry
    assert found["promoted"] == rule(scored)
    sample = server.client.get(scored[0]["samples"][0], headers=server.headers)
    assert sample.status_code == 200 and sample.content[:4] == b"RIFF"
    stamp = _onnx_stamp(tiny_job["dir"])
    assert stamp == f"checkpoint_{found['promoted']}.pth"


def test_promoting_another_checkpoint_switches_the_voice(server, tiny_job):
    job_id = tiny_job["job"]["job_id"]
    before = checkpoints(server, job_id)
    other = next(
        c["step"] for c in before["checkpoints"] if c["kept"] and c["step"] != before["promoted"]
    )
    _speak(server, job_id)
    try:
        answer = server.client.post(
            f"{JOBS}/{job_id}/checkpoints/{other}/promote", headers=server.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["promoted"] == other
        assert _onnx_stamp(tiny_job["dir"]) == f"checkpoint_{other}.pth"
        # The voice cache keys on best_model.pth's identity: the new export is loaded, in ONNX.
        loads = _cache(server)["loads"]
        assert _speak(server, job_id).startswith("onnx")
        assert _cache(server)["loads"] == loads + 1
    finally:
        server.client.post(
            f"{JOBS}/{job_id}/checkpoints/{before['promoted']}/promote", headers=server.headers
        )


def test_promoting_an_unknown_step_is_a_404(server, tiny_job):
    job_id = tiny_job["job"]["job_id"]
    answer = server.client.post(
        f"{JOBS}/{job_id}/checkpoints/999999/promote", headers=server.headers
    )
    assert answer.status_code == 404 and "step 999999" in answer.json()["detail"]


def test_early_stopping_ends_a_frozen_model_before_its_last_epoch(server):
    # Learning rate 0: no checkpoint can beat the first, so patience 1 stops at the second.
    job_id = server.start(epochs=3, batch_size=8, learning_rate=0, early_stop_patience=1)
    job = server.wait(job_id, completed)
    progress = job["progress"]
    assert progress["stopped_early"] is True, progress
    assert progress["step"] < progress["total_steps"], progress
    assert "stopped early" in server.client.get(f"{JOBS}/{job_id}/log", headers=server.headers).text
    assert checkpoints(server, job_id)["promoted"] == min(
        c["step"] for c in checkpoints(server, job_id)["checkpoints"]
    )


def _onnx_stamp(job_dir) -> str:
    """Which checkpoint model.onnx was exported from, by its metadata."""
    model = onnx.load(str(job_dir / "model.onnx"), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}["voicesmith_checkpoint"]


def _speak(server, job_id: str) -> str:
    """Synthesize with the job's voice; the backend that spoke."""
    answer = server.client.post(
        SPEAK, json={"text": "Hello there.", "job_id": job_id}, headers=server.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Voicesmith-Backend"]


def _promote(server, job_id: str, step: int):
    return server.client.post(f"{JOBS}/{job_id}/checkpoints/{step}/promote", headers=server.headers)


def _cache(server) -> dict:
    return server.client.get("/api/v1/admin/voices/cache", headers=server.headers).json()
