"""The API docs page works offline: Swagger UI comes from this server, and nothing else is asked."""

import pytest
from playwright.sync_api import BrowserContext, Request, expect

pytestmark = pytest.mark.browser


def test_docs_render_the_operations_without_leaving_the_server(
    fresh_context: BrowserContext, server: str
):
    asked: list[str] = []
    fresh_context.on("request", lambda request: asked.append(request.url))
    # Anything not local is refused too, so a remote asset cannot slip in through a cache.
    fresh_context.route("**/*", _only_local(server))
    page = fresh_context.new_page()
    page.goto("/docs")
    health = page.locator(".opblock", has_text="/api/v1/health")
    expect(health).to_be_visible()
    expect(page.locator(".opblock").nth(10)).to_be_attached()  # every router, not just one
    assert any(url.endswith("/openapi.json") for url in asked)
    assert any("/vendor/swagger-ui/swagger-ui-bundle.js" in url for url in asked)
    elsewhere = [url for url in asked if not url.startswith(server + "/")]
    assert elsewhere == [], "the docs asked for something beyond this server"


def _only_local(server: str):
    """A route handler that lets this server's URLs through and aborts the rest."""

    def handle(route, request: Request) -> None:
        if request.url.startswith(server + "/"):
            route.continue_()
        else:
            route.abort()

    return handle
