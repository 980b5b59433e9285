"""Wyoming against HTTP on one full-size VITS with random weights, int8, in one run.

(1) time to the first `audio-chunk` of a three-sentence text streamed over Wyoming
(synthesize-start / chunk / stop) against the time to the whole WAV over HTTP for the same
text (target: under 40%); (2) 4 concurrent Wyoming clients: every one answered, and the
audio seconds produced per wall second. Run: .venv/bin/python benchmarks/wyoming.py
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this file's folder comes first on the path and its name hides the package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop  # noqa: E402
from wyoming.tts import SynthesizeVoice as Voice  # noqa: E402

from tests.conftest import login, start_server, stop_server  # noqa: E402
from tests.wyoming import pcm_of, read_until, start_wyoming  # noqa: E402

SENTENCES = [
    "Our first sentence sets the scene for the listener.",
    "The second one carries the story a little further along.",
    "And the third sentence brings it to a close.",
]
TEXT = " ".join(SENTENCES)
PASSWORD = "benchmark-password"
JOB_ID = "bench-voice"
THREADS = 2
CLIENTS = 4


def main() -> None:
    """Build the voice, start both servers, measure and print."""
    args = _parse()
    data_dir = Path(tempfile.mkdtemp(prefix="vs-wyoming-")) / "var"
    _register_voice(data_dir)
    env = {
        **os.environ,
        "VOICESMITH_ADMIN_PASSWORD": PASSWORD,
        "VOICESMITH_SYNTHESIS_THREADS": str(THREADS),
    }
    os.environ.update(env)  # the Wyoming process inherits them too
    proc, base = start_server(data_dir, env, "--no-worker")
    wyoming, port = start_wyoming(data_dir)
    try:
        client = httpx.Client(base_url=base, timeout=300)
        headers = login(client, "admin", PASSWORD)
        body = {"job_id": JOB_ID, "wyoming": True}
        client.put("/api/v1/admin/voices/bench", json=body, headers=headers).raise_for_status()
        _report(client, headers, port, args.repeats)
    finally:
        stop_server(wyoming)
        stop_server(proc)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def _register_voice(data_dir: Path) -> None:
    """A random full-size VITS exported as training exports it, as a completed job."""
    from voicesmith.cli.common import open_database
    from voicesmith.config import Settings
    from voicesmith.db import utcnow
    from voicesmith.engines.export import export_voice, make_random_model_dir
    from voicesmith.training.models import Job, JobStatus

    settings = Settings(data_dir=data_dir, admin_password=PASSWORD)
    sessions = open_database(settings)
    job_dir = make_random_model_dir(settings.runs_dir / JOB_ID)
    print(export_voice(job_dir))  # model.onnx and the int8 copy, with its SNR and speed-up
    assert (job_dir / "model.int8.onnx").is_file(), "the benchmark measures the int8 voice"
    with sessions() as session:
        job = Job(id=JOB_ID, dataset_name="bench", params={}, output_dir=str(job_dir))
        job.status, job.finished_at = JobStatus.COMPLETED.value, utcnow()
        session.add(job)
        session.commit()


def _report(client: httpx.Client, headers: dict, port: int, repeats: int) -> None:
    """Warm both servers, then measure and print the two figures."""
    _whole_wav(client, headers)
    asyncio.run(_first_chunk(port))
    firsts = [asyncio.run(_first_chunk(port)) for _ in range(repeats)]
    wholes = [_whole_wav(client, headers) for _ in range(repeats)]
    first, whole = statistics.median(firsts), statistics.median(wholes)
    verdict = "met" if first < 0.4 * whole else "MISSED"
    print(f"\nfull-size VITS, random weights, int8, {THREADS} threads, medians of {repeats}")
    print(f"(1) {len(SENTENCES)}-sentence text, seconds   Wyoming first chunk   HTTP whole WAV")
    print(f"    streaming vs whole                {first:>19.3f} {whole:>16.3f}")
    print(f"    ratio {first / whole:.0%} (target < 40%: {verdict})")
    answered, audio, wall = asyncio.run(_concurrent(port))
    print(f"(2) {CLIENTS} concurrent Wyoming clients: {answered}/{CLIENTS} answered, ", end="")
    print(f"{audio:.2f} audio s in {wall:.2f} s = {audio / wall:.2f} audio seconds per second")


def _whole_wav(client: httpx.Client, headers: dict) -> float:
    """Seconds to the whole WAV over HTTP."""
    started = time.perf_counter()
    body = {"job_id": "bench", "text": TEXT, "format": "wav"}
    client.post("/api/v1/synthesize-trained", json=body, headers=headers).raise_for_status()
    return time.perf_counter() - started


async def _first_chunk(port: int) -> float:
    """Seconds from synthesize-start to the first audio-chunk, the text streamed in."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        started = time.perf_counter()
        await client.write_event(SynthesizeStart(voice=Voice(name="bench")).event())
        for sentence in SENTENCES:
            await client.write_event(SynthesizeChunk(text=sentence + " ").event())
        await client.write_event(SynthesizeStop().event())
        await read_until(client, ("audio-chunk",))
        first = time.perf_counter() - started
        await read_until(client, ("synthesize-stopped",))
    return first


async def _one(port: int) -> float:
    """Audio seconds of one whole synthesize request; 0 when it failed."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=TEXT, voice=Voice(name="bench")).event())
        events = await read_until(client, ("audio-stop", "error"))
    return len(pcm_of(events)) / 2 / 22050 if events[-1].type == "audio-stop" else 0.0


async def _concurrent(port: int) -> tuple[int, float, float]:
    """Clients answered, audio seconds in all, wall seconds."""
    started = time.perf_counter()
    seconds = await asyncio.gather(*(_one(port) for _ in range(CLIENTS)))
    wall = time.perf_counter() - started
    return sum(s > 0 for s in seconds), sum(seconds), wall


if __name__ == "__main__":
    main()
