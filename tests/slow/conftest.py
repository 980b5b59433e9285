"""Shared slow fixtures: one live server with a worker, and one tiny VITS trained per session."""

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, login, start_server, stop_server, upload_clips
from tests.factories import fixture_clips
from tests.jobs import JOBS, Predicate, completed, done, wait_for


class Api:
    """A logged-in client for one live server."""

    def __init__(self, base: str, data_dir: Path) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        self.headers = login(self.client, "admin", ADMIN_PASSWORD)
        self.data_dir = data_dir
        self.started: list[str] = []
        self.kept: set[str] = set()

    def start(self, **body) -> str:
        body = {"dataset_name": "lj", "base_model": "scratch:tiny", "batch_size": 4, **body}
        response = self.client.post("/api/v1/admin/training/start", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        self.started.append(response.json()["job_id"])
        return response.json()["job_id"]

    def delete_started(self) -> None:
        """Cancel and delete the jobs started since the last call, except the kept ones."""
        for job_id in [j for j in self.started if j not in self.kept]:
            if not done(self.job(job_id)):
                self.post(job_id, "cancel")
                self.wait(job_id, done, timeout=60)
            self.client.delete(f"{JOBS}/{job_id}", headers=self.headers)
        self.started = [j for j in self.started if j in self.kept]

    def job(self, job_id: str) -> dict:
        return self.client.get(f"{JOBS}/{job_id}", headers=self.headers).json()

    def post(self, job_id: str, action: str) -> httpx.Response:
        return self.client.post(f"{JOBS}/{job_id}/{action}", headers=self.headers)

    def wait(self, job_id: str, until: Predicate = completed, timeout: float = 420) -> dict:
        """Wait until `until` holds; a job that ends otherwise fails the test with its error."""
        return wait_for(lambda: self.job(job_id), until, timeout=timeout)


@pytest.fixture(scope="session")
def server(tmp_path_factory, speech_clips) -> Iterator[Api]:
    """A live server with an embedded worker and a 12-clip dataset `lj`."""
    data_dir = tmp_path_factory.mktemp("training") / "var"
    # Speaker embeddings on, so `lj` has a centroid and checkpoints are scored for likeness.
    # Every evaluation scored, whatever it costs: the tests count the scored checkpoints.
    env = {**os.environ, "VOICESMITH_TRAINING_THREADS": "1", "VOICESMITH_SCORE_BUDGET": "10"}
    env["VOICESMITH_SPEAKER_EMBEDDINGS"] = "true"
    env["VOICESMITH_KEEP_CHECKPOINTS"] = "2"  # a second kept checkpoint to promote
    proc, base = start_server(data_dir, env)
    api = Api(base, data_dir)
    upload_clips(api.client, api.headers, fixture_clips() + speech_clips[:4], "lj")
    _wait_for_speaker(api, "lj")
    yield api
    stop_server(proc)


@pytest.fixture(scope="session")
def tiny_job(server: Api) -> dict:
    """The one tiny VITS trained from scratch per session, with the SSE events seen."""
    job_id = server.start(epochs=2, test_sentences=["Hello from a tiny voice."])
    server.kept.add(job_id)
    events: list[tuple[str, dict]] = []
    reader = threading.Thread(target=_read_events, args=(server, job_id, events), daemon=True)
    reader.start()
    # A failed session model fails every test that uses it, each with the job's error.
    job = server.wait(job_id, completed)
    reader.join(timeout=30)
    return {"job": job, "events": events, "dir": server.data_dir / "training_runs" / job_id}


@pytest.fixture(autouse=True)
def _delete_jobs_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    """Delete what a test trained on the session server: each run is 140 MB, CI disks small."""
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").delete_started()


def _wait_for_speaker(api: Api, dataset: str, timeout: float = 180) -> None:
    """Wait until every clip of the dataset is embedded, so a job submitted now has a centroid."""
    deadline = time.monotonic() + timeout
    url = f"/api/v1/admin/training/datasets/{dataset}/report"
    while time.monotonic() < deadline:
        voices = api.client.get(url, headers=api.headers).json()["speaker"]
        if voices["embedded_clips"] and not voices["pending_clips"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"the clips of {dataset} were not embedded in {timeout} s: {voices}")


def _read_events(server: Api, job_id: str, sink: list) -> None:
    """Collect Server-Sent Events until the stream ends."""
    with server.client.stream(
        "GET", f"{JOBS}/{job_id}/events", headers=server.headers, timeout=600
    ) as response:
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                sink.append((event, json.loads(line[6:])))
