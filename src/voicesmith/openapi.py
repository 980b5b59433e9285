"""The OpenAPI document, with the error answers every route really gives documented on it."""

import base64
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

ERROR = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "what was wrong and how to fix it"}},
    "required": ["detail"],
}
OPENAI_ERROR = {
    "title": "OpenAIError",
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
            "required": ["message", "type"],
        }
    },
    "required": ["error"],
}
# Every route: bodies that do not parse, unknown names, the body-size limit, bad fields, and a
# disk that fills up while anything is written.
COMMON = {
    400: "the request could not be parsed",
    404: "a named thing does not exist",
    409: "the request clashes with the current state",
    413: "the body is over its size limit",
    422: "a field is invalid; the detail says which and why",
    429: "too many attempts; try again after Retry-After seconds",
    431: "the request headers are too large",
    503: "something the request needs cannot be used right now",
    507: "the server ran out of storage; nothing was stored",
}
AUTHENTICATED = {401: "no valid bearer token", 403: "the account may not do this"}
PUBLIC = {"/api/v1/health", "/openapi.json"}
# web/__init__.py serves node_modules/swagger-ui-dist here, so the docs work without internet.
SWAGGER_UI = "/vendor/swagger-ui"
# Only this server's files; the one inline script (Swagger UI's start-up) is allowed by its hash.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' '{script}'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install(app: FastAPI) -> None:
    """Serve an OpenAPI document whose error responses match the {"detail": ...} answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            document_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


def docs() -> HTMLResponse:
    """Swagger UI from this server's own copy, with a CSP that allows nothing from elsewhere."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="voicesmith API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )
    page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode())
    return page


def docs_csp(html: str) -> str:
    """The docs page's CSP, naming the hash of each inline script the page holds."""
    hashes = " ".join(_sha256(script) for script in INLINE_SCRIPT.findall(html))
    return DOCS_CSP.replace("'{script}'", hashes)


def _sha256(script: str) -> str:
    """A CSP source for one inline script."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def document_errors(schema: dict[str, Any]) -> None:
    """Add the error statuses, in our shape (OpenAI's on /v1/), to every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"], components["OpenAIError"] = ERROR, OPENAI_ERROR
    for path, operations in schema.get("paths", {}).items():
        ref = "#/components/schemas/" + ("OpenAIError" if path.startswith("/v1/") else "Error")
        statuses = COMMON if path in PUBLIC else {**COMMON, **AUTHENTICATED}
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                # FastAPI's own 422 describes pydantic's error list; ours is one sentence.
                responses[str(status)] = _response(description, ref)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


def _response(description: str, ref: str) -> dict[str, Any]:
    """One documented error response."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}
