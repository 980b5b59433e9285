"""`voicesmith serve` and `voicesmith worker`: the processes that do the work."""

import logging
import signal
import threading
from typing import Annotated

import typer
import uvicorn

from voicesmith.cli.common import DataDirOpt, open_database, settings_for

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    data_dir: DataDirOpt = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="serve the API only; run workers separately")
    ] = False,
) -> None:
    """Run the HTTP API (default http://127.0.0.1:8000)."""
    from voicesmith.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings_for(data_dir, **overrides)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    application = create_app(settings, embedded_worker=not no_worker)
    typer.echo(
        f"voicesmith on http://{settings.host}:{settings.port} (data in {settings.data_dir})"
    )
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


def worker(
    data_dir: DataDirOpt = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            help="GPU ids, e.g. 0,1: one job at a time on each, with its own CUDA_VISIBLE_DEVICES"
        ),
    ] = None,
) -> None:
    """Run a standalone training worker against the shared database and queue."""
    from voicesmith.queue import JobConsumer, build_huey
    from voicesmith.training import tasks
    from voicesmith.transcripts import tasks as asr_tasks

    settings = settings_for(data_dir)
    slots = parse_gpus(gpus)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    sessions = open_database(settings)
    huey = build_huey(settings)
    # The task finds the context through this closure; it is bound below, before any task runs.
    enqueue = tasks.register(huey, lambda: ctx)
    # The worker's row exists before the consumer installs its signal handlers: a SIGTERM in
    # between must still stop it cleanly, so that it retires its row instead of dying.
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    ctx = tasks.start_worker_context(
        settings=settings, sessions=sessions, gpus=slots, requeue=enqueue, stop_event=stop_event
    )
    where = f" on GPUs {','.join(slots)}" if slots else ""
    typer.echo(f"voicesmith worker {ctx.worker_id}{where} waiting for jobs")
    # Speech recognition runs on its own queue and thread, never in a training slot.
    asr = asr_tasks.start_consumer(settings=settings, sessions=sessions)
    try:
        if not stop_event.is_set():
            JobConsumer(huey, stop_event, workers=max(1, len(slots))).run()
    finally:
        asr.stop()
        ctx.retire()


def parse_gpus(text: str | None) -> list[str]:
    """'0,1' -> ['0', '1']; refuses anything but distinct non-negative integers."""
    if not text:
        return []
    slots = [part.strip() for part in text.split(",")]
    if not all(s.isdigit() for s in slots) or len(set(slots)) != len(slots):
        typer.echo(f"error: --gpus takes distinct GPU numbers such as 0,1, not {text!r}", err=True)
        raise typer.Exit(2)
    return slots
