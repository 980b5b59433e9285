"""Twenty synthesis requests at once while a training job runs on the same server."""

import io
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.jobs import at_step, status_is
from tests.slow.conftest import Api

pytestmark = [pytest.mark.slow, pytest.mark.hardening]
SPEAK = "/api/v1/synthesize-trained"
REQUESTS = 20


def test_concurrent_synthesis_while_training(server: Api, tiny_job: dict, record_property) -> None:
    """20 concurrent synthesis requests during a training run: all answered, training unharmed."""
    voice = tiny_job["job"]["job_id"]
    record_property("cases", REQUESTS)
    job_id = server.start(epochs=500)
    try:
        before = server.wait(job_id, at_step(1))["progress"]["step"]
        texts = [f"Request number {n} arrives while a voice trains." for n in range(REQUESTS)]
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(lambda text: _speak(server, voice, text), texts))
        assert all(seconds > 0.5 for seconds in answers), answers
        assert server.wait(job_id, at_step(before + 1))["status"] == "training"
    finally:
        server.post(job_id, "cancel")
    assert server.wait(job_id, status_is("cancelled"))["status"] == "cancelled"


def _speak(server: Api, voice: str, text: str) -> float:
    """Speak text in the voice; the length of the WAV that came back."""
    response = server.client.post(
        SPEAK, json={"text": text, "job_id": voice}, headers=server.headers, timeout=300
    )
    assert response.status_code == 200, response.text
    with wave.open(io.BytesIO(response.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (22050, 1)
        return wav.getnframes() / wav.getframerate()
