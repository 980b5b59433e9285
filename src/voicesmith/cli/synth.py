"""`voicesmith synth`: speak text into an audio file, without a server."""

from pathlib import Path
from typing import Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope


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
    from voicesmith.auth.audit import CLI
    from voicesmith.synthesis import formats
    from voicesmith.synthesis.service import Synthesizer, speak
    from voicesmith.synthesis.sharing import LOCAL

    settings = settings_for(data_dir)
    fmt = output.suffix.lstrip(".").lower() or "wav"
    if fmt not in formats.MEDIA_TYPES:
        typer.echo(
            f"error: cannot write .{fmt}; use one of {', '.join(formats.MEDIA_TYPES)}", err=True
        )
        raise typer.Exit(1)
    synthesizer = Synthesizer(settings)
    with session_scope(open_database(settings)) as session:
        audio = or_exit(
            lambda: speak(
                session=session,
                synth=synthesizer,
                audience=LOCAL,
                voices=(voice,),
                text=text,
                route=f"{CLI} synth",
                fmt=fmt,
                speed=speed,
            )
        )
    output.write_bytes(audio.content)
    typer.echo(f"wrote {output} ({audio.seconds:.2f} s, {audio.backend})")
