"""The web UI's session cookie, CSRF checks, CSP header and redirects, without a browser."""

import re

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from voicesmith.web.session import SESSION_COOKIE


def web_login(client: TestClient, username: str, password: str) -> str:
    """Log in through the form and return the page's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    body = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    response = client.post("/login", data=body, follow_redirects=False)
    assert response.status_code == 303, response.text
    return re.search(r'data-csrf="([^"]+)"', client.get("/playground").text)[1]


def test_pages_send_anonymous_visitors_to_login(client):
    response = client.get("/admin/users?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users%3Fx%3D1"


def test_the_session_cookie_is_httponly_and_strict(client):
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    body = {"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token}
    response = client.post("/login", data=body, follow_redirects=False)
    cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert response.headers["location"] == "/"


def test_the_login_form_needs_its_csrf_token(client):
    client.get("/login")
    body = {"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": "forged"}
    response = client.post("/login", data=body, follow_redirects=False)
    assert response.status_code == 403
    assert "expired" in response.text


def test_state_changes_need_the_csrf_token(client):
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    body = {"username": "bob", "password": USER_PASSWORD, "role": "user"}
    refused = client.post("/admin/users", data=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert (
        client.post("/admin/users", data=body, headers={"X-CSRF-Token": "0" * 64}).status_code
        == 403
    )
    created = client.post("/admin/users", data=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 200 and "bob" in created.text


def test_errors_come_back_as_detail_for_the_page_to_show(client):
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    response = client.post(
        "/admin/training/start",
        data={"dataset_name": "nope", "epochs": "many"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("epochs:")


def test_html_pages_forbid_inline_scripts_and_json_is_untouched(client):
    web_login(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/training")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.findall(r"<script(?![^>]*\ssrc=)", page.text) == []
    assert re.search(r"<[^>]*\son[a-z]+\s*=", page.text) is None
    # JSON gets the strict default policy, not the pages' one.
    health = client.get("/api/v1/health").headers["content-security-policy"]
    assert health.startswith("default-src 'none'")


def test_a_plain_user_gets_the_playground_and_a_403_page_for_admin(client, user_headers):
    web_login(client, "alice", USER_PASSWORD)
    assert client.get("/", follow_redirects=False).headers["location"] == "/playground"
    refused = client.get("/admin/training")
    assert refused.status_code == 403
    assert "Admins only" in refused.text


def test_logout_revokes_the_token(client):
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    token = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


def test_admins_set_roles_but_not_their_own(client, admin_headers, user_headers):
    url = "/api/v1/admin/users/alice"
    promoted = client.patch(url, json={"role": "admin"}, headers=admin_headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    own = client.patch("/api/v1/admin/users/admin", json={"role": "user"}, headers=admin_headers)
    assert own.status_code == 409
    assert "own role" in own.json()["detail"]


def test_voice_actions_say_what_is_wrong(client):
    csrf = web_login(client, "admin", ADMIN_PASSWORD)
    headers = {"X-CSRF-Token": csrf}
    silent = client.post("/playground/speak", data={"voice": "", "text": "hi"}, headers=headers)
    assert silent.status_code == 422 and "pick a voice" in silent.json()["detail"]
    body = {"alias": "narrator", "job_id": "no_such_job"}
    missing = client.post("/admin/voices/aliases", data=body, headers=headers)
    assert missing.status_code == 404 and "no_such_job" in missing.json()["detail"]
