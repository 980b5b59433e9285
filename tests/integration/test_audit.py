"""The audit trail: GET /api/v1/admin/audit's filters and pages, admin actions, retention,
the CSV export and the text setting."""

import csv
import html
import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.integration.test_sharing import voice  # noqa: F401 - the completed job fixture
from tests.integration.test_web_session import web_login
from voicesmith.app import create_app
from voicesmith.auth import audit
from voicesmith.auth.audit import AuditEvent
from voicesmith.cli import app as cli
from voicesmith.config import Settings
from voicesmith.synthesis import auditing, sharing
from voicesmith.synthesis.service import Audio, Synthesizer, VoiceRef

AUDIT = "/api/v1/admin/audit"


def spoken(client: TestClient, *, actor: str | None, name: str, route: str, text: str) -> None:
    """One synthesis row, written by the function every speaking route calls."""
    with client.app.state.sessionmaker() as session:
        audit.record_synthesis(
            session=session,
            actor=actor,
            route=route,
            voice=name,
            job_id=None,
            checkpoint="best_model.pth",
            text=text,
            seconds=1.5,
            keep_text=False,
        )


def backdate(client: TestClient, days: float) -> None:
    """Move every audit row `days` into the past."""
    with client.app.state.sessionmaker() as session:
        moment = datetime.now(UTC) - timedelta(days=days)
        session.execute(update(AuditEvent).values(at=moment))
        session.commit()


@pytest.fixture
def rows(client: TestClient) -> list[tuple[str | None, str, str]]:
    """Seven syntheses by two people and Wyoming over two voices and three routes."""
    made = [
        ("alice", "ada", "POST /v1/audio/speech"),
        ("alice", "bob", "POST /api/v1/synthesize-trained"),
        ("carol", "ada", "POST /api/v1/synthesize-trained"),
        (None, "ada", audit.WYOMING),
        ("alice", "ada", "POST /playground/speak"),
        ("carol", "bob", "POST /v1/audio/speech"),
        ("alice", "ada", "POST /v1/audio/speech"),
    ]
    for n, (actor, name, route) in enumerate(made):
        spoken(client, actor=actor, name=name, route=route, text=f"Sentence {n}.")
    return made


def test_filters_pick_exactly_the_matching_rows(client, rows, admin_headers):
    def count(**params) -> int:
        answer = client.get(AUDIT, params=params, headers=admin_headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == len(answer.json()["items"])
        return answer.json()["total"]

    assert count() == 7
    assert count(actor="alice") == 4
    assert count(voice="ada", actor="alice") == 3
    assert count(route="POST /v1/audio/speech") == 3
    assert count(route=audit.WYOMING) == 1
    assert count(action="synthesis") == 7 and count(action="sharing") == 0
    assert count(since=(datetime.now(UTC) - timedelta(hours=1)).isoformat()) == 7
    assert count(until="2020-01-01") == 0 and count(since="2099-01-01T00:00:00Z") == 0


def test_pages_go_newest_first_without_gaps(client, rows, admin_headers):
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        answer = client.get(AUDIT, params=params, headers=admin_headers).json()
        assert answer["total"] == 7
        seen += [item["id"] for item in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 7
    first = client.get(AUDIT, params={"limit": 1}, headers=admin_headers).json()["items"][0]
    assert first["route"] == "POST /v1/audio/speech" and first["text"] is None
    assert first["text_sha256"] == audit.text_hash("Sentence 6.") and first["text_length"] == 11
    offset = client.get(AUDIT, params={"limit": 2, "offset": 5}, headers=admin_headers).json()
    assert [i["id"] for i in offset["items"]] == seen[5:7] and offset["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "is after until"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"cursor": "abc"}, "cursor"),
        ({"action": "launch"}, "action"),
        ({"actor": ""}, "actor"),
    ],
)
def test_bad_filters_are_422_with_a_detail(client, admin_headers, params, needle):
    answer = client.get(AUDIT, params=params, headers=admin_headers)
    assert answer.status_code == 422, answer.text
    assert needle in answer.json()["detail"]


def test_plain_users_are_refused_like_other_admin_routes(client, user_headers):
    answer = client.get(AUDIT, headers=user_headers)
    assert answer.status_code == 403 and "admin" in answer.json()["detail"]
    assert client.get(AUDIT).status_code == 401


def test_admin_actions_are_recorded(client, voice, admin_headers):  # noqa: F811
    base = "/api/v1/admin/voices"
    shared = client.put(f"{base}/{voice}/sharing", json={"mode": "everyone"}, headers=admin_headers)
    assert shared.status_code == 200, shared.text
    assert client.put(f"{base}/nick", json={"job_id": voice}, headers=admin_headers).is_success
    assert client.delete(f"{base}/nick", headers=admin_headers).is_success
    assert client.delete(f"/api/v1/admin/training/jobs/{voice}", headers=admin_headers).is_success
    items = client.get(AUDIT, headers=admin_headers).json()["items"]
    done = [(i["action"], i["actor"], i["voice"], i["job_id"]) for i in reversed(items)]
    assert done == [
        ("sharing", "admin", voice, None),
        ("delete_alias", "admin", "nick", voice),
        ("delete_job", "admin", None, voice),
    ]
    assert items[-1]["detail"] == {"mode": "everyone", "users": []}


def test_retention_deletes_old_rows_at_start_up(client, rows, settings: Settings):
    backdate(client, days=400)
    spoken(client, actor="dan", name="ada", route="POST /v1/audio/speech", text="Recent.")
    keep_all = settings.model_copy(update={"audit_retention_days": 0})
    with TestClient(create_app(keep_all)) as again:
        assert _actors(again) == ["dan"] + [r[0] for r in reversed(rows)]
    with TestClient(create_app(settings)) as again:
        assert _actors(again) == ["dan"]


def test_a_running_server_keeps_deleting_old_rows(client, rows, settings: Settings):
    often = settings.model_copy(update={"audit_purge_seconds": 0.2})
    with TestClient(create_app(often)) as running:
        assert len(_actors(running)) == len(rows)  # recent rows outlive every tick
        backdate(running, days=400)
        spoken(running, actor="dan", name="ada", route="POST /v1/audio/speech", text="Now.")
        deadline = time.monotonic() + 10
        while _actors(running) != ["dan"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _actors(running) == ["dan"]


def _actors(client: TestClient) -> list[str | None]:
    """Every row's actor, newest first."""
    with client.app.state.sessionmaker() as session:
        return list(session.scalars(select(AuditEvent.actor).order_by(AuditEvent.id.desc())))


def export(settings: Settings, *args: str, **env: str):
    """`voicesmith audit export ...` on the test's data dir."""
    command = ["audit", "export", *args, "--data-dir", str(settings.data_dir)]
    return CliRunner().invoke(cli, command, env=env)


def test_export_writes_csv_of_the_period(client, rows, settings: Settings, tmp_path: Path):
    today = datetime.now(UTC).date()
    done = export(settings, "--since", today.isoformat())
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["actor"], r["voice"], r["route"]) for r in table] == [
        (actor or "", name, route) for actor, name, route in rows
    ]
    assert table[0]["text"] == "" and table[0]["text_sha256"] == audit.text_hash("Sentence 0.")
    out = tmp_path / "audit.csv"
    until = (today - timedelta(days=1)).isoformat()
    empty = export(settings, "--since", "2020-01-01", "--until", until, "--out", str(out))
    assert empty.exit_code == 0, empty.output
    assert out.read_text().splitlines() == [",".join(AUDIT_COLUMNS)]


