"""A live server under load: fifty concurrent uploads into five datasets, and huge headers."""

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, login, start_server, stop_server
from tests.factories import write_tone

UPLOAD = "/api/v1/admin/training/upload"
DATASETS = [f"load{n}" for n in range(5)]
UPLOADS = 50
CLIENTS = 16
# More at once than the thread pool (40) and the connection pool (15) together.
BURST = 150


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A live API server (no worker, so only the uploads compete) and its data dir."""
    data = tmp_path_factory.mktemp("load") / "var"
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    proc, base = start_server(data, env, "--no-worker")
    yield base, data
    stop_server(proc)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, str]]:
    """(dataset, audio, transcript) for 50 different real clips, all named take.wav."""
    folder = tmp_path_factory.mktemp("clips")
    made = []
    for n in range(UPLOADS):
        tone = write_tone(folder / f"{n}.wav", seconds=1.0 + n / 100, amplitude=0.1 + n / 200)
        made.append((DATASETS[n % len(DATASETS)], tone.read_bytes(), f"Clip number {n}."))
    return made


def test_concurrent_uploads_are_all_stored_once(
    live: tuple[str, Path], clips: list[tuple[str, bytes, str]], record_property
) -> None:
    """50 concurrent uploads into 5 datasets: every one stored once, metadata.csv matching rows."""
    base, data = live
    record_property("cases", UPLOADS)
    with httpx.Client(base_url=base, timeout=120) as http:
        headers = login(http, "admin", ADMIN_PASSWORD)

        def send(clip: tuple[str, bytes, str]) -> httpx.Response:
            form = {"dataset_name": clip[0], "transcript": clip[2]}
            return http.post(
                UPLOAD, data=form, files={"audio": ("take.wav", clip[1])}, headers=headers
            )

        with ThreadPoolExecutor(CLIENTS) as pool:
            responses = list(pool.map(send, clips))
        assert [r.status_code for r in responses] == [200] * UPLOADS, [r.text for r in responses]
        for name in DATASETS:
            _check_dataset(http, headers, data, name, {t for d, _, t in clips if d == name})
    assert not any((data / "tmp").iterdir())


def _check_dataset(
    http: httpx.Client, headers: dict[str, str], data: Path, name: str, expected: set[str]
) -> None:
    """The rows are exactly the expected clips, and metadata.csv and wavs/ are exactly the rows."""
    page = http.get(f"/api/v1/admin/training/datasets/{name}?limit=1000", headers=headers).json()
    rows = [(c["file"], c["transcript"]) for c in page["clips"]]
    assert sorted(t for _, t in rows) == sorted(expected), name
    assert len({f for f, _ in rows}) == len(rows), "two rows share a WAV name"
    folder = data / "data" / name
    lines = (folder / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [f"{f}|{t}" for f, t in rows], name
    assert sorted(p.name for p in (folder / "wavs").iterdir()) == sorted(f for f, _ in rows)
    assert len(list((folder / "originals").iterdir())) == len(rows)


@pytest.mark.parametrize(
    "headers", [{"X-Junk": "a" * 4_000_000}, {f"X-{n}": "a" for n in range(500)}]
)
def test_oversized_headers_are_refused_over_a_real_socket(
    live: tuple[str, Path], headers: dict[str, str]
) -> None:
    """4 MB of headers, or 500 of them, get a 431 from the live server, which keeps serving."""
    base, _ = live
    response = httpx.get(f"{base}/api/v1/health", headers=headers, timeout=60)
    assert response.status_code == 431, response.text
    assert "headers" in response.json()["detail"]
    assert httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200


def test_a_burst_of_reads_larger_than_the_pools_is_all_answered(
    live: tuple[str, Path], record_property
) -> None:
    """150 GETs at once, more than threads plus DB connections: none waits out a pool timeout."""
    base, _ = live
    record_property("cases", BURST)
    with httpx.Client(base_url=base, timeout=30) as http:
        headers = login(http, "admin", ADMIN_PASSWORD)
    paths = ["/api/v1/admin/training/jobs", "/api/v1/admin/training/datasets"]
    burst = _burst(base, headers, [paths[n % 2] for n in range(BURST)])
    # A thread of its own: Playwright's sync API may have left this one an event loop.
    with ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, burst).result()
    assert statuses == [200] * BURST


async def _burst(base: str, headers: dict[str, str], paths: list[str]) -> list[int]:
    """Send every request at once, each on its own connection; their statuses."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as c:

        async def get(path: str) -> int:
            async with c.get(path) as response:
                await response.read()
                return response.status

        return await asyncio.gather(*(get(path) for path in paths))
