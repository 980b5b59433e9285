"""The sharing matrix: on every route the app has that speaks or lists voices, a plain user
reaches exactly the voices shared with them, and an admin reaches all of them."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import sessionmaker

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, login
from tests.integration.test_web_session import web_login
from tests.slow.conftest import Api
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.db import make_engine
from voicesmith.deps import require_admin
from voicesmith.synthesis import publishing
from voicesmith.synthesis.http import synthesizer
from voicesmith.web.session import action_admin, page_admin, stream_admin

pytestmark = pytest.mark.slow
VOICES = "/api/v1/admin/voices"
USER, OTHER = "sh-user", "sh-other"
# alias -> (sharing body, whether the plain user USER may use it)
ALIASES = {
    "sh-private": (None, False),  # never shared: a new voice is private
    "sh-mine": ({"mode": "users", "users": [USER]}, True),
    "sh-others": ({"mode": "users", "users": [OTHER]}, False),
    "sh-all": ({"mode": "everyone"}, True),
}
ADMIN_ONLY = {require_admin, page_admin, action_admin, stream_admin}
TEXT = "Hello there."


def _calls(dependant) -> set:
    """Every dependency function a route runs, its own endpoint included."""
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _routes(app) -> list:
    """Every served route with its full path and dependencies, inside included routers too."""
    found = []
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI 0.16x's lazy included routers
            found += list(route.effective_route_contexts())
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def route_table(tmp_path: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """From the app's routes: (method, path) of what speaks, and the GET paths without params."""
    settings = Settings(data_dir=tmp_path, admin_password=ADMIN_PASSWORD)
    speaking, pages = set(), set()
    for route in _routes(create_app(settings)):
        calls = _calls(route.dependant)
        if calls & ADMIN_ONLY:
            continue  # admins may use every voice; the matrix is about plain users
        methods = set(route.methods or ())
        if synthesizer in calls:
            speaking |= {(method, route.path) for method in methods}
        if "GET" in methods and "{" not in route.path:
            pages.add(route.path)
    return speaking, pages


class Caller:
    """One person with a bearer token and a web session on the live server."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.csrf = web_login(self.http, username, password)
        self.http.headers.update(login(self.http, username, password))


def _trained(caller: Caller, voice: str) -> httpx.Response:
    return caller.http.post("/api/v1/synthesize-trained", json={"text": TEXT, "job_id": voice})


def _openai(caller: Caller, voice: str) -> httpx.Response:
    body = {"input": TEXT, "voice": voice, "response_format": "wav"}
    return caller.http.post("/v1/audio/speech", json=body)


def _playground(caller: Caller, voice: str) -> httpx.Response:
    data = {"voice": voice, "text": TEXT}
    return caller.http.post("/playground/speak", data=data, headers={"X-CSRF-Token": caller.csrf})


# Every speaking route, and how to name a voice on it. A new route that speaks fails
# test_every_speaking_route_is_in_the_matrix until it is added here with its check.
SPEAK: dict[tuple[str, str], Callable[[Caller, str], httpx.Response] | None] = {
    ("POST", "/api/v1/synthesize-trained"): _trained,
    ("POST", "/v1/audio/speech"): _openai,
    ("POST", "/playground/speak"): _playground,
    ("POST", "/api/v1/synthesize"): None,  # the base voice only: it names no trained voice
}


def _share(server: Api, name: str, body: dict) -> httpx.Response:
    return server.client.put(f"{VOICES}/{name}/sharing", json=body, headers=server.headers)


def _sharing_of(server: Api, job_id: str) -> dict:
    listed = server.client.get("/api/v1/voices", headers=server.headers).json()["voices"]
    return next(v for v in listed if v["job_id"] == job_id)


@pytest.fixture(scope="module")
def voices(server: Api, tiny_job: dict) -> Iterator[dict[str, bool]]:
    """The tiny voice under five names, each shared its own way; name -> USER may use it."""
    job_id = tiny_job["job"]["job_id"]
    before = _sharing_of(server, job_id)["sharing"]
    for name in (USER, OTHER):
        body = {"username": name, "password": USER_PASSWORD, "role": "user"}
        server.client.post("/api/v1/admin/users", json=body, headers=server.headers)
    assert _share(server, job_id, {"mode": "private"}).status_code == 200
    for alias, (body, _) in ALIASES.items():
        put = {"job_id": job_id, "wyoming": True}
        assert server.client.put(f"{VOICES}/{alias}", json=put, headers=server.headers).is_success
        if body is not None:
            assert _share(server, alias, body).status_code == 200
    yield {job_id: False, **{alias: may for alias, (_, may) in ALIASES.items()}}
    for alias in ALIASES:
        server.client.delete(f"{VOICES}/{alias}", headers=server.headers)
    restore = {"mode": before["mode"], "users": before["users"]}
    assert _share(server, job_id, restore).status_code == 200


@pytest.fixture(scope="module")
def people(server: Api, voices) -> tuple[Caller, Caller]:
    """The plain user and the admin, each logged in both ways."""
    base = str(server.client.base_url)
    return Caller(base, USER, USER_PASSWORD), Caller(base, "admin", ADMIN_PASSWORD)


def test_every_speaking_route_is_in_the_matrix(tmp_path):
    speaking, _ = route_table(tmp_path)
    assert speaking == set(SPEAK), "a route speaks voices without a sharing check in SPEAK"


@pytest.mark.parametrize("route", sorted(k for k, v in SPEAK.items() if v is not None))
def test_a_plain_user_speaks_exactly_the_shared_voices(people, voices, route):
    user, admin = people
    speak = SPEAK[route]
    for name, may in voices.items():
        answer = speak(user, name)
        assert answer.status_code == (200 if may else 404), (route, name, answer.text)
        if may:
            assert answer.content[:4] == b"RIFF"
        else:
            # Unshared reads word for word as unknown, so names do not leak.
            unknown = speak(user, "sh-no-such-voice")
            assert answer.status_code == unknown.status_code == 404
            assert answer.text.replace(name, "?") == unknown.text.replace("sh-no-such-voice", "?")
        assert speak(admin, name).status_code == 200, (route, name)


def test_no_page_a_plain_user_opens_names_an_unshared_voice(tmp_path, people, voices):
    user, admin = people
    _, pages = route_table(tmp_path)
    hidden = [name for name, may in voices.items() if not may]
    shown = [name for name, may in voices.items() if may]
    for path in sorted(pages):
        body = user.http.get(path).text
        assert not [name for name in hidden if name in body], path
    for path in ("/api/v1/voices", "/playground"):
        body = user.http.get(path).text
        assert all(name in body for name in shown), path
        assert all(name in admin.http.get(path).text for name in voices), path


def test_admins_see_each_voices_owner_and_sharing(server: Api, voices, tiny_job):
    entry = _sharing_of(server, tiny_job["job"]["job_id"])
    assert entry["owner"] == "admin" and entry["sharing"]["mode"] == "private"
    mine = entry["alias_sharing"]["sh-mine"]
    assert mine["mode"] == "users" and mine["users"] == [USER] and mine["changed_by"] == "admin"
    assert entry["alias_sharing"]["sh-private"]["mode"] == "private"


def test_wyoming_publishes_only_voices_shared_with_everyone(server: Api, voices):
    settings = Settings(data_dir=server.data_dir, admin_password=ADMIN_PASSWORD)
    sessions = sessionmaker(make_engine(settings.resolved_database_url))
    with sessions() as session:
        names = {v.name for v in publishing.published_voices(session=session)}
    assert names & set(ALIASES) == {"sh-all"}
