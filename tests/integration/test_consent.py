"""Consent without speech recognition: challenges, refusals before judging, and /start's gate.

The recordings judged by ASR and the speaker encoder are in tests/slow/test_consent.py.
"""

import getpass
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.factories import write_tone
from tests.integration.test_web_session import web_login
from voicesmith.cli import app as cli
from voicesmith.config import Settings
from voicesmith.training import estimates
from voicesmith.training.consent_judge import WORDS, phrase_heard
from voicesmith.training.models import ConsentChallenge, ConsentRecord

API = "/api/v1/admin/training"
CONSENT = f"{API}/datasets/ada/consent"
START = {"dataset_name": "ada", "epochs": 1, "base_model": "scratch:tiny"}
REASON = "the speaker signed a paper form on 2026-11-28"


@pytest.fixture
def ada(client: TestClient, admin_headers: dict, settings: Settings, tmp_path: Path) -> TestClient:
    """Dataset `ada`: two tone clips with transcripts, enough to start a job here."""
    settings.min_training_clips = 2
    for n in range(2):
        tone = write_tone(tmp_path / f"t{n}.wav", seconds=1.5)
        response = client.post(
            f"{API}/upload",
            data={"dataset_name": "ada", "transcript": "A steady low hum."},
            files={"audio": (tone.name, tone.read_bytes())},
            headers=admin_headers,
        )
        assert response.status_code == 200, response.text
    return client


def _challenge(client: TestClient, headers: dict, speaker: str = "Ada Park") -> dict:
    response = client.post(f"{CONSENT}/challenge", json={"speaker_name": speaker}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _post(client: TestClient, headers: dict, content: bytes, name: str = "r.wav") -> dict:
    response = client.post(CONSENT, files={"audio": (name, content)}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_challenge_names_the_speaker_organisation_date_and_a_fresh_code(
    ada: TestClient, admin_headers: dict, settings: Settings
) -> None:
    settings.organisation, settings.consent_challenge_hours = "Example Corp", 2.0
    first = _challenge(ada, admin_headers, "  Ada   Park ")
    second = _challenge(ada, admin_headers)
    today = datetime.now(UTC)
    assert first["statement"].startswith("I, Ada Park, agree that Example Corp may create")
    assert f"Today is {today.day} {today:%B %Y}." in first["statement"]
    code = re.search(r"My code is (\w+), (\w+), (\w+), (\w+)\.$", first["statement"])
    assert set(code.groups()) <= set(WORDS) and len(set(code.groups())) == 4
    assert first["challenge_id"] != second["challenge_id"]
    expires = datetime.fromisoformat(first["expires_at"])
    assert abs((expires - today - timedelta(hours=2)).total_seconds()) < 60


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        (f"{API}/datasets/nowhere/consent/challenge", {"speaker_name": "Ada"}, 404, "not exist"),
        (f"{CONSENT}/challenge", {"speaker_name": "   "}, 422, "speaker_name is empty"),
        (f"{CONSENT}/challenge", {"speaker_name": "A" * 101}, 422, "the limit is 100"),
        (f"{CONSENT}/challenge", {"speaker_name": "Ada\x1b[31m"}, 422, "control characters"),
        (f"{CONSENT}/challenge", {}, 422, "speaker_name"),
    ],
)
def test_bad_challenges_are_refused(
    ada: TestClient, admin_headers: dict, path: str, body: dict, status: int, needle: str
) -> None:
    response = ada.post(path, json=body, headers=admin_headers)
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]


def test_a_recording_without_a_challenge_is_rejected_and_kept(
    ada: TestClient, admin_headers: dict, settings: Settings, tmp_path: Path
) -> None:
    tone = write_tone(tmp_path / "r.mp3", seconds=1.0, codec="libmp3lame").read_bytes()
    found = _post(ada, admin_headers, tone, "r.mp3")
    assert (found["status"], found["code"]) == ("rejected", "no_challenge")
    assert "consent/challenge" in found["reason"]
    assert found["recording"] == f"{found['record_id']}.mp3"
    assert (settings.data_dir / "consent" / found["recording"]).read_bytes() == tone
    query = {"action": "consent"}
    [row] = ada.get("/api/v1/admin/audit", params=query, headers=admin_headers).json()["items"]
    assert row["route"] == f"POST {CONSENT}" and row["actor"] == "admin"
    assert row["detail"]["record_id"] == found["record_id"]
    assert row["detail"]["code"] == "no_challenge"


