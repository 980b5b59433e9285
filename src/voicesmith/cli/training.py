"""`voicesmith train`: queue a job and, with --follow, show its progress until it ends."""

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from voicesmith.cli.common import DataDirOpt, cli_actor, open_database, or_exit, settings_for
from voicesmith.db import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from voicesmith.training.follow import JobUpdate

POLL_SECONDS = 1.0
DRY_RUN_WAIT_SECONDS = 600.0  # a person at a terminal waits longer than an HTTP client


def train(
    dataset: Annotated[str, typer.Argument(help="name of an uploaded dataset")],
    epochs: Annotated[int, typer.Option(help="passes over the dataset")] = 10,
    batch_size: Annotated[int, typer.Option(help="clips per step")] = 4,
    base_model: Annotated[
        str | None, typer.Option(help="zoo name, URL, dir, job:<id> or scratch:tiny")
    ] = None,
    follow: Annotated[bool, typer.Option(help="show progress until the job ends")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="measure time and memory on the worker; queue no job")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="with --dry-run: the answer as JSON")
    ] = False,
    consent_override_reason: Annotated[
        str | None,
        typer.Option(help="why this job may train without the speaker's verified consent"),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Queue a fine-tuning job; a server or worker runs it."""
    from voicesmith.queue import build_huey
    from voicesmith.training import service, tasks

    settings = settings_for(data_dir)
    sessions = open_database(settings)
    request = {
        "dataset_name": dataset,
        "epochs": epochs,
        "batch_size": batch_size,
        "base_model": base_model,
    }
    if dry_run:
        _dry_run(sessions, settings, {k: v for k, v in request.items() if v}, as_json)
        return
    start = {k: v for k, v in request.items() if v}
    if consent_override_reason:
        start["consent_override_reason"] = consent_override_reason
    with session_scope(sessions) as session:
        job = or_exit(
            lambda: service.submit(
                session=session, settings=settings, request=start, actor=cli_actor()
            )
        )
    tasks.register(build_huey(settings), lambda: None)(job.id)
    typer.echo(f"queued {job.id}; output in {job.output_dir}")
    if follow:
        _follow(sessions, job.id)


def _dry_run(sessions: "sessionmaker[Session]", settings, request: dict, as_json: bool) -> None:
    """Queue a dry run, wait for a worker to measure it, and say what it found."""
    from voicesmith.queue import build_huey
    from voicesmith.training import estimates, tasks
    from voicesmith.web.words import estimate as in_words

    enqueue = tasks.register_estimates(build_huey(settings), lambda: None)
    with session_scope(sessions) as session:
        answer = or_exit(
            lambda: estimates.request_estimate(
                session=session,
                settings=settings,
                request=request,
                enqueue=enqueue,
                wait_seconds=DRY_RUN_WAIT_SECONDS,
            )
        )
    if as_json:
        typer.echo(json.dumps(answer, indent=1))
    elif answer["status"] in estimates.WAITING:
        typer.echo(
            f"estimate {answer['estimate_id']} is {answer['status']}: a worker measures it "
            f"between jobs; GET /api/v1/admin/training/estimate/{answer['estimate_id']}"
        )
    else:
        typer.echo(f"{request['dataset_name']}: {in_words(answer)}")


def _follow(sessions: "sessionmaker[Session]", job_id: str) -> None:
    """Show the job's progress until it ends, then exit 0 if it completed, else 1."""
    from voicesmith.training.follow import job_updates

    final = _progress_bar(job_id, job_updates(sessions=sessions, job_id=job_id))
    error = (final.state or {}).get("error")
    typer.echo(f"{job_id}: {final.status}" + (f"\n{error}" if error else ""))
    raise typer.Exit(0 if final.status == "completed" else 1)


def _progress_bar(job_id: str, updates: "Iterator[JobUpdate]") -> "JobUpdate":
    """A rich progress bar fed from the job-update feed; returns the last update."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[losses]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console()) as bar:
        task = bar.add_task(job_id, total=100, losses="")
        for update in updates:
            bar.update(
                task,
                completed=update.progress.get("percent", 0.0),
                description=f"{update.job_id} [{update.status}]",
                losses=_losses(update.progress),
            )
            if not update.ended:
                time.sleep(POLL_SECONDS)
    return update


def _losses(progress: dict) -> str:
    """The first few losses, short."""
    losses = progress.get("losses") or {}
    return " ".join(f"{k}={v:.3g}" for k, v in list(losses.items())[:3])
