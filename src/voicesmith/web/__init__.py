"""The browser UI: HTML pages and their actions over the same services as the JSON API."""

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from voicesmith.openapi import SWAGGER_UI
from voicesmith.web.render import page
from voicesmith.web.router import router
from voicesmith.web.session import AdminRequired, LoginRequired, login_url

log = logging.getLogger("voicesmith")
STATIC_DIR = Path(__file__).resolve().parent / "static"
# `npm ci` at the repository root fills node_modules; the app serves these dist folders as they are.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
VENDOR = {
    "/vendor/htmx": "htmx.org/dist",
    "/vendor/uplot": "uplot/dist",
    SWAGGER_UI: "swagger-ui-dist",
}


def install(app: FastAPI) -> None:
    """Add the pages, the static files and the redirect-to-login handling to the app."""
    app.include_router(router)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for path, folder in VENDOR.items():
        directory = NODE_MODULES / folder
        if not directory.is_dir():
            log.warning("%s is missing; run `npm ci` (make does) for the web UI", directory)
        name = path.rsplit("/", 1)[-1]
        app.mount(path, StaticFiles(directory=directory, check_dir=False), name=name)
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(AdminRequired, _admins_only)


async def _favicon() -> FileResponse:
    """The icon, for pages that name none (a browser then asks for /favicon.ico)."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


async def _to_login(request: Request, exc: Exception) -> Response:
    """Send someone without a session to the login page, remembering where they were going."""
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_path), 303)


async def _admins_only(request: Request, exc: Exception) -> Response:
    """A 403 page for a non-admin who opened an admin page."""
    assert isinstance(exc, AdminRequired)
    message = "The Admin Dashboard is for admins. You can still use the playground."
    return page(
        request,
        "error.html",
        {"heading": "Admins only", "message": message},
        user=exc.user,
        status_code=403,
    )
