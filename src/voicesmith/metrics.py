"""GET /metrics: gauges read from the database at scrape time, latency histograms in process.

Gauges come from the shared database and queue, so any API process reports the whole
cluster; histograms describe the requests this process served.
"""

import logging
import time
from collections.abc import Callable, Iterator

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicesmith.db import session_scope
from voicesmith.deps import require_admin
from voicesmith.training import liveness
from voicesmith.training.models import Job, JobStatus

log = logging.getLogger("voicesmith.metrics")
METRICS_PATH = "/metrics"
INGEST_PATHS = (
    "/api/v1/admin/training/upload",
    "/api/v1/admin/training/upload-batch",
    "/admin/training/upload",
    "/admin/training/upload-batch",
)
SYNTHESIS_PATHS = ("/api/v1/synthesize-trained", "/api/v1/synthesize", "/v1/audio/speech")
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def install(app: FastAPI) -> None:
    """Give the app a metrics registry, the latency middleware and the admin-only route."""
    registry = CollectorRegistry()
    histograms = {}
    for kind, paths in (("ingest", INGEST_PATHS), ("synthesis", SYNTHESIS_PATHS)):
        histogram = Histogram(
            f"voicesmith_{kind}_seconds",
            f"Time to answer {kind} requests, by route",
            ["route"],
            buckets=BUCKETS,
            registry=registry,
        )
        histograms.update(dict.fromkeys(paths, histogram))
    registry.register(ClusterCollector(app))
    app.state.metrics = registry
    app.add_middleware(LatencyMiddleware, histograms=histograms)
    app.add_api_route(
        METRICS_PATH,
        scrape,
        methods=["GET"],
        tags=["health"],
        dependencies=[Depends(require_admin)],
        # Prometheus' text format, so /openapi.json must not promise JSON.
        response_class=PlainTextResponse,
    )


def scrape(request: Request) -> Response:
    """Prometheus text format for this process and the shared database."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


class ClusterCollector(Collector):
    """Jobs by status, queue depth, live workers and training speed, read on each scrape."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges; a queue that cannot be reached is left out rather than failing a scrape."""
        settings = self.app.state.settings
        with session_scope(self.app.state.sessionmaker) as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
            counts = {status: count for status, count in rows}
            live = liveness.count_live(session=session, settings=settings)
            training = list(session.scalars(select(Job).where(Job.status == "training")))
        yield _jobs_gauge(counts)
        yield GaugeMetricFamily(
            "voicesmith_workers_live", "Workers with a heartbeat within the timeout", value=live
        )
        yield _speed_gauge(training)
        depth = self._queue_depths()
        if depth is not None:
            yield depth

    def _queue_depths(self) -> GaugeMetricFamily | None:
        """Tasks waiting in each queue."""
        gauge = GaugeMetricFamily("voicesmith_queue_depth", "Tasks waiting", labels=["queue"])
        for name in ("huey", "asr_huey"):
            huey = getattr(self.app.state, name, None)
            if huey is None:
                continue
            try:
                gauge.add_metric([huey.name], huey.pending_count())
            except Exception:  # a queue outage must not hide every other metric
                log.warning("queue %s unreachable for /metrics", huey.name)
                return None
        return gauge


def _jobs_gauge(counts: dict[str, int]) -> GaugeMetricFamily:
    """One sample per status, zeros included, so a dashboard's series never vanish."""
    gauge = GaugeMetricFamily("voicesmith_jobs", "Training jobs by status", labels=["status"])
    for status in JobStatus:
        gauge.add_metric([status.value], counts.get(status.value, 0))
    return gauge


def _speed_gauge(jobs: list[Job]) -> GaugeMetricFamily:
    """Steps per second of each training job, from its latest progress."""
    gauge = GaugeMetricFamily(
        "voicesmith_training_steps_per_second",
        "Training speed of each running job",
        labels=["job_id", "worker"],
    )
    for job in jobs:
        per_step = (job.progress or {}).get("seconds_per_step") or 0.0
        gauge.add_metric([job.id, job.worker_id or ""], 1.0 / per_step if per_step else 0.0)
    return gauge


class LatencyMiddleware:
    """Times ingest and synthesis requests until their last body byte is sent."""

    def __init__(self, app: ASGIApp, *, histograms: dict[str, Histogram]) -> None:
        self.app = app
        self.histograms = histograms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        histogram = self.histograms.get(scope.get("path", "")) if scope["type"] == "http" else None
        if histogram is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observe = _once(lambda: histogram.labels(scope["path"]).observe(_since(started)))

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                observe()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            observe()


def _since(started: float) -> float:
    """Seconds since a perf_counter reading."""
    return time.perf_counter() - started


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """A wrapper that runs action on its first call only."""
    done = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


def start_listener(app: FastAPI) -> Callable[[], None] | None:
    """Serve /metrics without auth on VOICESMITH_METRICS_ADDRESS; returns how to stop it."""
    address = app.state.settings.metrics_address
    if not address:
        return None
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    server, _thread = start_http_server(
        int(port), addr=host or "127.0.0.1", registry=app.state.metrics
    )
    log.info("unauthenticated /metrics on http://%s", address)
    return server.shutdown
