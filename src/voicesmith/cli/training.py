"""`voicesmith train`: queue a job and, with --follow, show its progress until it ends."""

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from voicesmith.training.follow import JobUpdate

POLL_SECONDS = 1.0


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
    with session_scope(sessions) as session:
        job = or_exit(
            lambda: service.submit(
                session=session, settings=settings, request={k: v for k, v in request.items() if v}
            )
        )
    tasks.register(build_huey(settings), lambda: None)(job.id)
    typer.echo(f"queued {job.id}; output in {job.output_dir}")
    if follow:
        _follow(sessions, job.id)


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
