"""`voicesmith wyoming`: the published voices over the Wyoming protocol, for Home Assistant."""

import asyncio
import contextlib
import logging
from typing import Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.cli.serve import LOG_FORMAT


def wyoming(
    uri: Annotated[
        str | None,
        typer.Option(
            help="where to listen; default VOICESMITH_WYOMING_URI or tcp://127.0.0.1:10200"
        ),
    ] = None,
    zeroconf: Annotated[
        bool, typer.Option("--zeroconf", help="advertise _wyoming._tcp so Home Assistant finds it")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Serve published voices to Home Assistant over Wyoming; it has no authentication."""
    from voicesmith.synthesis import wyoming_server
    from voicesmith.synthesis.service import Synthesizer
    from voicesmith.synthesis.wyoming_handler import WyomingContext

    settings = settings_for(data_dir)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    address = uri or settings.wyoming_uri or wyoming_server.DEFAULT_URI
    server = or_exit(lambda: wyoming_server.build_server(address))
    context = WyomingContext(sessions=open_database(settings), synth=Synthesizer(settings))
    typer.echo(f"voicesmith wyoming on {address} (data in {settings.data_dir})")
    advertise = zeroconf or settings.wyoming_zeroconf
    # Ctrl-C is how a person stops a foreground server, not an error to print.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(wyoming_server.run(server, context, zeroconf=advertise))
