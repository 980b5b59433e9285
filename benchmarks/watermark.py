"""The watermark, side by side in one run: its cost, its survival, its false alarms, its level.

(1) synthesis time with the watermark against without, on the int8 path of one full-size VITS
with random weights (they cost what trained ones do), median of N clips each;
(2) detection on 50 marked espeak-ng clips, as they are and after MP3 at 128 and 64 kb/s,
resampling to 16 kHz, and a 10% speed change (varispeed, and tempo with the pitch kept),
every one decoded as POST /api/v1/admin/detect decodes it; PerTh's presence and the voice
signature's recovery of the right voice are counted apart;
(3) false positives on 50 clean clips: espeak-ng speech and the fixtures' real recordings;
(4) the SNR of marked against unmarked audio, signature alone, PerTh alone and both.
Run: .venv/bin/python benchmarks/watermark.py
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.factories import fixture_clips, read_pcm, speak  # noqa: E402
from voicesmith.config import Settings  # noqa: E402
from voicesmith.core import signature  # noqa: E402
from voicesmith.datasets.audio import decode_to_pcm16  # noqa: E402
from voicesmith.engines import watermark  # noqa: E402
from voicesmith.synthesis import formats  # noqa: E402
from voicesmith.synthesis.detection import best_voice  # noqa: E402
from voicesmith.synthesis.watermarking import Marker  # noqa: E402

RATE = 22050
VOICES = ["base", *(f"job_{n:02d}" for n in range(23))]  # a few dozen candidates, as in use
ESPEAK = ["en-us", "en-us+f3", "en-gb+m3", "en-us+m7", "en-gb-x-rp+f2"]
WORDS = [
    *("river", "amber", "seven", "quiet", "morning", "station", "letter", "garden", "window"),
    *("yellow", "music", "paper", "thunder", "kitchen", "forest", "silver", "market", "winter"),
]
SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank."


def main() -> None:
    """Run every measurement and print the table."""
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vs-watermark-"))
    settings = Settings(data_dir=work / "var")
    marker = Marker(settings)
    watermark.warm()
    timing = _synthesis_time(work, settings, args.repeats)
    speech = _espeak_clips(work / "espeak", 100)
    marked = [(VOICES[n % len(VOICES)], x) for n, x in enumerate(speech[:50])]
    clean = speech[50:92] + [_decoded(path.read_bytes()) for path, _ in fixture_clips()]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print("\nwatermark benchmark: PerTh (resemble-perth 1.0.1) + the voice signature")
    print(f"{os.cpu_count()} CPUs, load average {load} (other work shares them)")
    _print_timing(timing, args.repeats)
    _print_detection(marker, marked, clean)
    _print_snr(marker, marked)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    return parser.parse_args()


Timing = tuple[dict[str, float], str]
# Each configuration of the mark timed against none: as shipped, and the signature alone.
MARKS = {
    "PerTh + signature (default)": {"watermark": True},
    "signature alone (PERTH=false)": {"watermark": True, "watermark_perth": False},
    "none": {"watermark": False},
}


def _synthesis_time(work: Path, settings: Settings, repeats: int) -> Timing:
    """Median seconds per clip through Synthesizer.speak in each configuration, interleaved."""
    from voicesmith.engines.export import export_voice, make_random_model_dir
    from voicesmith.synthesis.service import Synthesizer, VoiceRef

    model_dir = make_random_model_dir(work / "model")
    print(export_voice(model_dir))
    ref = VoiceRef(name="bench", model_dir=model_dir)
    options = {"synthesis_backend": "onnx-int8", "synthesis_threads": 2}
    synths = {
        name: Synthesizer(settings.model_copy(update={**options, **marks}))
        for name, marks in MARKS.items()
    }
    for synth in synths.values():
        synth.speak(ref, SENTENCE, speed=1.0)  # load the voice, and PerTh where it is used
    times: dict[str, list[float]] = {name: [] for name in synths}
    for _ in range(repeats):
        for name, synth in synths.items():
            started = time.perf_counter()
            speech = synth.speak(ref, SENTENCE, speed=1.0)
            times[name].append(time.perf_counter() - started)
    seconds = len(speech.samples) / speech.sample_rate
    medians = {name: statistics.median(found) for name, found in times.items()}
    return medians, f"{seconds:.1f} s clips"


def _espeak_clips(folder: Path, count: int) -> list[np.ndarray]:
    """count different sentences spoken by several espeak-ng voices."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(18)
    clips = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS, size=int(rng.integers(6, 14))))
        text = f"Clip {n} says {words}."
        path = speak(text, folder / f"{n}.wav", voice=ESPEAK[n % len(ESPEAK)])
        clips.append(read_pcm(path)[0])
    return clips


def _print_timing(timing: Timing, repeats: int) -> None:
    medians, note = timing
    plain = medians["none"]
    print(f"\n(1) synthesis, int8 full-size VITS, {note}, median of {repeats}; seconds per clip")
    print(f"{'':34} {'watermark':>10} {'none':>10} {'ratio':>8}   target <= 1.10x")
    for name, marked in medians.items():
        if name != "none":
            print(f"{'    ' + name:34} {marked:>10.3f} {plain:>10.3f} {marked / plain:>7.2f}x")


