"""`voicesmith dataset ...`: import clips, import a long recording, show the quality report."""

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope

if TYPE_CHECKING:
    from voicesmith.transcripts.models import LongImport

dataset_app = typer.Typer(help="Manage datasets.", no_args_is_help=True)


@dataset_app.command("import-long")
def import_long(
    source: Annotated[Path, typer.Argument(help="a long recording (up to 2 hours)", exists=True)],
    name: Annotated[str, typer.Option(help="dataset to add the clips to")],
    transcript: Annotated[
        Path | None, typer.Option(help="a text file with the whole recording's transcript")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Split a long recording at pauses into transcribed clips, with a progress bar."""
    from rich.progress import Progress

    from voicesmith.transcripts import longform

    settings = settings_for(data_dir)
    text = transcript.read_text(encoding="utf-8") if transcript else ""
    with session_scope(open_database(settings)) as session, source.open("rb") as audio:
        row = or_exit(
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


@dataset_app.command("import")
def dataset_import(
    source: Annotated[
        Path, typer.Argument(help="a folder or zip of clips with metadata.csv", exists=True)
    ],
    name: Annotated[str, typer.Option(help="dataset to add the clips to")],
    data_dir: DataDirOpt = None,
) -> None:
    """Import many clips at once, with a progress bar."""
    from voicesmith.datasets import bulk, uploads
    from voicesmith.transcripts.tasks import enqueuer

    settings = settings_for(data_dir)
    sessions = open_database(settings)

    def enqueue_asr(clip_ids: list[int]) -> object:
        """Queue the stored clips; a server or worker recognises and embeds them."""
        return enqueuer(settings).analyse(clip_ids)

    with tempfile.TemporaryDirectory() as folder:
        files = _source_files(source, Path(folder), settings.max_batch_files)
        clips = sum(n.lower() not in bulk.METADATA_NAMES for n, _ in files)
        with session_scope(sessions) as session, _import_progress(clips) as advance:
            result = or_exit(
                lambda: uploads.import_files(
                    session=session,
                    settings=settings,
                    dataset_name=name,
                    files=files,
                    metadata=None,
                    enqueue_asr=enqueue_asr,
                    progress=advance,
                )
            )
    typer.echo(f"{result.dataset}: stored {result.stored}, {result.audio_count} clips in all")
    for rejection in result.rejected:
        typer.echo(f"  rejected {rejection.file}: {rejection.detail}")


def _source_files(source: Path, scratch: Path, max_files: int) -> list[tuple[str, Path]]:
    """(name, path) of every file in a folder, or in a zip unpacked into scratch."""
    from voicesmith.datasets import archive

    if source.is_dir():
        paths = sorted(p for p in source.iterdir() if p.is_file())
    else:
        paths = or_exit(lambda: archive.extract(source, scratch, max_files=max_files))
    return [(p.name, p) for p in paths]


@contextlib.contextmanager
def _import_progress(total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar; yields the per-file callback."""
    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task("converting", total=total)
        yield lambda _name: bar.advance(task)


@dataset_app.command("report")
def dataset_report(
    name: Annotated[str, typer.Argument(help="the dataset")],
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Show a dataset's quality report: totals, warnings and flagged clips."""
    from voicesmith.datasets import editing

    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        stored = or_exit(
            lambda: editing.quality_report(session=session, settings=settings, name=name)
        )
    if as_json:
        typer.echo(json.dumps(stored, indent=2))
        return
    _print_report(stored)


class Layout(StrEnum):
    """How an exported dataset's metadata.csv is laid out."""

    LJSPEECH = "ljspeech"
    PIPER = "piper"
    SEED = "seed"


@dataset_app.command("export")
def dataset_export(
    name: Annotated[str, typer.Argument(help="the dataset")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the zip to write")],
    layout: Annotated[Layout, typer.Option(help="ljspeech, piper or seed")] = Layout.LJSPEECH,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a dataset as a zip another trainer reads: LJSpeech-1.1, Piper's CSV or the seed's."""
    import shutil

    from voicesmith.datasets import service

    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        made = or_exit(
            lambda: service.export_zip(
                session=session, settings=settings, name=name, export_layout=layout.value
            )
        )
    shutil.move(made, output)
    typer.echo(f"wrote {output} ({layout.value} layout)")


def _print_report(stored: dict) -> None:
    """The report as people read it: totals, warnings, then one line per flagged clip."""
    totals = stored["totals"]
    typer.echo(
        f"{stored['dataset']}: {totals['clips']} clips, {totals['total_minutes']} min "
        f"(shortest {totals['min_seconds']} s, median {totals['median_seconds']} s, "
        f"longest {totals['max_seconds']} s), {totals['flagged_clips']} flagged"
    )
    voices = stored["speaker"]
    if voices["embedded_clips"]:
        typer.echo(
            f"  speaker: {voices['embedded_clips']} clips embedded, real-vs-real similarity "
            f"{voices['real_similarity']}, {voices['outlier_clips']} outlier(s), "
            f"{len(voices['skipped'])} skipped"
        )
    for warning in stored["warnings"]:
        typer.echo(f"  warning: {warning}")
    for clip in stored["clips"]:
        if clip["flags"]:
            typer.echo(f"  {clip['file']}: {', '.join(clip['flags'])}")
