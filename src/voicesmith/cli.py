"""The voicesmith command line: serve, worker, create-admin, train, synth."""

import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from voicesmith.auth.models import Role
from voicesmith.config import Settings
from voicesmith.db import make_engine, make_sessionmaker, run_migrations, session_scope
from voicesmith.errors import VoicesmithError
from voicesmith.transcripts.cli import import_long

app = typer.Typer(help="Train and serve TTS voices from your own recordings.", no_args_is_help=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="where datasets, runs and the DB live")
]


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line values winning."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


@app.command()
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
    settings = _settings(data_dir, **overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    application = create_app(settings, embedded_worker=not no_worker)
    typer.echo(
        f"voicesmith on http://{settings.host}:{settings.port} (data in {settings.data_dir})"
    )
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="login name for the new admin")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="VOICESMITH_NEW_ADMIN_PASSWORD",
            help="at least 8 characters",
        ),
    ],
    data_dir: DataDirOpt = None,
) -> None:
    """Create an admin account."""
    from voicesmith.auth.service import create_user

    settings = _settings(data_dir)
    with session_scope(_open_database(settings)) as session:
        _or_exit(
            lambda: create_user(
                session=session, username=username, password=password, role=Role.ADMIN
            )
        )
    typer.echo(f"admin '{username}' created")


dataset_app = typer.Typer(help="Manage datasets.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")
dataset_app.command("import-long")(import_long)


@dataset_app.command("import")
def dataset_import(
    source: Annotated[
        Path, typer.Argument(help="a folder or zip of clips with metadata.csv", exists=True)
    ],
    name: Annotated[str, typer.Option(help="dataset to add the clips to")],
    data_dir: DataDirOpt = None,
) -> None:
    """Import many clips at once, with a progress bar."""
    import tempfile

    from voicesmith.datasets import bulk

    settings = _settings(data_dir)
    sessions = _open_database(settings)
    with tempfile.TemporaryDirectory() as folder:
        files = _source_files(source, Path(folder), settings.max_batch_files)
        clips = sum(n.lower() not in bulk.METADATA_NAMES for n, _ in files)
        with session_scope(sessions) as session, _import_progress(clips) as advance:
            result = _or_exit(
                lambda: bulk.import_batch(
                    session=session,
                    settings=settings,
                    dataset_name=name,
                    files=files,
                    metadata=None,
                    progress=advance,
                )
            )
    from voicesmith.transcripts.tasks import enqueuer

    enqueuer(settings).transcribe(result.clip_ids)  # a server or worker recognises them
    typer.echo(f"{result.dataset}: stored {result.stored}, {result.audio_count} clips in all")
    for rejection in result.rejected:
        typer.echo(f"  rejected {rejection.file}: {rejection.detail}")