def _print_detection(
    marker: Marker, marked: list[tuple[str, np.ndarray]], clean: list[np.ndarray]
) -> None:
    secret = marker.secret()
    copies = [(name, marker.mark(x, RATE, name)) for name, x in marked]
    print(f"\n(2) detection on {len(copies)} marked clips, {len(VOICES)} candidate voices")
    print(f"{'':34} {'presence':>10} {'right voice':>12} {'wrong voice':>12}")
    wrong_best: list[float] = []
    own: list[float] = []
    for label, change in ATTACKS.items():
        present = right = wrong = 0
        for name, samples in copies:
            heard = _decoded(change(samples))
            present += watermark.confidence(heard, RATE) >= watermark.PRESENT
            found, score = best_voice(heard, secret, VOICES)
            right += found == name
            wrong += found is not None and found != name
            if label == "as synthesized (WAV)":
                own.append(score)
        shares = f"{_rate(present, copies):>10} {_rate(right, copies):>12}"
        print(f"{'    ' + label:34} {shares} {wrong:>12}")
    print(f"\n(3) false positives on {len(clean)} clean clips (espeak-ng and real recordings)")
    perth_hits = id_hits = 0
    for samples in clean:
        heard = _decoded(formats.encode(samples, RATE, "wav"))
        perth_hits += watermark.confidence(heard, RATE) >= watermark.PRESENT
        found, score = best_voice(heard, secret, VOICES)
        id_hits += found is not None
        wrong_best.append(score)
    print(f"{'    PerTh says marked':34} {perth_hits:>10} of {len(clean)}")
    print(f"{'    a voice signature passes':34} {id_hits:>10} of {len(clean)}")
    print(
        f"    signature z-scores: clean clips' best of {len(VOICES)} keys max {max(wrong_best):.1f}"
        f" (median {statistics.median(wrong_best):.1f}); marked clips' own key min "
        f"{min(own):.1f} (median {statistics.median(own):.1f}); threshold {signature.THRESHOLD:g}"
    )


def _print_snr(marker: Marker, marked: list[tuple[str, np.ndarray]]) -> None:
    secret = marker.secret()
    both, sig_only, perth_only = [], [], []
    for name, x in marked:
        both.append(_snr(x, marker.mark(x, RATE, name)))
        sig_only.append(_snr(x, signature.embed(x, signature.voice_key(secret, name))))
        perth_only.append(_snr(x, watermark.apply(x, RATE)))
    print(f"\n(4) SNR of marked against unmarked, dB, median (min) of {len(marked)}; target >= 30")
    for label, values in (
        ("signature alone", sig_only),
        ("PerTh alone", perth_only),
        ("both (as shipped)", both),
    ):
        print(f"{'    ' + label:34} {statistics.median(values):>10.1f} ({min(values):.1f})")


def _snr(clean: np.ndarray, marked: np.ndarray) -> float:
    reference = clean.astype(np.float64)
    noise = marked.astype(np.float64) - reference
    return float(10 * np.log10(np.sum(reference**2) / max(np.sum(noise**2), 1e-20)))


def _rate(count: int, of: list) -> str:
    return f"{count / len(of):.0%}"


def _decoded(content: bytes) -> np.ndarray:
    """Bytes decoded exactly as the detect route decodes an upload."""
    pcm = decode_to_pcm16(io.BytesIO(content), max_seconds=600).samples
    return pcm.astype(np.float32) / 32768.0


def _mp3(kbps: int) -> Callable[[np.ndarray], bytes]:
    return lambda x: _encode(x, RATE, "mp3", "libmp3lame", kbps * 1000)


def _encode(samples: np.ndarray, rate: int, container: str, codec: str, bit_rate: int = 0) -> bytes:
    """Samples encoded by PyAV at rate, with a bit rate where the codec takes one."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.rate, frame.pts = rate, 0
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=rate
        )
        for part in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(part))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def _resampled(rate: int) -> Callable[[np.ndarray], bytes]:
    """A WAV at another rate, resampled by FFmpeg's resampler."""

    def change(x: np.ndarray) -> bytes:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(x, np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.rate, frame.pts = RATE, 0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [
            p.to_ndarray().ravel() for p in [*resampler.resample(frame), *resampler.resample(None)]
        ]
        return _encode(np.concatenate(parts), rate, "wav", "pcm_s16le")

    return change


def _varispeed(x: np.ndarray) -> bytes:
    """10% faster, pitch and all, as a tape played fast: resampled, then labelled 22050 Hz."""
    import librosa

    return formats.encode(librosa.resample(x, orig_sr=RATE, target_sr=RATE / 1.1), RATE, "wav")


def _tempo(x: np.ndarray) -> bytes:
    """10% faster with the pitch kept (a phase vocoder)."""
    import librosa

    return formats.encode(librosa.effects.time_stretch(x, rate=1.1), RATE, "wav")


ATTACKS: dict[str, Callable[[np.ndarray], bytes]] = {
    "as synthesized (WAV)": lambda x: formats.encode(x, RATE, "wav"),
    "MP3 128 kb/s": _mp3(128),
    "MP3 64 kb/s": _mp3(64),
    "resampled to 16 kHz": _resampled(16000),
    "speed +10% (varispeed)": _varispeed,
    "tempo +10% (pitch kept)": _tempo,
}


if __name__ == "__main__":
    main()
