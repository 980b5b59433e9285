"""Starting jobs: validation before queueing, ids, cancel, resume and delete, without training."""

import re
import shutil
import threading

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, login, upload_clips
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.training import tasks

START = "/api/v1/admin/training/start"
JOBS = "/api/v1/admin/training/jobs"


@pytest.fixture
def ready(client, admin_headers, speech_clips):
    """A dataset `voice` with 12 clips."""
    upload_clips(client, admin_headers, speech_clips, "voice")
    return client


def start(client, headers, **body):
    """POST /start with defaults that train nothing real."""
    return client.post(
        START, json={"dataset_name": "voice", "base_model": "scratch:tiny", **body}, headers=headers
    )


def test_start_queues_a_pending_job_in_the_seed_shape(ready, admin_headers, settings):
    response = start(ready, admin_headers, epochs=2, batch_size=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert re.fullmatch(r"voice_\d{14}", body["job_id"])
    assert body["output_dir"] == str((settings.runs_dir / body["job_id"]).resolve())
    jobs = ready.get(JOBS, headers=admin_headers).json()
    assert jobs["status"] == "ok"
    [job] = jobs["jobs"]
    assert {k: job[k] for k in ("job_id", "status", "has_model")} == {
        "job_id": body["job_id"],
        "status": "pending",
        "has_model": False,
    }
    assert job["log_file"].endswith(f"{body['job_id']}/train.log") and job["created_at"]
    assert job["params"]["epochs"] == 2 and job["params"]["base_model"] == "scratch:tiny"


def test_same_second_gets_a_suffix(ready, admin_headers):
    ids = [start(ready, admin_headers).json()["job_id"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert any(re.fullmatch(r"voice_\d{14}_2", i) for i in ids) or len({i[:20] for i in ids}) > 1


def test_default_base_model_is_the_ljspeech_vits(ready, admin_headers):
    job_id = ready.post(START, json={"dataset_name": "voice"}, headers=admin_headers).json()[
        "job_id"
    ]
    job = ready.get(f"{JOBS}/{job_id}", headers=admin_headers).json()
    assert job["params"]["base_model"] == "tts_models/en/ljspeech/vits"
    assert job["params"]["epochs"] == 10 and job["params"]["batch_size"] == 4


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"dataset_name": "nope"}, 404, "does not exist"),
        ({"dataset_name": "../etc"}, 422, "letters, digits"),
        ({"epochs": 0}, 422, "epochs"),
        ({"epochs": -3}, 422, "epochs"),
        ({"epochs": 10**9}, 422, "epochs must be between 1 and 10000"),
        ({"epochs": "many"}, 422, "epochs"),
        ({"batch_size": 0}, 422, "batch_size"),
        ({"batch_size": 100000}, 422, "batch_size must be between"),
        ({"learning_rate": -1}, 422, "learning_rate"),
        ({"eval_split": 0.9}, 422, "eval_split"),
        ({"base_model": "tts_models/xx/nothing/vits"}, 422, "unknown base model"),
        ({"base_model": "/no/such/dir"}, 422, "does not exist"),
        ({"base_model": "job:missing_20260101000000"}, 404, "does not exist"),
        ({"test_sentences": ["  "]}, 422, "test sentence"),
    ],
)
def test_bad_start_requests_are_explained(ready, admin_headers, body, status, needle):
    response = start(ready, admin_headers, **body)
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]
    assert ready.get(JOBS, headers=admin_headers).json()["jobs"] == []


def test_too_small_dataset_is_refused(client, admin_headers, speech_clips):
    upload_clips(client, admin_headers, speech_clips[:3], "small")
    response = start(client, admin_headers, dataset_name="small")
    assert response.status_code == 422
    assert response.json()["detail"] == "dataset 'small' has 3 clips; training needs at least 10"