@dataset_app.command("report")
def dataset_report(
    name: Annotated[str, typer.Argument(help="the dataset")],
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Show a dataset's quality report: totals, warnings and flagged clips."""
    import json

    from voicesmith.datasets import editing, report

    settings = _settings(data_dir)
    with session_scope(_open_database(settings)) as session:
        dataset = _or_exit(lambda: editing.dataset_or_404(session=session, name=name))
        stored = report.stored(session=session, settings=settings, dataset=dataset)
    if as_json:
        typer.echo(json.dumps(stored, indent=2))
        return
    _print_report(stored)


def _print_report(stored: dict) -> None:
    """The report as people read it: totals, warnings, then one line per flagged clip."""
    totals = stored["totals"]
    typer.echo(
        f"{stored['dataset']}: {totals['clips']} clips, {totals['total_minutes']} min "
        f"(shortest {totals['min_seconds']} s, median {totals['median_seconds']} s, "
        f"longest {totals['max_seconds']} s), {totals['flagged_clips']} flagged"
    )
    for warning in stored["warnings"]:
        typer.echo(f"  warning: {warning}")
    for clip in stored["clips"]:
        if clip["flags"]:
            typer.echo(f"  {clip['file']}: {', '.join(clip['flags'])}")


def _source_files(source: Path, scratch: Path, max_files: int) -> list[tuple[str, Path]]:
    """(name, path) of every file in a folder, or in a zip unpacked into scratch."""
    from voicesmith.datasets import archive

    if source.is_dir():
        paths = sorted(p for p in source.iterdir() if p.is_file())
    else:
        paths = _or_exit(lambda: archive.extract(source, scratch, max_files=max_files))
    return [(p.name, p) for p in paths]


@contextlib.contextmanager
def _import_progress(total: int):
    """A rich progress bar; yields the per-file callback."""
    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task("converting", total=total)
        yield lambda _name: bar.advance(task)


@app.command()
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

    settings = _settings(data_dir)
    slots = _parse_gpus(gpus)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sessions = _open_database(settings)
    huey = build_huey(settings)
    # The task finds the context through this closure; it is bound below, before any task runs.
    enqueue = tasks.register(huey, lambda: ctx)
    ctx = tasks.start_worker_context(
        settings=settings, sessions=sessions, gpus=slots, requeue=enqueue
    )
    where = f" on GPUs {','.join(slots)}" if slots else ""
    typer.echo(f"voicesmith worker {ctx.worker_id}{where} waiting for jobs")
    # Speech recognition runs on its own queue and thread, never in a training slot.
    asr = asr_tasks.start_consumer(settings=settings, sessions=sessions)
    try:
        JobConsumer(huey, ctx.stop_event, workers=max(1, len(slots))).run()
    finally:
        asr.stop()


def _parse_gpus(text: str | None) -> list[str]:
    """'0,1' -> ['0', '1']; refuses anything but distinct non-negative integers."""
    if not text:
        return []
    slots = [part.strip() for part in text.split(",")]
    if not all(s.isdigit() for s in slots) or len(set(slots)) != len(slots):
        typer.echo(f"error: --gpus takes distinct GPU numbers such as 0,1, not {text!r}", err=True)
        raise typer.Exit(2)
    return slots


@app.command()
def train(
    dataset: Annotated[str, typer.Argument(help="name of an uploaded dataset")],
    epochs: Annotated[int, typer.Option(help="passes over the dataset")] = 10,
    batch_size: Annotated[int, typer.Option(help="clips per step")] = 4,
    base_model: Annotated[
        str | None, typer.Option(help="zoo name, URL, dir, job:<id> or scratch:tiny")
    ] = None,
    follow: Annotated[bool, typer.Option(help="show progress until the job ends")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Queue a fine-tuning job; a server or worker runs it."""
    from rich.console import Console

    from voicesmith.queue import build_huey
    from voicesmith.training import follow as following
    from voicesmith.training import service, tasks

    settings = _settings(data_dir)
    sessions = _open_database(settings)
    request = {
        "dataset_name": dataset,
        "epochs": epochs,
        "batch_size": batch_size,
        "base_model": base_model,
    }
    with session_scope(sessions) as session:
        job = _or_exit(
            lambda: service.submit(
                session=session, settings=settings, request={k: v for k, v in request.items() if v}
            )
        )
    tasks.register(build_huey(settings), lambda: None)(job.id)
    typer.echo(f"queued {job.id}; output in {job.output_dir}")
    if follow:
        final = following.follow(sessions, job.id, Console())
        typer.echo(f"{final.id}: {final.status}" + (f"\n{final.error}" if final.error else ""))
        raise typer.Exit(0 if final.status == "completed" else 1)


@app.command()
def synth(
    text: Annotated[str, typer.Argument(help="what to say")],
    voice: Annotated[str, typer.Option(help="job id or alias of a completed job")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="file to write; the extension picks the format")
    ] = Path("out.wav"),
    speed: Annotated[float, typer.Option(help="speaking rate; 2 is twice as fast")] = 1.0,
    data_dir: DataDirOpt = None,
) -> None:
    """Speak text in a trained voice into an audio file, without a server."""
    from voicesmith.synthesis import formats
    from voicesmith.synthesis.service import Synthesizer, resolve_voice

    settings = _settings(data_dir)
    fmt = output.suffix.lstrip(".").lower() or "wav"
    if fmt not in formats.MEDIA_TYPES:
        typer.echo(
            f"error: cannot write .{fmt}; use one of {', '.join(formats.MEDIA_TYPES)}", err=True
        )
        raise typer.Exit(1)
    with session_scope(_open_database(settings)) as session:
        ref = _or_exit(lambda: resolve_voice(session=session, name=voice))
    speech = _or_exit(lambda: Synthesizer(settings).speak(ref, text, speed=speed))
    output.write_bytes(formats.encode(speech.samples, speech.sample_rate, fmt))
    seconds = len(speech.samples) / speech.sample_rate
    typer.echo(f"wrote {output} ({seconds:.2f} s, {speech.backend})")


def _open_database(settings: Settings):
    """Migrate the database and return a session factory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    run_migrations(engine)
    return make_sessionmaker(engine)


def _or_exit(action):
    """Run action, turning a domain error into a message and exit code 1."""
    try:
        return action()
    except VoicesmithError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc


if __name__ == "__main__":
    app()
