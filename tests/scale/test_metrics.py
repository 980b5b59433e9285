"""GET /metrics on PostgreSQL and Redis: who may read it, and what it reports."""

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_PASSWORD, free_port, login, upload_clips
from voicesmith.app import create_app

START = "/api/v1/admin/training/start"


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    """(name, sorted labels) -> value for every sample of a scrape."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_needs_an_admin(scale_client):
    assert scale_client.get("/metrics").status_code == 401
    admin = login(scale_client, "admin", ADMIN_PASSWORD)
    user = {"username": "bob", "password": "bob-password-1", "role": "user"}
    scale_client.post("/api/v1/admin/users", json=user, headers=admin)
    bob = login(scale_client, "bob", "bob-password-1")
    denied = scale_client.get("/metrics", headers=bob)
    assert denied.status_code == 403 and denied.json()["detail"]


def test_metrics_report_jobs_queue_workers_and_latency(scale_client, speech_clips):
    headers = login(scale_client, "admin", ADMIN_PASSWORD)
    upload_clips(scale_client, headers, speech_clips[:10], "lj")
    body = {"dataset_name": "lj", "epochs": 1, "base_model": "scratch:tiny"}
    assert scale_client.post(START, json=body, headers=headers).status_code == 200
    scrape = scale_client.get("/metrics", headers=headers)
    assert scrape.headers["content-type"].startswith("text/plain")
    samples = _samples(scrape.text)
    assert samples[("voicesmith_jobs", (("status", "pending"),))] == 1
    assert samples[("voicesmith_jobs", (("status", "completed"),))] == 0
    assert samples[("voicesmith_queue_depth", (("queue", "voicesmith"),))] == 1
    assert samples[("voicesmith_workers_live", ())] == 0
    upload = (("route", "/api/v1/admin/training/upload"),)
    assert samples[("voicesmith_ingest_seconds_count", upload)] == 10
    assert samples[("voicesmith_ingest_seconds_sum", upload)] > 0


def test_metrics_address_serves_without_a_token(scale_settings):
    address = f"127.0.0.1:{free_port()}"
    settings = scale_settings.model_copy(update={"metrics_address": address})
    with TestClient(create_app(settings)):
        answer = httpx.get(f"http://{address}/metrics", timeout=5)
        assert answer.status_code == 200 and "voicesmith_workers_live" in answer.text
    try:
        httpx.get(f"http://{address}/metrics", timeout=1)
        raise AssertionError("the metrics listener outlived the app")
    except httpx.TransportError:
        pass
