"""`voicesmith dataset import-long`: split a long recording into clips, here and now."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from voicesmith.transcripts.models import LongImport


def import_long(
    source: Annotated[Path, typer.Argument(help="a long recording (up to 2 hours)", exists=True)],
    name: Annotated[str, typer.Option(help="dataset to add the clips to")],
    transcript: Annotated[
        Path | None, typer.Option(help="a text file with the whole recording's transcript")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="where datasets, runs and the DB live")
    ] = None,
) -> None:
    """Split a long recording at pauses into transcribed clips, with a progress bar."""
    from rich.progress import Progress

    from voicesmith.cli import _open_database, _or_exit, _settings
    from voicesmith.db import session_scope
    from voicesmith.transcripts import longform

    settings = _settings(data_dir)
    text = transcript.read_text(encoding="utf-8") if transcript else ""
    with session_scope(_open_database(settings)) as session, source.open("rb") as audio:
        row = _or_exit(
            lambda: longform.create_import(
                session=session,
                settings=settings,
                dataset_name=name,
                audio=audio,
                filename=source.name,
                transcript=text,
            )
        )
        with Progress() as bar:
            task = bar.add_task("decoding", total=100)

            def report(phase: str, percent: float) -> None:
                bar.update(task, description=phase, completed=percent)

            row = longform.run_import(
                session=session, settings=settings, import_id=row.id, progress=report
            )
    _print_outcome(row)


def _print_outcome(row: "LongImport") -> None:
    """Say what the import stored, or why it failed (exit code 1)."""
    if row.status != "completed":
        typer.echo(f"error: {row.detail}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{row.dataset_name}: stored {row.clips} clips from {row.original_filename}")
    if row.detail:
        typer.echo(f"  {row.detail}")
