"""Every kind of bad input gets a 4xx that says what to fix, and leaves nothing stored."""

import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import snapshot
from tests.hardening.corpus import CORPUS, KINDS, Bad
from tests.hardening.kit import Kit
from voicesmith.config import Settings
from voicesmith.web.session import SESSION_COOKIE, csrf_token_for

GENERIC = {"Not Found", "Method Not Allowed", "Bad Request", "Internal Server Error"}


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """Real audio to cut bad inputs from."""
    return Kit(tmp_path_factory.mktemp("kit"))


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_bad_input_is_refused_and_nothing_is_stored(
    target: tuple[TestClient, Settings], kit: Kit, case: Bad, record_property
) -> None:
    """Hostile requests on every route: a 4xx, a detail a person can act on, and no trace."""
    client, settings = target
    record_property("kind", case.kind)
    record_property("what", KINDS[case.kind])
    before = snapshot(client, settings)
    request = case.build(kit)
    auth = {"admin": client.admin, "user": client.user, "web": _web(client), "none": {}}[case.auth]
    headers = {**auth, **request.pop("headers", {})}
    response = client.request(case.method, case.path, headers=headers, **request)
    assert response.status_code in case.expect, (response.status_code, response.text[:300])
    detail = _detail(response.json())
    assert detail not in GENERIC and len(detail) >= 12, detail
    assert case.needle.lower() in detail.lower(), detail
    assert snapshot(client, settings) == before


def _web(client: TestClient) -> dict[str, str]:
    """The admin's browser session: the cookie holding its token, and the page's CSRF token."""
    token = client.admin["Authorization"].removeprefix("Bearer ")
    return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": csrf_token_for(token)}


def _detail(body: dict) -> str:
    """The detail, in our shape or in OpenAI's on its compatible routes."""
    if "error" in body:
        return body["error"]["message"]
    assert isinstance(body.get("detail"), str), body
    return body["detail"]


def test_corpus_is_broad() -> None:
    """The corpus covers at least 40 kinds of bad input across every kind of route."""
    assert len({c.id for c in CORPUS}) == len(CORPUS) >= 40
    assert {c.kind for c in CORPUS} >= {"audio", "archive", "metadata", "transcript", "json"}