def test_expired_and_used_challenges_are_rejected_before_judging(
    ada: TestClient, admin_headers: dict, tmp_path: Path
) -> None:
    tone = write_tone(tmp_path / "r.wav", seconds=1.0).read_bytes()
    expired = _challenge(ada, admin_headers)["challenge_id"]
    with ada.app.state.sessionmaker() as session:
        session.get(ConsentChallenge, expired).expires_at = datetime.now(UTC) - timedelta(hours=1)
        session.commit()
    found = _post(ada, admin_headers, tone)
    assert (found["status"], found["code"]) == ("rejected", "expired")
    assert "new challenge" in found["reason"]
    used = _challenge(ada, admin_headers)["challenge_id"]
    with ada.app.state.sessionmaker() as session:
        session.get(ConsentChallenge, used).used_at = datetime.now(UTC)
        session.commit()
    assert _post(ada, admin_headers, tone)["code"] == "used"
    # An older challenge named by id is judged on its own state.
    response = ada.post(
        CONSENT, files={"audio": ("r.wav", tone)}, data={"challenge_id": expired},
        headers=admin_headers,
    )  # fmt: skip
    assert response.json()["code"] == "expired"


@pytest.mark.parametrize(
    ("files", "data", "status", "needle"),
    [
        ({"audio": ("notes.wav", b"meeting notes\n" * 99)}, {}, 422, "decode"),
        ({"audio": ("empty.wav", b"")}, {}, 422, "empty"),
        (None, {"challenge_id": "x"}, 422, "audio"),
        ({"audio": ("r.wav", "TONE")}, {"challenge_id": "nope"}, 404, "no consent challenge"),
    ],
)
def test_bad_recordings_are_refused_and_nothing_is_kept(
    ada: TestClient,
    admin_headers: dict,
    settings: Settings,
    tmp_path: Path,
    files: dict | None,
    data: dict,
    status: int,
    needle: str,
) -> None:
    if files and files["audio"][1] == "TONE":
        files = {"audio": ("r.wav", write_tone(tmp_path / "r.wav", seconds=1.0).read_bytes())}
    response = ada.post(CONSENT, files=files, data=data, headers=admin_headers)
    assert response.status_code == status, response.text
    assert needle in response.json()["detail"]
    with ada.app.state.sessionmaker() as session:
        assert session.scalars(select(ConsentRecord)).first() is None
    assert not list((settings.data_dir / "consent").glob("*"))


def test_warn_lets_a_job_start_and_says_how_to_record_consent(
    ada: TestClient, admin_headers: dict
) -> None:
    response = ada.post(f"{API}/start", json=START, headers=admin_headers)
    assert response.status_code == 200, response.text
    [warning] = [w for w in response.json()["warnings"] if "consent" in w]
    assert "no verified consent" in warning and f"{CONSENT}/challenge" in warning


