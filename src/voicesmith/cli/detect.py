"""`voicesmith detect`: whether an audio file carries this installation's watermark."""

import json
from pathlib import Path
from typing import Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope


def detect(
    file: Annotated[
        Path, typer.Argument(help="audio in any format FFmpeg reads", exists=True, dir_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Say whether FILE carries the watermark, and which voice and installation made it."""
    from voicesmith.synthesis.detection import detect as find

    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        found = or_exit(lambda: find(session=session, settings=settings, audio=file))
    if as_json:
        typer.echo(json.dumps(found.as_dict()))
        return
    if not found.watermarked:
        typer.echo(f"{file}: no watermark (PerTh confidence {found.score:g})")
    elif found.voice is None:
        typer.echo(f"{file}: watermarked, but by no voice of this installation")
    else:
        typer.echo(f"{file}: watermarked by voice '{found.voice}' of {found.installation}")
