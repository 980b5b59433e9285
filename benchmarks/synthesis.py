"""Synthesis speed, side by side in one run on one full-size VITS with random weights.

(1) real-time factor of our ONNX voice (int8, and float32) against Coqui's own PyTorch, 2 threads;
(2) time to the first streamed audio of a 3-sentence paragraph against the whole WAV;
(3) warm (cached) against cold request latency; (4) 8 concurrent requests.
Random weights cost the same as trained ones. Run: .venv/bin/python benchmarks/synthesis.py
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import login, start_server, stop_server  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank."
PARAGRAPH = (
    "Our first sentence sets the scene for the listener. The second one carries the "
    "story a little further along. And the third sentence brings it to a close."
)
PASSWORD = "benchmark-password"
THREADS = 2


def main() -> None:
    """Build the model, run every measurement and print the table."""
    args = _parse()
    model_dir = _model(Path(tempfile.mkdtemp(prefix="vs-synth-")))
    rows = _rtf(model_dir, args.repeats)
    rows += _server_figures(model_dir, args.repeats)
    print(f"\nfull-size VITS, random weights, {THREADS} CPU threads, medians of {args.repeats}")
    for name, ours, baseline, ratio in rows:
        print(f"{name:40} {ours:>10} {baseline:>14} {ratio:>10}")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()


def _model(work: Path) -> Path:
    """A job-like folder with a random full-size VITS, exported as training exports it."""
    from voicesmith.engines.export import export_voice, make_random_model_dir

    model_dir = make_random_model_dir(work / "model")
    print(export_voice(model_dir))  # model.onnx and the int8 copy, with its SNR and speed-up
    return model_dir


def _rtf(model_dir: Path, repeats: int) -> list[tuple]:
    """Real-time factor: our ONNX voice against Coqui's Synthesizer in PyTorch."""
    import torch
    from TTS.utils.synthesizer import Synthesizer

    from voicesmith.engines.voice import load_voice

    torch.set_num_threads(THREADS)
    ours = load_voice(model_dir, backend="onnx-int8", threads=THREADS)
    fp32 = load_voice(model_dir, backend="onnx", threads=THREADS)
    coqui = Synthesizer(
        tts_checkpoint=str(model_dir / "best_model.pth"),
        tts_config_path=str(model_dir / "config.json"),
    )
    rate = ours.sample_rate
    ours_rtf = _median_rtf(lambda: ours.synthesize(SENTENCE), rate, repeats)
    fp32_rtf = _median_rtf(lambda: fp32.synthesize(SENTENCE), rate, repeats)
    model_rtf = _median_rtf(_model_only(coqui.tts_model, SENTENCE), rate, repeats)
    tts_rtf = _median_rtf(lambda: coqui.tts(SENTENCE), coqui.output_sample_rate, repeats)
    return [
        ("(1) real-time factor (lower is faster)", "ONNX voice", "Coqui PyTorch", "speed-up"),
        (
            "    int8 (default) vs Vits.inference",
            f"{ours_rtf:.3f}",
            f"{model_rtf:.3f}",
            f"{model_rtf / ours_rtf:.2f}x",
        ),
        (
            "    float32 model.onnx vs Vits.inference",
            f"{fp32_rtf:.3f}",
            f"{model_rtf:.3f}",
            f"{model_rtf / fp32_rtf:.2f}x",
        ),
        # Synthesizer.tts trims at the first "silence", which random weights are full of, so
        # its audio is shorter and its factor looks worse than the model's work warrants.
        (
            "    vs Synthesizer.tts (as shipped)",
            f"{ours_rtf:.3f}",
            f"{tts_rtf:.3f}",
            f"{tts_rtf / ours_rtf:.2f}x",
        ),
    ]


def _model_only(model, text: str):
    """Coqui's Vits.inference on the tokenised text, without the Synthesizer around it."""
    import torch

    ids = torch.LongTensor([model.tokenizer.text_to_ids(text, language="en")])

    def run():
        with torch.inference_mode():
            return model.inference(ids)["model_outputs"].reshape(-1).numpy()

    return run


def _median_rtf(run, rate: int, repeats: int) -> float:
    """Median seconds of compute per second of audio, after one warm-up run."""
    run()
    ratios = []
    for _ in range(repeats):
        started = time.perf_counter()
        audio = run()
        ratios.append((time.perf_counter() - started) / (len(audio) / rate))
    return statistics.median(ratios)


def _server_figures(model_dir: Path, repeats: int) -> list[tuple]:
    """Streaming, cache and concurrency figures from a live server speaking the base voice."""
    env = {
        **os.environ,
        "VOICESMITH_ADMIN_PASSWORD": PASSWORD,
        "VOICESMITH_DEFAULT_BASE_MODEL": str(model_dir),
        "VOICESMITH_SYNTHESIS_THREADS": str(THREADS),
    }
    proc, base = start_server(Path(tempfile.mkdtemp(prefix="vs-synth-srv-")) / "var", env)
    try:
        client = httpx.Client(base_url=base, timeout=300)
        headers = login(client, "admin", PASSWORD)
        cold = _timed(client, headers, {"text": SENTENCE})
        warm = statistics.median(
            _timed(client, headers, {"text": SENTENCE}) for _ in range(repeats)
        )
        first, whole = _stream_vs_whole(client, headers, repeats)
        concurrency = _concurrent(client, headers)
    finally:
        stop_server(proc)
    return [
        ("(2) 3-sentence paragraph, seconds", "first chunk", "whole WAV", "ratio"),
        ("    stream: true vs whole WAV", f"{first:.3f}", f"{whole:.3f}", f"{first / whole:.0%}"),
        ("(3) request latency, seconds", "warm", "cold", "ratio"),
        ("    cached voice vs first request", f"{warm:.3f}", f"{cold:.3f}", f"{warm / cold:.0%}"),
        ("(4) 8 concurrent paragraph requests", "audio s/s", "wall seconds", "errors"),
        ("    throughput", f"{concurrency[0]:.2f}", f"{concurrency[1]:.2f}", f"{concurrency[2]}"),
    ]


def _timed(client: httpx.Client, headers: dict, body: dict) -> float:
    """Seconds for one whole synthesis request."""
    started = time.perf_counter()
    response = client.post("/api/v1/synthesize", json=body, headers=headers)
    response.raise_for_status()
    return time.perf_counter() - started


def _stream_vs_whole(client: httpx.Client, headers: dict, repeats: int) -> tuple[float, float]:
    """Median time to the first streamed audio bytes, and for the whole WAV."""
    firsts, wholes = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        with client.stream(
            "POST", "/api/v1/synthesize", headers=headers, json={"text": PARAGRAPH, "stream": True}
        ) as response:
            received, first = 0, None
            for chunk in response.iter_raw():
                received += len(chunk)
                if first is None and received > 44:  # past the WAV header: real audio
                    first = time.perf_counter() - started
            firsts.append(first)
        wholes.append(_timed(client, headers, {"text": PARAGRAPH}))
    return statistics.median(firsts), statistics.median(wholes)


def _concurrent(client: httpx.Client, headers: dict) -> tuple[float, float, int]:
    """Audio seconds produced per wall second by 8 parallel requests, and the errors seen."""

    def one(_):
        response = client.post(
            "/api/v1/synthesize", json={"text": PARAGRAPH, "format": "pcm"}, headers=headers
        )
        return response.status_code, len(response.content) / 2 / 22050

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))
    wall = time.perf_counter() - started
    errors = sum(status != 200 for status, _ in results)
    return sum(seconds for _, seconds in results) / wall, wall, errors


if __name__ == "__main__":
    main()
