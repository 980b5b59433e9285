"""create_app(): routers, error mapping, middleware and the startup sequence."""

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from huey.consumer import Consumer
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from voicesmith import metrics
from voicesmith.auth import audit_log
from voicesmith.auth import service as auth_service
from voicesmith.auth.router import admin_router as users_router
from voicesmith.auth.router import audit_router
from voicesmith.auth.router import router as auth_router
from voicesmith.config import Settings, get_settings
from voicesmith.datasets.router import router as datasets_router
from voicesmith.db import (
    make_engine,
    make_sessionmaker,
    read_only,
    run_migrations,
    session_scope,
)
from voicesmith.deps import REQUEST_THREADS
from voicesmith.errors import VoicesmithError, storage_error
from voicesmith.middleware import BodyLimitMiddleware
from voicesmith.openapi import install as install_openapi
from voicesmith.queue import ASR_QUEUE_NAME, build_huey, start_embedded_consumer
from voicesmith.security import SecurityHeadersMiddleware, create_private_files
from voicesmith.synthesis.openai import openai_error
from voicesmith.synthesis.openai import router as openai_router
from voicesmith.synthesis.router import admin_router as voices_router
from voicesmith.synthesis.router import router as synthesis_router
from voicesmith.synthesis.service import Synthesizer
from voicesmith.training import liveness, tasks
from voicesmith.training.consent_router import router as consent_router
from voicesmith.training.router import router as training_router
from voicesmith.transcripts import tasks as asr_tasks
from voicesmith.transcripts.longform import scrub_leftovers as scrub
from voicesmith.transcripts.router import LONG_UPLOAD_PATH
from voicesmith.transcripts.router import router as transcripts_router
from voicesmith.web import install as install_web
from voicesmith.web.datasets import BATCH_PATH, UPLOAD_PATH

if TYPE_CHECKING:
    from wyoming.server import AsyncServer

log = logging.getLogger("voicesmith")
INITIAL_PASSWORD_FILE = "initial_admin_password"


