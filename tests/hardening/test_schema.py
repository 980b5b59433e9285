"""schemathesis against /openapi.json with an admin token: no 5xx, every answer as documented.

Seeded by default: `make test` sends the same requests on every run, so it fails only for a
change in the product. `make fuzz` sets VOICESMITH_FUZZ=explore: unseeded and longer, to find
new cases, which then go into tests/hardening/corpus.py as fixed ones.
"""

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
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
# A fixed seed for `make test`; `make fuzz` explores with a fresh one and more examples each.
FUZZ_SEED = 19_2026
EXPLORING = os.environ.get("VOICESMITH_FUZZ") == "explore"
EXAMPLES_PER_OPERATION = 300 if EXPLORING else 45
# When set, each generated request is appended to this file as one JSON line (see
# test_schema_seed.py, which runs this module twice and compares the two records).
RECORD_ENV = "VOICESMITH_FUZZ_RECORD"
# "METHOD /path,METHOD /path": generate for these operations only (the seed test's subset).
ONLY = {op.strip() for op in os.environ.get("VOICESMITH_FUZZ_OPERATIONS", "").split(",") if op}
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
SEEDING = {} if EXPLORING else {"seed": FUZZ_SEED, "generation": {"deterministic": True}}
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}, **SEEDING}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED
)
if ONLY:
    schema = schema.include(
        func=lambda ctx: f"{ctx.operation.method.upper()} {ctx.operation.path}" in ONLY
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=not EXPLORING,
)
def test_generated_requests_conform(case: schemathesis.Case) -> None:
    """Generated requests to every route: no 5xx, and status, type and body as documented."""
    key = f"{case.method} {case.path}"
    _sent[key] = _sent.get(key, 0) + 1
    _record(case)
    case.call_and_validate(headers=_admin(), checks=CHECKS)


def _record(case: schemathesis.Case) -> None:
    """Append the request a case makes to the record file, when one is asked for."""
    target = os.environ.get(RECORD_ENV)
    if not target:
        return
    request = {
        "operation": case.operation.label,
        "method": case.method,
        "path": case.formatted_path,
        "query": case.query,
        "headers": dict(case.headers or {}),
        "body": None if isinstance(case.body, NotSet) else case.body,
    }
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(request, default=_plain, sort_keys=True) + "\n")


def _plain(value: object) -> str:
    """A JSON stand-in for what json cannot write: bytes as hex, anything else as text."""
    return value.hex() if isinstance(value, bytes) else str(value)


def test_enough_requests_were_generated(record_property) -> None:
    """schemathesis sent at least 1,000 requests in total, across every route."""
    total = sum(_sent.values())
    record_property("cases", total)
    record_property("operations", len(_sent))
    assert total >= MIN_REQUESTS, _sent
