"""`voicesmith export`: a completed job's voice as a Piper voice or a Coqui TTS bundle."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope


class Format(StrEnum):
    """The runtimes a voice is exported for."""

    PIPER = "piper"
    COQUI = "coqui"


def export(
    job_id: Annotated[str, typer.Argument(help="a completed job")],
    format: Annotated[
        Format, typer.Option(help="piper: NAME.onnx + NAME.onnx.json; coqui: tts bundle")
    ],  # noqa: A002
    output: Annotated[Path, typer.Option("-o", "--output", help="folder to write into")] = Path(
        "."
    ),
    data_dir: DataDirOpt = None,
) -> None:
    """Write a completed job's voice for Piper (and Home Assistant) or for Coqui's tts."""
    from voicesmith.training import exports

    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        exported = or_exit(
            lambda: exports.export_files(
                session=session, job_id=job_id, export_format=format.value, out_dir=output
            )
        )
    for path in exported.files:
        typer.echo(f"wrote {path}")
    for warning in exported.warnings:
        typer.echo(f"warning: {warning}", err=True)