def create_app(settings: Settings | None = None, *, embedded_worker: bool = False) -> FastAPI:
    """Build the ASGI app; with embedded_worker it also runs training jobs itself."""
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url)
    # openapi.install serves /docs from local files; ReDoc would need a CDN, so there is none.
    app = FastAPI(
        title="voicesmith", version="0.1.0", lifespan=_lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_sessionmaker = make_sessionmaker(read_only(engine))
    app.state.embedded_worker = embedded_worker
    app.state.worker = None
    create_private_files(settings)
    app.state.huey = build_huey(settings)
    app.state.enqueue_training = tasks.register(app.state.huey, lambda: app.state.worker)
    app.state.enqueue_estimate = tasks.register_estimates(app.state.huey, lambda: app.state.worker)
    app.state.asr_worker = None
    app.state.asr_huey = build_huey(settings, ASR_QUEUE_NAME)
    app.state.enqueue_asr = asr_tasks.register(
        app.state.asr_huey, lambda: app.state.asr_worker, speaker=settings.speaker_embeddings
    )
    # For deps.EnqueueTranscribe: a stored clip is recognised and its speaker embedded.
    app.state.enqueue_transcribe = app.state.enqueue_asr.analyse
    app.state.enqueue_long_import = app.state.enqueue_asr.long_import
    app.state.synthesizer = Synthesizer(settings)
    routers = (
        auth_router,
        users_router,
        audit_router,
        datasets_router,
        training_router,
        consent_router,
        transcripts_router,
        synthesis_router,
        voices_router,
        openai_router,
    )
    for router in routers:
        app.include_router(router)
    app.add_api_route("/api/v1/health", health, methods=["GET"], tags=["health"])
    install_web(app)
    metrics.install(app)
    install_openapi(app)
    _add_error_handlers(app)
    limits = {
        "/api/v1/admin/training/upload": settings.max_upload_bytes,
        "/api/v1/admin/training/upload-batch": int(settings.max_batch_mb * 2**20),
        LONG_UPLOAD_PATH: int(settings.max_long_upload_mb * 2**20),
        UPLOAD_PATH: settings.max_upload_bytes,
        "/api/v1/admin/detect": settings.max_upload_bytes,
        BATCH_PATH: int(settings.max_batch_mb * 2**20),
    }
    app.add_middleware(BodyLimitMiddleware, upload_limits=limits)
    # Outermost, so the 413s the body limit answers by itself get the headers too.
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def health() -> dict[str, str]:
    """Liveness check."""
    return {"status": "ok"}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Prepare the data dir and database, and make sure an admin exists."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    prepare(app.state.settings, app)
    consumers = [_start_worker(app), _start_asr_worker(app)] if app.state.embedded_worker else []
    stops = _start_monitors(app)
    wyoming = await _start_wyoming(app)
    yield
    if wyoming is not None:
        await wyoming.stop()
    for stop in stops:
        stop()
    for consumer in consumers:
        consumer.stop()
    if app.state.worker is not None:
        app.state.worker.retire()
    app.state.engine.dispose()


async def _start_wyoming(app: FastAPI) -> "AsyncServer | None":
    """The Wyoming server on uvicorn's event loop, when VOICESMITH_WYOMING_URI is set."""
    settings = app.state.settings
    if not settings.wyoming_uri:
        return None
    from voicesmith.synthesis import wyoming_server
    from voicesmith.synthesis.wyoming_handler import WyomingContext

    server = wyoming_server.build_server(settings.wyoming_uri)
    # The HTTP API's synthesizer: one voice cache for both, so a voice is loaded once.
    context = WyomingContext(sessions=app.state.sessionmaker, synth=app.state.synthesizer)
    await wyoming_server.start(server, context)
    if settings.wyoming_zeroconf:
        await wyoming_server.advertise(server)
    return server


def _start_worker(app: FastAPI) -> Consumer:
    """Run a training worker inside this process."""
    app.state.worker = tasks.start_worker_context(
        settings=app.state.settings,
        sessions=app.state.sessionmaker,
        requeue=app.state.enqueue_training,
    )
    return start_embedded_consumer(app.state.huey, app.state.worker.stop_event)


def _start_asr_worker(app: FastAPI) -> Consumer:
    """Run speech recognition in this process, on its own queue beside training."""
    app.state.asr_worker = asr_tasks.start_context(
        settings=app.state.settings, sessions=app.state.sessionmaker, enqueue=app.state.enqueue_asr
    )
    return start_embedded_consumer(app.state.asr_huey, app.state.asr_worker.stop_event)


def _start_monitors(app: FastAPI) -> list:
    """The lost-worker reaper, audit retention and the metrics port."""
    stops = []
    # An embedded worker's own heartbeat reaps lost workers; only a worker-less API needs one.
    if not app.state.embedded_worker:
        stop_event = threading.Event()
        # Its queue takes over a lost worker's job at once; sweeping is the workers' part.
        reaper = liveness.Heartbeat(
            sessions=app.state.sessionmaker,
            settings=app.state.settings,
            stop_event=stop_event,
            queue=tasks.TrainingQueue(app.state.enqueue_training),
        )
        reaper.start()
        stops.append(stop_event.set)
    stops += _start_audit_retention(app)
    listener = metrics.start_listener(app)
    return [*stops, listener] if listener else stops


def _start_audit_retention(app: FastAPI) -> list:
    """Keep deleting audit rows past retention while serving; nothing when all are kept."""
    settings = app.state.settings
    if settings.audit_retention_days <= 0:
        return []
    stop = threading.Event()
    audit_log.RetentionTimer(
        sessions=app.state.sessionmaker,
        days=settings.audit_retention_days,
        every=settings.audit_purge_seconds,
        stop=stop,
    ).start()
    return [stop.set]


def prepare(settings: Settings, app: FastAPI) -> None:
    """Create directories, migrate, and bootstrap the first admin."""
    for path in (settings.data_dir, settings.datasets_dir, settings.runs_dir, settings.models_dir):
        path.mkdir(parents=True, exist_ok=True)
    run_migrations(app.state.engine)
    with session_scope(app.state.sessionmaker) as session:
        scrub(session=session, settings=settings)
        auth_service.purge_expired_tokens(session=session)
        audit_log.purge(session=session, days=settings.audit_retention_days)
        password = settings.admin_password.get_secret_value() if settings.admin_password else None
        generated = auth_service.ensure_admin(
            session=session, username=settings.admin_username, password=password
        )
    if generated:
        _announce_generated_password(settings, generated)


def _announce_generated_password(settings: Settings, password: str) -> None:
    """Print a generated admin password once and keep it in a 0600 file."""
    path = settings.data_dir / INITIAL_PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    os.chmod(path, 0o600)
    print(
        f"\n  Created admin '{settings.admin_username}' with password: {password}\n"
        f"  (also saved to {path.resolve()}; delete it once noted)\n",
        flush=True,
    )


def _add_error_handlers(app: FastAPI) -> None:
    """Map domain errors and validation errors to {"detail": "..."} responses."""

    @app.exception_handler(VoicesmithError)
    async def _domain(req: Request, exc: VoicesmithError) -> JSONResponse:
        return _error(req, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(req: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(req, 422, _describe(exc), None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI reports a disk that fills while it spools a multipart body as a parse error.
        if (full := storage_error(exc)) is not None:
            return _error(req, full.status_code, full.detail, None)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _error(
            req, exc.status_code, _routing_detail(req, exc.status_code, detail), exc.headers
        )

    @app.exception_handler(OSError)
    @app.exception_handler(OperationalError)
    async def _storage(req: Request, exc: Exception) -> JSONResponse:
        if (full := storage_error(exc)) is None:
            raise exc
        return _error(req, full.status_code, full.detail, None)


def _routing_detail(req: Request, status: int, detail: str) -> str:
    """Starlette's bare 'Not Found' and 'Method Not Allowed', said so a person can act."""
    if status == 404 and detail == "Not Found":
        return f"there is no endpoint at {req.url.path}; /docs lists them"
    if status == 405 and detail == "Method Not Allowed":
        return f"{req.url.path} does not accept {req.method}; /docs lists what it accepts"
    return detail


def _error(req: Request, status: int, detail: str, headers: dict[str, str] | None) -> JSONResponse:
    """{"detail": ...}, or OpenAI's error shape on its compatible routes."""
    shaped = openai_error(req, status, detail, headers)
    return shaped or JSONResponse({"detail": detail}, status, headers=headers)


def _describe(exc: RequestValidationError) -> str:
    """Flatten pydantic's error list into one sentence a person can read."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "the request is invalid"
