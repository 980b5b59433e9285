"""A live `voicesmith wyoming` for tests, and the wyoming package's client to talk to it."""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from tests.conftest import free_port

TIMEOUT = 60.0
T = TypeVar("T")


def start_wyoming(data_dir: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    """Start `voicesmith wyoming` on 127.0.0.1 in a child process and wait until it accepts."""
    port = free_port()
    cmd = [sys.executable, "-m", "voicesmith", "wyoming", "--uri", f"tcp://127.0.0.1:{port}"]
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(data_dir), *extra],
        env=os.environ.copy(),
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.output = output
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    output.seek(0)
    raise RuntimeError(f"wyoming server did not start: {output.read()}")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in its own thread: Playwright's sync API keeps a loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def exchange(port: int, *events: Event, until: tuple[str, ...]) -> list[Event]:
    """Send events with AsyncTcpClient and read answers until one of the `until` types."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        return await read_until(client, until)


async def read_until(client: AsyncTcpClient, until: tuple[str, ...]) -> list[Event]:
    """Events from client up to and including the first of the `until` types."""
    answers: list[Event] = []
    while True:
        event = await asyncio.wait_for(client.read_event(), TIMEOUT)
        assert event is not None, f"the server closed the connection after {answers}"
        answers.append(event)
        if event.type in until:
            return answers


def pcm_of(events: list[Event]) -> bytes:
    """The audio of the audio-chunk events, joined."""
    return b"".join(e.payload or b"" for e in events if e.type == "audio-chunk")