AUDIT_COLUMNS = ["id", "at", "actor", "action", "route", "voice", "job_id", "checkpoint"]
AUDIT_COLUMNS += ["text_length", "text_sha256", "text", "audio_seconds", "detail"]


def test_export_applies_retention_and_refuses_bad_dates(client, rows, settings: Settings):
    backdate(client, days=40)
    kept = export(settings, "--since", "2020-01-01", VOICESMITH_AUDIT_RETENTION_DAYS="60")
    assert kept.exit_code == 0 and len(kept.stdout.splitlines()) == 8
    purged = export(settings, "--since", "2020-01-01", VOICESMITH_AUDIT_RETENTION_DAYS="30")
    assert purged.exit_code == 0 and len(purged.stdout.splitlines()) == 1
    bad = export(settings, "--since", "last week")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    backwards = export(settings, "--since", "2026-11-02", "--until", "2026-11-01")
    assert backwards.exit_code == 1 and "is after until" in backwards.output


@pytest.mark.parametrize("keep", [False, True])
def test_the_text_is_kept_only_when_the_setting_says_so(client, settings: Settings, keep):
    synth = Synthesizer(settings.model_copy(update={"audit_text": keep}))
    ref = VoiceRef(name="ada", model_dir=settings.runs_dir / "ada", job_id="ada")
    audio = Audio("audio/wav", frozenset(), "onnx", content=b"RIFF", seconds=0.5)
    with client.app.state.sessionmaker() as session:
        auditing.audited(
            audio,
            session=session,
            synth=synth,
            ref=ref,
            audience=sharing.Audience("alice", 2, admin=False),
            route="POST /v1/audio/speech",
            text="Secret words.",
        )
        row = session.scalars(select(AuditEvent)).one()
    assert row.text == ("Secret words." if keep else None)
    assert row.text_sha256 == audit.text_hash("Secret words.") and row.audio_seconds == 0.5
    assert (row.actor, row.voice, row.job_id, row.checkpoint) == (
        "alice",
        "ada",
        "ada",
        "best_model.pth",
    )
    assert row.detail == {"format": "wav", "backend": "onnx", "stream": False}


def test_the_audit_tab_filters_and_pages(client, rows, user_headers):
    web_login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/audit", params={"actor": "carol"})
    assert page.status_code == 200
    assert page.text.count('data-action="synthesis"') == 2 and "Older" not in page.text
    for n in range(100):
        spoken(client, actor="erin", name="ada", route="POST /v1/audio/speech", text=f"{n}.")
    first = client.get("/admin/audit", params={"voice": "ada"})
    assert first.text.count('data-action="synthesis"') == 100
    older = re.search(r'<a href="(\?[^"]+)">Older</a>', first.text)
    assert older is not None and "voice=ada" in older[1]
    rest = client.get("/admin/audit" + html.unescape(older[1]))
    # The voice ada has 105 rows: the oldest five on the second page.
    assert rest.text.count('data-action="synthesis"') == 5 and "Newest" in rest.text
    bad = client.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since &#39;yesterday&#39; is no ISO 8601 date" in bad.text


def test_the_audit_tab_is_for_admins(client, user_headers):
    web_login(client, "alice", USER_PASSWORD)
    assert client.get("/admin/audit").status_code == 403
