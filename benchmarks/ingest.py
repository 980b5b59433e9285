"""Ingest speed for the reference user's 102 clips: the seed's ffmpeg loop, our bulk import,
and 102 single uploads, side by side in one run.

Clips are espeak-ng speech re-encoded as MP3, M4A and 48 kHz WAV in turn. (a) runs
`ffmpeg -i X -ar 22050 -ac 1` once per file in a serial loop; (b) sends one zip to
POST /upload-batch on a live server; (c) calls the seed's POST /upload 102 times in a row.
Run: .venv/bin/python benchmarks/ingest.py [--repeats 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import login, start_server, stop_server  # noqa: E402
from tests.factories import source_seconds, speak, transcode  # noqa: E402

PASSWORD = "benchmark-password"
WORDS = ("voice", "river", "morning", "garden", "window", "letter", "music", "station")


def main() -> None:
    """Make the clips, time the three methods, print medians and ratios."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-ingest-"))
    clips = _make_clips(work / "clips", args.clips)
    minutes = sum(source_seconds(p) for p, _ in clips) / 60
    archive = _zip(clips, work / "clips.zip")
    env = {**os.environ, "VOICESMITH_ADMIN_PASSWORD": PASSWORD}
    proc, base = start_server(work / "var", env)
    try:
        client = httpx.Client(base_url=base, timeout=600)
        headers = login(client, "admin", PASSWORD)
        times = _measure(client, headers, clips, archive, work, args.repeats)
    finally:
        stop_server(proc)
    _print(times, len(clips), minutes, os.cpu_count())


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clips", type=int, default=102)
    return parser.parse_args()


def _make_clips(folder: Path, count: int) -> list[tuple[Path, str]]:
    """Spoken sentences, as MP3, stereo 44.1 kHz M4A and 48 kHz WAV in turn."""
    folder.mkdir(parents=True)
    clips = []
    for n in range(count):
        text = (
            f"Recording number {n} talks about the {WORDS[n % 8]} and the "
            f"{WORDS[(n * 3) % 8]}, then it ends with a short pause."
        )
        wav = speak(text, folder / f"raw{n:03d}.wav")
        target = [
            ("mp3", "libmp3lame", 44100, 1),
            ("m4a", "aac", 44100, 2),
            ("wav", "pcm_s16le", 48000, 1),
        ][n % 3]
        path = transcode(
            wav,
            folder / f"clip{n:03d}.{target[0]}",
            codec=target[1],
            rate=target[2],
            channels=target[3],
        )
        wav.unlink()
        clips.append((path, text))
    return clips


def _zip(clips: list[tuple[Path, str]], target: Path) -> Path:
    """The clips and their metadata.csv in one zip, as a user would pack them."""
    with zipfile.ZipFile(target, "w") as zf:
        for path, _ in clips:
            zf.write(path, path.name)
        zf.writestr("metadata.csv", "".join(f"{p.name}|{t}\n" for p, t in clips))
    return target


def _measure(client, headers, clips, archive: Path, work: Path, repeats: int) -> dict:
    """Seconds per run of each method, alternating them."""
    times: dict[str, list[float]] = {"ffmpeg": [], "bulk": [], "single": []}
    for run in range(repeats):
        times["ffmpeg"].append(_ffmpeg_loop(clips, work / f"ffmpeg{run}"))
        times["bulk"].append(_bulk(client, headers, archive, f"bulk{run}", len(clips)))
        times["single"].append(_singles(client, headers, clips, f"single{run}"))
    return times


def _ffmpeg_loop(clips: list[tuple[Path, str]], out: Path) -> float:
    """(a) The seed's method: one ffmpeg process per file, one after another."""
    out.mkdir()
    started = time.perf_counter()
    for path, _ in clips:
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(path),
                "-ar",
                "22050",
                "-ac",
                "1",
                str(out / f"{path.stem}.wav"),
            ],
            check=True,
        )
    return time.perf_counter() - started


def _bulk(client, headers, archive: Path, dataset: str, expected: int) -> float:
    """(b) One zip through POST /upload-batch."""
    started = time.perf_counter()
    response = client.post(
        "/api/v1/admin/training/upload-batch",
        headers=headers,
        data={"dataset_name": dataset},
        files={"archive": ("clips.zip", archive.read_bytes())},
    )
    elapsed = time.perf_counter() - started
    if response.json().get("stored") != expected:
        raise SystemExit(f"bulk import stored {response.text}")
    return elapsed


def _singles(client, headers, clips: list[tuple[Path, str]], dataset: str) -> float:
    """(c) The seed's endpoint, once per file."""
    started = time.perf_counter()
    for path, text in clips:
        response = client.post(
            "/api/v1/admin/training/upload",
            headers=headers,
            data={"dataset_name": dataset, "transcript": text},
            files={"audio": (path.name, path.read_bytes())},
        )
        response.raise_for_status()
    return time.perf_counter() - started


def _print(times: dict, count: int, minutes: float, cores: int | None) -> None:
    """The table of medians and ratios."""
    a, b, c = (statistics.median(times[k]) for k in ("ffmpeg", "bulk", "single"))
    print(
        f"\n{count} clips, {minutes:.1f} min of audio, {cores} cores; "
        f"medians of {len(times['bulk'])} runs"
    )
    print(f"{'(a) ffmpeg serial loop':34} {a:8.2f} s   1.00")
    print(f"{'(b) bulk import over HTTP':34} {b:8.2f} s   {b / a:.2f} x (a)")
    print(f"{'(c) 102 single uploads over HTTP':34} {c:8.2f} s   {c / a:.2f} x (a)")
    print(f"raw: {times}")


if __name__ == "__main__":
    main()
