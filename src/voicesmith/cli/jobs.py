"""`voicesmith job ...`: look at a training job from the command line."""

from typing import Annotated, Any

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope

job_app = typer.Typer(help="Look at training jobs.", no_args_is_help=True)


@job_app.command("checkpoints")
def checkpoints(
    job_id: Annotated[str, typer.Argument(help="the job's id")], data_dir: DataDirOpt = None
) -> None:
    """Print the job's scored checkpoints; the promoted one is starred."""
    from voicesmith.training import checkpoints as service

    sessions = open_database(settings_for(data_dir))
    with session_scope(sessions) as session:
        found = or_exit(lambda: service.list_checkpoints(session=session, job_id=job_id))
    _print_table(job_id, found)


def _print_table(job_id: str, found: dict[str, Any]) -> None:
    """The checkpoints as a rich table."""
    from rich.console import Console
    from rich.table import Table

    if not found["checkpoints"]:
        typer.echo(f"{job_id} has no scored checkpoints yet")
        return
    table = Table(title=f"{job_id}: checkpoints (* promoted, the voice speaks with it)")
    for name in ("step", "eval_loss", "cer", "similarity", "relative", "kept", "file"):
        table.add_column(name, justify="left" if name == "file" else "right")
    for entry in found["checkpoints"]:
        star = "*" if entry["step"] == found["promoted"] else ""
        table.add_row(
            f"{star}{entry['step']}",
            *(_number(entry[k]) for k in ("eval_loss", "cer", "similarity")),
            _number(entry["relative_similarity"]),
            "yes" if entry["kept"] else "pruned",
            entry["file"],
        )
    Console(width=120).print(table)


def _number(value: float | None) -> str:
    """A score, short; a dash where it was not measured."""
    return "-" if value is None else f"{value:.4g}"
