"""Starting the Wyoming server: inside `voicesmith serve`, with --zeroconf, and with a bad URI."""

import os

import pytest
from pydantic import ValidationError
from wyoming.info import Describe

from tests.conftest import free_port, start_server, stop_server
from tests.wyoming import exchange, run_async, start_wyoming
from voicesmith.config import Settings
from voicesmith.errors import BadInput
from voicesmith.synthesis import wyoming_server


def _describe(port: int) -> list[str]:
    """The voice names a Wyoming server lists."""
    [event] = run_async(exchange(port, Describe().event(), until=("info",)))
    return [voice["name"] for voice in event.data["tts"][0]["voices"]]


def test_serve_runs_the_wyoming_server_when_its_uri_is_set(tmp_path):
    port = free_port()
    env = {**os.environ, "VOICESMITH_WYOMING_URI": f"tcp://127.0.0.1:{port}"}
    proc, _ = start_server(tmp_path / "var", env, "--no-worker")
    try:
        assert _describe(port) == []
    finally:
        output = stop_server(proc)
    assert f"listening on tcp://127.0.0.1:{port}" in output


def test_zeroconf_flag_starts_on_loopback(tmp_path):
    proc, port = start_wyoming(tmp_path / "var", "--zeroconf")
    try:
        assert _describe(port) == []
    finally:
        output = stop_server(proc)
    assert "advertised _wyoming._tcp" in output, output[-2000:]


def test_a_uri_that_is_not_tcp_or_unix_is_refused():
    with pytest.raises(BadInput, match="tcp://HOST:PORT"):
        wyoming_server.build_server("http://127.0.0.1:1")
    with pytest.raises(ValidationError, match="VOICESMITH_WYOMING_URI"):
        Settings(wyoming_uri="127.0.0.1:10200")
