"""The OpenAPI document, with the error answers every route really gives documented on it."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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


def install(app: FastAPI) -> None:
    """Serve an OpenAPI document whose error responses match the {"detail": ...} answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            document_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