def test_off_adds_no_consent_warning(
    ada: TestClient, admin_headers: dict, settings: Settings
) -> None:
    settings.consent = "off"
    response = ada.post(f"{API}/start", json=START, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert not [w for w in response.json()["warnings"] if "consent" in w]


def test_require_refuses_start_until_an_override_with_a_reason(
    ada: TestClient, admin_headers: dict, settings: Settings
) -> None:
    settings.consent = "require"
    refused = ada.post(f"{API}/start", json=START, headers=admin_headers)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert f"{CONSENT}/challenge" in detail and "consent_override_reason" in detail
    short = ada.post(
        f"{API}/start", json={**START, "consent_override_reason": "ok"}, headers=admin_headers
    )
    assert short.status_code == 422 and "at least 10" in short.json()["detail"]
    started = ada.post(
        f"{API}/start", json={**START, "consent_override_reason": REASON}, headers=admin_headers
    )
    assert started.status_code == 200, started.text
    job = ada.get(f"{API}/jobs/{started.json()['job_id']}", headers=admin_headers).json()
    assert (job["consent_override_reason"], job["consent_override_by"]) == (REASON, "admin")
    assert "consent_override_reason" not in job["params"]
    [record] = ada.get(CONSENT, headers=admin_headers).json()["records"]
    assert (record["status"], record["reason"]) == ("override", REASON)
    assert (record["job_id"], record["created_by"]) == (job["job_id"], "admin")
    query = {"action": "consent_override"}
    [row] = ada.get("/api/v1/admin/audit", params=query, headers=admin_headers).json()["items"]
    assert (row["actor"], row["job_id"]) == ("admin", job["job_id"])
    assert row["detail"]["reason"] == REASON and row["detail"]["dataset"] == "ada"


def test_require_passes_with_verified_consent(
    ada: TestClient, admin_headers: dict, settings: Settings
) -> None:
    settings.consent = "require"
    with ada.app.state.sessionmaker() as session:
        session.add(ConsentRecord(dataset_name="ada", status="verified", speaker_name="Ada"))
        session.commit()
    response = ada.post(f"{API}/start", json=START, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert not [w for w in response.json()["warnings"] if "consent" in w]
    assert ada.get(CONSENT, headers=admin_headers).json()["has_consent"] is True


def test_a_dry_run_is_not_held_back_by_consent(ada: TestClient, settings: Settings) -> None:
    settings.consent = "require"
    queued: list[str] = []
    with ada.app.state.sessionmaker() as session:
        found = estimates.request_estimate(
            session=session, settings=settings, request={**START, "batch_size": 2},
            enqueue=queued.append, wait_seconds=0,
        )  # fmt: skip
    assert found["status"] == "queued" and queued == [found["estimate_id"]]


def test_the_web_form_refuses_under_require_and_starts_with_an_override(
    ada: TestClient, settings: Settings
) -> None:
    settings.consent = "require"
    csrf = {"X-CSRF-Token": web_login(ada, "admin", "test-admin-password")}
    form = {"dataset_name": "ada", "epochs": "1", "batch_size": "2", "base_model": "scratch:tiny"}
    refused = ada.post("/admin/training/start", data=form, headers=csrf)
    assert refused.status_code == 409 and "consent/challenge" in refused.json()["detail"]
    started = ada.post(
        "/admin/training/start", data={**form, "consent_override_reason": REASON}, headers=csrf
    )
    assert started.status_code == 200, started.text
    page = ada.get("/admin/datasets/ada")
    assert "Consent" in page.text and "training needs it" in page.text
    statement = ada.post(
        "/admin/datasets/ada/consent/challenge", data={"speaker_name": "Ada"}, headers=csrf
    )
    assert statement.status_code == 200 and "I, Ada, agree that" in statement.text
    bad = ada.post("/admin/datasets/ada/consent", headers=csrf)
    assert bad.status_code == 422 and "recording" in bad.json()["detail"]


def test_the_code_is_found_in_what_asr_writes() -> None:
    code = "silver rocket tiger music"
    assert phrase_heard(code, "My code is Silver Rocket, Tiger Music.")
    assert phrase_heard(code, "my code is silver rocket tigers music17")
    assert phrase_heard(code, "my code is silver packet tiger music")  # one word missed
    assert not phrase_heard(code, "my code is silver packet tiger")  # two missed
    assert not phrase_heard(code, "my code is orange rocket tiger salad")
    assert not phrase_heard("paper pilot robot salad", "my code is paperpilot robot salad")


def test_the_cli_refuses_under_require_and_takes_an_override(
    ada: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICESMITH_CONSENT", "require")
    monkeypatch.setenv("VOICESMITH_MIN_TRAINING_CLIPS", "2")
    args = ["train", "ada", "--epochs", "1", "--base-model", "scratch:tiny"]
    args += ["--data-dir", str(settings.data_dir)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "consent/challenge" in refused.output
    short = CliRunner().invoke(cli, [*args, "--consent-override-reason", "why"])
    assert short.exit_code != 0 and "at least 10" in short.output
    done = CliRunner().invoke(cli, [*args, "--consent-override-reason", REASON])
    assert done.exit_code == 0, done.output
    with ada.app.state.sessionmaker() as session:
        record = session.scalars(select(ConsentRecord)).one()
        job_id = done.output.split()[1].rstrip(";")
        assert (record.status, record.reason, record.job_id) == ("override", REASON, job_id)
        assert record.created_by == f"cli:{getpass.getuser()}"
