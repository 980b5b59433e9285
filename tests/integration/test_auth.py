"""Login, tokens, throttling, user management and the 401/403 matrix over every admin route."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, login
from voicesmith.app import create_app
from voicesmith.auth.models import ApiToken
from voicesmith.config import Settings

LOGIN = "/api/v1/auth/login"


def served_routes(routes) -> list[tuple[str, set[str]]]:
    """(path, methods) for every route, looking inside included routers."""
    found = []
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            # FastAPI 0.16x keeps included routers as lazy nodes with resolved contexts.
            for ctx in route.effective_route_contexts():
                found.append((ctx.path, set(getattr(ctx.original_route, "methods", ()) or ())))
        elif isinstance(route, APIRoute):
            found.append((route.path, set(route.methods)))
    return found


def admin_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, concrete path) for every admin route the app serves."""
    found = []
    for path, methods in served_routes(client.app.routes):
        if path.startswith("/api/v1/admin"):
            found += [(m, re.sub(r"\{[^}]+\}", "x", path)) for m in sorted(methods)]
    return found


def test_admin_route_enumeration_sees_the_known_routes(client):
    routes = admin_routes(client)
    for expected in [
        ("POST", "/api/v1/admin/training/upload"),
        ("GET", "/api/v1/admin/users"),
        ("DELETE", "/api/v1/admin/users/x"),
    ]:
        assert expected in routes
    documented = {p for p in client.get("/openapi.json").json()["paths"] if "/admin" in p}
    assert {re.sub(r"\{[^}]+\}", "x", p) for p in documented} <= {p for _, p in routes}


def test_every_admin_route_needs_a_token_and_an_admin(client, user_headers):
    for method, path in admin_routes(client):
        anonymous = client.request(method, path)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert "token" in anonymous.json()["detail"]
        bogus = client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert bogus.status_code == 401, (method, path)
        as_user = client.request(method, path, headers=user_headers)
        assert as_user.status_code == 403, (method, path)
        assert "admin" in as_user.json()["detail"]


def test_login_returns_a_bearer_token_for_seven_days(client):
    response = client.post(LOGIN, json={"username": "admin", "password": ADMIN_PASSWORD})
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - datetime.now(UTC) == pytest.approx(timedelta(days=7), abs=timedelta(minutes=1))


def test_only_the_token_hash_is_stored(client, admin_headers):
    token = admin_headers["Authorization"].split()[1]
    with client.app.state.sessionmaker() as session:
        stored = list(session.scalars(select(ApiToken.token_hash)))
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_me_and_logout_revokes(client, admin_headers):
    me = client.get("/api/v1/auth/me", headers=admin_headers)
    assert me.json()["username"] == "admin" and me.json()["role"] == "admin"
    assert client.post("/api/v1/auth/logout", headers=admin_headers).status_code == 200
    again = client.get("/api/v1/auth/me", headers=admin_headers)
    assert again.status_code == 401 and "revoked" in again.json()["detail"]


def test_token_expires(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, token_ttl_hours=1 / 3600
    )
    with TestClient(create_app(settings)) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        time.sleep(1.2)
        expired = client.get("/api/v1/auth/me", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = client.post(LOGIN, json={"username": "admin", "password": "not-the-password"})
    unknown = client.post(LOGIN, json={"username": "ghost", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.mark.parametrize("username", ["admin", "ghost"])
def test_repeated_failures_are_rate_limited(tmp_path, username):
    settings = Settings(
        data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, login_max_failures=3
    )
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            bad = client.post(LOGIN, json={"username": username, "password": "wrong-password"})
            assert bad.status_code == 401
        locked = client.post(LOGIN, json={"username": username, "password": ADMIN_PASSWORD})
        other = client.post(LOGIN, json={"username": "someone", "password": "wrong-password"})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "try again" in locked.json()["detail"]
    assert other.status_code == 401


def test_admin_manages_users(client, admin_headers):
    new = {"username": "bob", "password": USER_PASSWORD, "role": "user"}
    created = client.post("/api/v1/admin/users", json=new, headers=admin_headers)
    assert created.status_code == 201 and created.json()["role"] == "user"
    again = client.post("/api/v1/admin/users", json=new, headers=admin_headers)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    names = [
        u["username"]
        for u in client.get("/api/v1/admin/users", headers=admin_headers).json()["users"]
    ]
    assert names == ["admin", "bob"]
    bob = login(client, "bob", USER_PASSWORD)
    assert client.delete("/api/v1/admin/users/bob", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bob).status_code == 401
    gone = client.delete("/api/v1/admin/users/bob", headers=admin_headers)
    assert gone.status_code == 404


def test_admin_cannot_delete_themselves(client, admin_headers):
    response = client.delete("/api/v1/admin/users/admin", headers=admin_headers)
    assert response.status_code == 409 and "own account" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"username": "bad name", "password": USER_PASSWORD}, "username may contain"),
        ({"username": "carol", "password": "short"}, "password must be"),
        ({"username": "carol", "password": USER_PASSWORD, "role": "root"}, "role"),
        ({"username": "carol"}, "password: Field required"),
        ({"username": 5, "password": USER_PASSWORD}, "username"),
    ],
)
def test_bad_user_input_is_explained(client, admin_headers, body, needle):
    response = client.post("/api/v1/admin/users", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and needle in response.json()["detail"]


def test_malformed_login_body_is_a_readable_422(client):
    response = client.post(
        LOGIN, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)


def test_health_and_docs_are_public(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert "/api/v1/admin/training/upload" in client.get("/openapi.json").json()["paths"]
