"""Speech recognition on the reference user's 102 clips: how fast every clip is transcribed
and checked, and whether ASR stays off the bulk import's request path.

(a) recognises every clip in this process with the configured model (tiny.en int8 by
default), as a real-time factor against the audio's length; (b) times a live server from the
bulk import's answer until every clip is checked (ASR in the background, DB rows, report);
(c) times POST /upload-batch with every transcript given against the same zip without
metadata (every clip left to ASR). Target: (a) <= 0.15, (c) ratio <= 1.1.
Run: .venv/bin/python benchmarks/asr.py [--repeats 3] [--clips 102]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import _make_clips  # noqa: E402  (the same generated set, beside this script)

from tests.conftest import login, start_server, stop_server  # noqa: E402
from tests.factories import source_seconds  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.core.text import cer  # noqa: E402
from voicesmith.engines import asr  # noqa: E402

PASSWORD = "benchmark-password"
API = "/api/v1/admin/training"


def main() -> None:
    """Make the clips, time the three measures, print medians and ratios."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-asr-"))
    clips = _make_clips(work / "clips", args.clips)
    seconds = sum(source_seconds(p) for p, _ in clips)
    recognise_s, mean_cer = _recognise_all(clips)
    with_text = _zip(clips, work / "given.zip", True)
    without = _zip(clips, work / "bare.zip", False)
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD}
    proc, base = start_server(work / "var", env)
    try:
        client = httpx.Client(base_url=base, timeout=600)
        headers = login(client, "admin", PASSWORD)
        times = _measure(client, headers, with_text, without, args.repeats)
    finally:
        stop_server(proc)
    _print(times, recognise_s, mean_cer, len(clips), seconds)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clips", type=int, default=102)
    return parser.parse_args()


def _recognise_all(clips: list[tuple[Path, str]]) -> tuple[float, float]:
    """(a) Seconds to recognise every clip in-process (model loaded first), and the mean CER."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), admin_password=PASSWORD)
    asr.load(settings)
    started = time.perf_counter()
    rates = [cer(text, asr.recognise(settings, path).text) for path, text in clips]
    return time.perf_counter() - started, statistics.fmean(rates)


def _zip(clips: list[tuple[Path, str]], target: Path, transcripts: bool) -> Path:
    """The clips, with their metadata.csv or without one."""
    with zipfile.ZipFile(target, "w") as zf:
        for path, _ in clips:
            zf.write(path, path.name)
        if transcripts:
            zf.writestr("metadata.csv", "".join(f"{p.name}|{t}\n" for p, t in clips))
    return target


def _measure(client, headers, with_text: Path, without: Path, repeats: int) -> dict:
    """Seconds per run: import answers with and without transcripts, and the checks' drain."""
    times: dict[str, list[float]] = {"given": [], "bare": [], "drain": []}
    for run in range(repeats):
        elapsed, started = _import(client, headers, with_text, f"given{run}")
        times["given"].append(elapsed)
        times["drain"].append(_drained(client, headers, f"given{run}") - started)
        elapsed, _ = _import(client, headers, without, f"bare{run}")
        times["bare"].append(elapsed)
        _drained(client, headers, f"bare{run}")
    return times


def _import(client, headers, archive: Path, dataset: str) -> tuple[float, float]:
    """(c) One zip through POST /upload-batch: its answer time, and when the answer came."""
    started = time.perf_counter()
    response = client.post(
        f"{API}/upload-batch",
        headers=headers,
        data={"dataset_name": dataset},
        files={"archive": (archive.name, archive.read_bytes())},
    )
    done = time.perf_counter()
    response.raise_for_status()
    return done - started, done


def _drained(client, headers, dataset: str) -> float:
    """When no clip of the dataset waits for ASR any more."""
    while True:
        clips = client.get(f"{API}/datasets/{dataset}?limit=1000", headers=headers).json()["clips"]
        if not any(_waiting(c) for c in clips):
            return time.perf_counter()
        time.sleep(0.2)


def _waiting(clip: dict) -> bool:
    """Whether a clip is not yet transcribed or checked."""
    unchecked = clip["asr_text"] is None and clip["asr_detail"] is None
    return clip["status"] == "transcribing" or (clip["status"] == "ready" and unchecked)


def _print(times: dict, recognise_s: float, mean_cer: float, count: int, seconds: float) -> None:
    """The table of medians and ratios."""
    given, bare, drain = (statistics.median(times[k]) for k in ("given", "bare", "drain"))
    print(f"\n{count} clips, {seconds / 60:.1f} min of audio, {os.cpu_count()} cores")
    rtf = recognise_s / seconds
    print(f"(a) recognise all in-process     {recognise_s:8.2f} s   RTF {rtf:.3f}")
    print(f"    mean CER against the spoken text {mean_cer:.3f}")
    print(f"(b) server: answer to all checked {drain:8.2f} s   RTF {drain / seconds:.3f}")
    print(f"(c) bulk import, transcripts given {given:7.2f} s   1.00")
    print(f"    bulk import, no transcripts    {bare:7.2f} s   {bare / given:.2f} x")
    print(f"raw (medians of {len(times['given'])} runs): {times}")


if __name__ == "__main__":
    main()
