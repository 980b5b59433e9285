"""Running the Wyoming server: on its own (`voicesmith wyoming`) or inside `voicesmith serve`."""

import logging
from functools import partial
from urllib.parse import urlparse

from wyoming.server import AsyncServer, AsyncTcpServer

from voicesmith.errors import BadInput
from voicesmith.synthesis.wyoming_handler import VoiceHandler, WyomingContext

log = logging.getLogger(__name__)
DEFAULT_URI = "tcp://127.0.0.1:10200"
# Addresses that mean "every interface": zeroconf then finds the LAN address itself.
_ANY_HOST = {"0.0.0.0", "::", ""}


def build_server(uri: str) -> AsyncServer:
    """The wyoming package's server for a tcp:// or unix:// URI; BadInput for others."""
    if urlparse(uri).scheme not in ("tcp", "unix"):
        raise BadInput(f"the Wyoming URI is {uri!r}; give tcp://HOST:PORT or unix://PATH")
    try:
        return AsyncServer.from_uri(uri)
    except ValueError as exc:
        raise BadInput(f"the Wyoming URI is {uri!r}: {exc}") from exc


async def start(server: AsyncServer, context: WyomingContext) -> None:
    """Listen without blocking, for a server that shares an event loop (uvicorn's)."""
    await server.start(partial(VoiceHandler, context))
    log.info("wyoming: listening on %s", describe_address(server))


async def run(server: AsyncServer, context: WyomingContext, *, zeroconf: bool) -> None:
    """Listen until stopped, advertising over mDNS when asked."""
    if zeroconf:
        await advertise(server)
    log.info("wyoming: listening on %s", describe_address(server))
    await server.run(partial(VoiceHandler, context))


async def advertise(server: AsyncServer) -> None:
    """Announce `_wyoming._tcp` over zeroconf so Home Assistant discovers the server."""
    from wyoming.zeroconf import HomeAssistantZeroconf

    if not isinstance(server, AsyncTcpServer):
        raise BadInput("zeroconf advertises a tcp:// server only")
    host = None if server.host in _ANY_HOST else server.host
    await HomeAssistantZeroconf(port=server.port, host=host).register_server()
    log.info("wyoming: advertised _wyoming._tcp on port %d", server.port)


def describe_address(server: AsyncServer) -> str:
    """Where the server listens, for logs and the web page."""
    if isinstance(server, AsyncTcpServer):
        return f"tcp://{server.host}:{server.port}"
    return str(getattr(server, "socket_path", server))
