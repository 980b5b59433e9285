"""Malformed Wyoming frames over raw sockets: each closes its own connection, and only that."""

import json
import socket
from collections.abc import Iterator

import pytest
from wyoming.info import Describe

from tests.conftest import stop_server
from tests.wyoming import exchange, run_async, start_wyoming

CLOSE_WITHIN_S = 5.0


def _header(**fields: object) -> bytes:
    """A JSON header line as a client would send it."""
    return json.dumps(fields).encode() + b"\n"


# (id, bytes sent, whether the client then stops sending: a lying length needs the end)
FRAMES = [
    ("bad-json-header", b"{not json at all\n", False),
    ("header-not-an-object", b"[1, 2, 3]\n", False),
    ("header-without-type", _header(data={"text": "hi"}), False),
    ("data-length-not-a-number", _header(type="describe", data_length="9"), False),
    ("header-line-over-64-kib", b'{"type": "describe", "x": "' + b"a" * 70_000 + b'"}\n', False),
    (
        "data-length-shorter-than-data",
        _header(type="synthesize", data_length=5) + b'{"text": "hello"}',
        False,
    ),
    (
        "payload-length-longer-than-payload",
        _header(type="audio-chunk", payload_length=1000) + b"x" * 10,
        True,
    ),
    ("declared-100-mb-payload", _header(type="audio-chunk", payload_length=100 * 2**20), False),
    ("declared-100-mb-data", _header(type="synthesize", data_length=100 * 2**20), False),
]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A live `voicesmith wyoming` with no voices: framing needs none."""
    proc, port = start_wyoming(tmp_path_factory.mktemp("wyoming-frames") / "var")
    yield port
    output = stop_server(proc)
    assert "Traceback" not in output, output[-3000:]


def _closed_after(port: int, frame: bytes, *, end: bool) -> bool:
    """Send frame on a raw socket; whether the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=CLOSE_WITHIN_S) as sock:
        sock.sendall(frame)
        if end:
            sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(65536):
                pass  # an answer before closing would be fine; the close is what counts
        except ConnectionResetError:
            pass
        except TimeoutError:
            return False
    return True


def _still_serving(port: int) -> bool:
    """Whether a well-behaved client still gets its info."""
    events = run_async(exchange(port, Describe().event(), until=("info",)))
    return events[-1].type == "info"


@pytest.mark.parametrize(("frame", "end"), [f[1:] for f in FRAMES], ids=[f[0] for f in FRAMES])
def test_a_malformed_frame_closes_its_connection_only(port: int, frame: bytes, end: bool) -> None:
    """Wyoming frames: bad JSON, lying lengths, 100 MB declared bodies close that client only."""
    assert _closed_after(port, frame, end=end)
    assert _still_serving(port)


def test_a_stalled_frame_holds_only_its_own_connection(port: int) -> None:
    """A Wyoming client stalled inside a frame leaves the server answering others."""
    with socket.create_connection(("127.0.0.1", port)) as stalled:
        stalled.sendall(_header(type="synthesize", data_length=1000) + b'{"text": ')
        assert _still_serving(port)
