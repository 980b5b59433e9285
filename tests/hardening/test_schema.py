"""schemathesis against /openapi.json with an admin token: no 5xx, every answer as documented."""

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_PASSWORD, login
from voicesmith.app import create_app
from voicesmith.config import Settings

MIN_REQUESTS = 1000
EXAMPLES_PER_OPERATION = 45
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Left out, each for a reason: logout revokes the token every other request uses, and the
# base voice is the 100 MB zoo model, which the tests must not download (the bad-input corpus
# covers this route's validation, and tests/slow the speech itself).
EXCLUDED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/synthesize")}
_sent: dict[str, int] = {}
_state: dict[str, dict[str, str]] = {}


def _app() -> FastAPI:
    """An app on its own SQLite file; schemathesis runs its startup when it loads the schema."""
    root = Path(tempfile.mkdtemp(prefix="voicesmith-schema-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    config = Settings(
        data_dir=root / "var",
        admin_password=ADMIN_PASSWORD,
        default_base_model=str(root / "no-such-model"),
    )
    return create_app(config)


def _admin() -> dict[str, str]:
    """The admin's Authorization header, logged in once."""
    if "admin" not in _state:
        _state["admin"] = login(TestClient(APP), "admin", ADMIN_PASSWORD)
    return _state["admin"]


# pytest 9 breaks schemathesis.pytest.from_fixture, so the schema is loaded at import.
APP = _app()
# 413 is how the body limit rejects an oversized invalid body; schemathesis does not expect it.
REJECTIONS = [400, 401, 403, 404, 406, 413, 422]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_generated_requests_conform(case: schemathesis.Case) -> None:
    """Generated requests to every route: no 5xx, and status, type and body as documented."""
    key = f"{case.method} {case.path}"
    _sent[key] = _sent.get(key, 0) + 1
    case.call_and_validate(headers=_admin(), checks=CHECKS)


def test_enough_requests_were_generated(record_property) -> None:
    """schemathesis sent at least 1,000 requests in total, across every route."""
    total = sum(_sent.values())
    record_property("cases", total)
    record_property("operations", len(_sent))
    assert total >= MIN_REQUESTS, _sent
