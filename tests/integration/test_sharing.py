"""Sharing a voice through the API and the Voices tab, and what plain users then see."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.integration.test_web_session import web_login
from voicesmith.config import Settings
from voicesmith.training.models import Job, JobStatus

JOB = "lj_20261130120000"
SHARING = f"/api/v1/admin/voices/{JOB}/sharing"
SPEAK = "/api/v1/synthesize-trained"


@pytest.fixture
def voice(client: TestClient, settings: Settings) -> str:
    """A completed job row whose folder looks like a model (it cannot load: no weights)."""
    folder = settings.runs_dir / JOB
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "best_model.pth").write_bytes(b"")
    with client.app.state.sessionmaker() as session:
        session.add(
            Job(
                id=JOB,
                dataset_name="lj",
                status=JobStatus.COMPLETED.value,
                params={},
                output_dir=str(Path(folder).resolve()),
                owner="admin",
            )
        )
        session.commit()
    return JOB


def listed(client: TestClient, headers: dict) -> list[str]:
    """The voice names GET /api/v1/voices gives these credentials."""
    return [v["name"] for v in client.get("/api/v1/voices", headers=headers).json()["voices"]]


def test_a_new_voice_is_private_until_shared(client, voice, admin_headers, user_headers):
    assert listed(client, admin_headers) == [voice] and listed(client, user_headers) == []
    hidden = client.post(SPEAK, json={"text": "Hi.", "job_id": voice}, headers=user_headers)
    assert hidden.status_code == 404 and "does not exist" in hidden.json()["detail"]
    put = client.put(SHARING, json={"mode": "users", "users": ["alice"]}, headers=admin_headers)
    assert put.status_code == 200, put.text
    assert put.json()["users"] == ["alice"] and put.json()["changed_by"] == "admin"
    assert listed(client, user_headers) == [voice]
    # Shared: the request gets past sharing to the voice itself, which has no weights here.
    shared = client.post(SPEAK, json={"text": "Hi.", "job_id": voice}, headers=user_headers)
    assert shared.status_code != 404, shared.text
    assert client.put(SHARING, json={"mode": "private"}, headers=admin_headers).status_code == 200
    assert listed(client, user_headers) == []


def test_an_alias_shares_on_its_own(client, voice, admin_headers, user_headers):
    alias = {"job_id": voice}
    assert client.put("/api/v1/admin/voices/narrator", json=alias, headers=admin_headers).is_success
    url = "/api/v1/admin/voices/narrator/sharing"
    assert client.put(url, json={"mode": "everyone"}, headers=admin_headers).status_code == 200
    [entry] = client.get("/api/v1/voices", headers=user_headers).json()["voices"]
    # The job id stays private: the plain user sees the voice by its alias only.
    assert entry["name"] == "narrator" and entry["job_id"] is None and "sharing" not in entry
    client.delete("/api/v1/admin/voices/narrator", headers=admin_headers)
    client.put("/api/v1/admin/voices/narrator", json=alias, headers=admin_headers)
    assert listed(client, user_headers) == []  # a re-made alias starts private again


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"mode": "friends"}, 422, "mode must be one of"),
        ({"mode": "users", "users": ["nobody"]}, 422, "no such user: 'nobody'"),
        ({"mode": "users"}, 422, "at least one user"),
        ({"mode": "everyone", "users": ["alice"]}, 422, "only with mode 'users'"),
    ],
)
def test_bad_sharing_is_explained(client, voice, admin_headers, user_headers, body, status, needle):
    response = client.put(SHARING, json=body, headers=admin_headers)
    assert response.status_code == status and needle in response.json()["detail"], response.text


def test_unknown_voice_and_plain_users_are_refused(client, admin_headers, user_headers):
    url = "/api/v1/admin/voices/nope/sharing"
    unknown = client.put(url, json={"mode": "everyone"}, headers=admin_headers)
    assert unknown.status_code == 404 and "does not exist" in unknown.json()["detail"]
    assert client.put(url, json={"mode": "everyone"}, headers=user_headers).status_code == 403


def test_the_voices_tab_changes_sharing(client, voice, user_headers):
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/voices").text
    assert f'data-voice="{voice}" data-sharing="private"' in page
    url = f"/admin/voices/sharing/{voice}"
    assert client.post(url, data={"mode": "everyone"}).status_code == 403  # no CSRF token
    panel = client.post(
        url, data={"mode": "users", "users": "alice, "}, headers={"X-CSRF-Token": csrf}
    )
    assert (
        panel.status_code == 200 and 'data-sharing="users"' in panel.text and "alice" in panel.text
    )
    assert listed(client, user_headers) == [voice]
    bad = client.post(url, data={"mode": "users", "users": "zed"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "no such user" in bad.json()["detail"]