def test_missing_clip_file_is_named(ready, admin_headers, settings):
    (settings.datasets_dir / "voice" / "wavs" / "spoken_03.wav").unlink()
    response = start(ready, admin_headers)
    assert response.status_code == 409 and "spoken_03.wav" in response.json()["detail"]


def test_unknown_characters_are_listed_with_their_clips(client, admin_headers, speech_clips):
    clips = [*speech_clips[:10], (speech_clips[10][0], "Price: 5€ — ok")]
    upload_clips(client, admin_headers, clips, "odd")
    response = start(client, admin_headers, dataset_name="odd")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'€'" in detail and "spoken_10.wav" in detail


def test_low_disk_names_the_numbers(tmp_path, speech_clips):
    free_mb = shutil.disk_usage(tmp_path).free / 2**20
    settings = Settings(
        data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, min_free_disk_mb=free_mb * 10
    )
    with TestClient(create_app(settings)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload_clips(client, headers, speech_clips, "voice")
        response = start(client, headers)
    assert response.status_code == 409
    assert (
        "MB free" in response.json()["detail"]
        and "VOICESMITH_MIN_FREE_DISK_MB" in (response.json()["detail"])
    )


def test_pending_job_cancels_at_once_and_cannot_resume_without_checkpoint(ready, admin_headers):
    job_id = start(ready, admin_headers).json()["job_id"]
    cancelled = ready.post(f"{JOBS}/{job_id}/cancel", headers=admin_headers)
    assert cancelled.json()["status"] == "cancelled"
    again = ready.post(f"{JOBS}/{job_id}/cancel", headers=admin_headers)
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    resumed = ready.post(f"{JOBS}/{job_id}/resume", headers=admin_headers)
    assert resumed.status_code == 409 and "no checkpoint" in resumed.json()["detail"]


def test_delete_refuses_active_jobs_and_removes_files(ready, admin_headers, settings):
    job_id = start(ready, admin_headers).json()["job_id"]
    busy = ready.delete(f"{JOBS}/{job_id}", headers=admin_headers)
    assert busy.status_code == 409 and "cancel it" in busy.json()["detail"]
    ready.post(f"{JOBS}/{job_id}/cancel", headers=admin_headers)
    (settings.runs_dir / job_id).mkdir(parents=True, exist_ok=True)
    (settings.runs_dir / job_id / "train.log").write_text("one\ntwo\nthree\n")
    tail = ready.get(f"{JOBS}/{job_id}/log", params={"tail": 2}, headers=admin_headers)
    assert tail.text == "two\nthree"
    assert ready.delete(f"{JOBS}/{job_id}", headers=admin_headers).status_code == 200
    assert not (settings.runs_dir / job_id).exists()
    assert ready.get(f"{JOBS}/{job_id}", headers=admin_headers).status_code == 404


def test_events_of_a_finished_job_report_its_status_and_end(ready, admin_headers):
    job_id = start(ready, admin_headers).json()["job_id"]
    ready.post(f"{JOBS}/{job_id}/cancel", headers=admin_headers)
    response = ready.get(f"{JOBS}/{job_id}/events", headers=admin_headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in response.text and '"status": "cancelled"' in response.text


def test_unknown_job_routes_answer_404(ready, admin_headers):
    for method, suffix in [
        ("GET", ""),
        ("GET", "/log"),
        ("GET", "/events"),
        ("POST", "/cancel"),
        ("POST", "/resume"),
        ("DELETE", ""),
    ]:
        response = ready.request(method, f"{JOBS}/ghost{suffix}", headers=admin_headers)
        assert response.status_code == 404, (method, suffix)
        assert "does not exist" in response.json()["detail"]


def test_a_starting_worker_requeues_pending_jobs_the_queue_lost(ready, admin_headers, settings):
    job_id = start(ready, admin_headers).json()["job_id"]
    huey = ready.app.state.huey
    assert [task.args for task in huey.pending()] == [(job_id,)]
    huey.flush()  # what a Redis restart without persistence does to the queue
    ctx = tasks.start_worker_context(
        settings=settings,
        sessions=ready.app.state.sessionmaker,
        requeue=ready.app.state.enqueue_training,
    )
    ctx.stop_event.set()
    assert [task.args for task in huey.pending()] == [(job_id,)]
    assert ready.get(f"{JOBS}/{job_id}", headers=admin_headers).json()["status"] == "pending"


def test_epochs_auto_trains_to_max_steps_with_patience(ready, admin_headers, settings):
    from voicesmith.db import make_engine, make_sessionmaker
    from voicesmith.training.models import Job
    from voicesmith.training.worker import job_spec

    response = start(ready, admin_headers, epochs="auto", max_steps=300)
    assert response.status_code == 200, response.text
    plain = start(ready, admin_headers, epochs=3).json()["job_id"]
    with make_sessionmaker(make_engine(settings.resolved_database_url))() as session:
        auto = job_spec(settings=settings, job=session.get(Job, response.json()["job_id"]))
        fixed = job_spec(settings=settings, job=session.get(Job, plain))
    assert (auto["epochs"], auto["max_steps"], auto["early_stop_patience"]) == (
        settings.max_epochs,
        300,
        3,
    )
    assert (fixed["epochs"], fixed["max_steps"], fixed["early_stop_patience"]) == (3, None, 0)
    # Embeddings are off in this suite: no centroid is frozen, so likeness is not scored.
    assert "speaker_centroid" not in auto and auto["scoring"] is True


def test_checkpoints_of_a_job_that_scored_none_are_empty(ready, admin_headers):
    job_id = start(ready, admin_headers).json()["job_id"]
    found = ready.get(f"{JOBS}/{job_id}/checkpoints", headers=admin_headers)
    assert found.json() == {"promoted": None, "rule": None, "checkpoints": []}
    promote = ready.post(f"{JOBS}/{job_id}/checkpoints/3/promote", headers=admin_headers)
    assert promote.status_code == 404 and "step 3" in promote.json()["detail"]


def test_the_cli_prints_the_checkpoint_table(ready, admin_headers, settings):
    from pathlib import Path

    from typer.testing import CliRunner

    from voicesmith.cli import app as cli
    from voicesmith.engines import runfiles

    job = start(ready, admin_headers).json()
    scored = [
        {"step": s, "file": f"checkpoint_{s}.pth", "eval_loss": 50.0 + s, "cer": 0.2,
         "similarity": 0.4, "relative_similarity": r, "samples": []}
        for s, r in ((3, 0.61), (6, 0.5))
    ]  # fmt: skip
    runfiles.write_scores(Path(job["output_dir"]), {"promoted": 3, "checkpoints": scored})
    args = ["job", "checkpoints", job["job_id"], "--data-dir", str(settings.data_dir)]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert "*3" in done.output and "0.61" in done.output and "pruned" in done.output


def test_the_sweep_queues_again_only_old_pending_jobs_that_no_queue_holds(
    ready, admin_headers, settings
):
    from datetime import timedelta

    from voicesmith.db import session_scope
    from voicesmith.training import liveness
    from voicesmith.training.models import Job

    old, young = (start(ready, admin_headers).json()["job_id"] for _ in range(2))
    huey = ready.app.state.huey
    huey.flush()  # both entries lost
    sessions = ready.app.state.sessionmaker
    with session_scope(sessions) as session:  # one of them pending for longer than a period
        session.get(Job, old).updated_at -= timedelta(seconds=settings.queue_sweep_seconds + 1)
        session.commit()
    heartbeat = liveness.Heartbeat(
        sessions=sessions, settings=settings, stop_event=threading.Event(), worker_id="here:1"
    )
    queue = tasks.TrainingQueue(ready.app.state.enqueue_training)
    assert heartbeat.sweep(queue) == [old]
    assert queue.queued() == {old}
    assert heartbeat.sweep(queue) == []  # queued now: no duplicate
    assert [task.args for task in huey.pending()] == [(old,)]
