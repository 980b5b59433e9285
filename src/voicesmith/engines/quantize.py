"""An int8 copy of model.onnx for faster CPU synthesis, kept only when it sounds like the original.

The HiFi-GAN decoder is most of a VITS's work and almost all convolutions. Static int8
quantization of those (per-channel weights, activations calibrated on real sentences) runs
them on the CPU's integer dot-product units. The text encoder, flows and duration predictor
stay in float32: they are cheap, and the stochastic parts are the most sensitive to rounding.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voicesmith.engines import runfiles
from voicesmith.engines.frontend import TextFrontEnd
from voicesmith.engines.runfiles import CONFIG_FILE, INT8_ONNX_FILE, ONNX_FILE
from voicesmith.engines.voice import read_config

if TYPE_CHECKING:
    import onnxruntime
    from TTS.tts.configs.vits_config import VitsConfig

# Below this the int8 voice is audibly rougher than float32; the float32 model is kept alone.
MIN_SNR_DB = 25.0
# Small decoders (the test presets) run no faster in int8: quantizing costs more than it saves.
MIN_SPEEDUP = 1.2
# Decoder convolution weights below which int8 is not even tried (calibrating costs seconds):
# scratch:tiny's 0.013 M ran at 0.4x to 0.5x the speed in int8, scratch:full's 11.7 M at 2.5x.
MIN_DECODER_WEIGHTS = 1_000_000
SNR_KEY = "voicesmith_int8_snr_db"
# Varied sounds for calibration, beside the job's own test sentences.
CALIBRATION_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "How much wood would a woodchuck chuck, if a woodchuck could chuck wood?",
    "She sells sea shells by the sea shore, twenty two of them.",
    "Is it really that late already? We should go home now!",
    "Measure the pleasure of a thousand voices in the evening.",
)
MAX_CALIBRATION = 10
DECODER = "waveform_decoder"


@dataclass
class Verdict:
    """How the int8 copy compared with model.onnx, and whether it was kept."""

    snr_db: float | None
    speedup: float | None
    kept: bool = False
    reason: str | None = None  # why int8 was not tried, when it was not

    def __str__(self) -> str:
        if self.reason:
            return f"int8 copy not kept: {self.reason}"
        said = "kept" if self.kept else "not kept"
        return f"int8 copy {said}: {self.snr_db:.1f} dB SNR, {self.speedup:.2f}x the speed"


def quantize_int8(
    job_dir: Path, *, min_snr_db: float = MIN_SNR_DB, min_speedup: float = MIN_SPEEDUP
) -> Verdict:
    """Write JOB_DIR/model.int8.onnx from model.onnx if it is faithful and fast enough."""
    import onnx

    source, target = job_dir / ONNX_FILE, job_dir / INT8_ONNX_FILE
    runfiles.check(target)
    target.unlink(missing_ok=True)
    model = onnx.load(str(source))
    nodes = _decoder_convs(model)
    weights = _weight_count(model, nodes)
    if min_speedup > 0 and weights < MIN_DECODER_WEIGHTS:
        reason = f"a decoder of {weights / 1e6:.2f} M weights runs no faster in int8"
        return Verdict(snr_db=None, speedup=None, reason=reason)
    feeds = calibration_feeds(read_config(job_dir / CONFIG_FILE))
    part = target.with_name(f".{target.name}.part")  # a killed run's is replaced here
    try:
        runfiles.check(part)
        _quantize(source, part, feeds, nodes)
        verdict = compare(source, part, feeds[0])
        verdict.kept = verdict.snr_db >= min_snr_db and verdict.speedup >= min_speedup
        if verdict.kept:
            _stamp(part, model, verdict.snr_db)
            runfiles.check(target)
            part.replace(target)
        return verdict
    finally:
        part.unlink(missing_ok=True)


def calibration_feeds(config: "VitsConfig") -> list[dict[str, np.ndarray]]:
    """Model inputs for the job's test sentences and the stock ones, at inference noise."""
    front = TextFrontEnd(config)
    # Coqui allows [text, speaker, ...] entries as well as plain strings.
    own = [s if isinstance(s, str) else s[0] for s in config.test_sentences or []]
    texts = [*own, *CALIBRATION_SENTENCES][:MAX_CALIBRATION]
    args = config.model_args
    noise = (args.inference_noise_scale, args.length_scale, args.inference_noise_scale_dp)
    return [_feed(ids, noise) for ids in map(front.text_ids, texts) if ids]


def compare(reference: Path, candidate: Path, feed: dict[str, np.ndarray]) -> Verdict:
    """Candidate's SNR against reference (noise off) and its speed-up, on one input."""
    quiet = {**feed, "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32)}
    runs = [_timed_run(_session(path), quiet) for path in (reference, candidate)]
    (ref, ref_seconds), (out, seconds) = runs
    n = min(ref.size, out.size)
    error = np.sum((ref[:n] - out[:n]) ** 2)
    snr = float(10 * np.log10(np.sum(ref[:n] ** 2) / max(error, 1e-20)))
    return Verdict(snr_db=snr, speedup=ref_seconds / max(seconds, 1e-9))


def _timed_run(session: "onnxruntime.InferenceSession", feed: dict) -> tuple[np.ndarray, float]:
    """The output for feed and the best of three timed runs, after a warm-up."""
    output = session.run(["output"], feed)[0].reshape(-1)
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        session.run(["output"], feed)
        seconds.append(time.perf_counter() - started)
    return output, min(seconds)


def _feed(ids: list[int], scales: tuple[float, float, float]) -> dict[str, np.ndarray]:
    return {
        "input": np.asarray([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array(scales, dtype=np.float32),
    }


def _decoder_convs(model) -> list[str]:
    """The decoder's Conv nodes whose weights are constants (all of them, after export)."""
    constants = {tensor.name for tensor in model.graph.initializer}
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "Conv" and DECODER in node.name and node.input[1] in constants
    ]


def _weight_count(model, nodes: list[str]) -> int:
    """How many weights the named Conv nodes hold."""
    sizes = {t.name: int(np.prod(t.dims)) for t in model.graph.initializer}
    named = set(nodes)
    return sum(sizes[node.input[1]] for node in model.graph.node if node.name in named)


def _quantize(source: Path, target: Path, feeds: list[dict], nodes: list[str]) -> None:
    """Static QDQ quantization of nodes: int8 per-channel weights, uint8 activations."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Feeds(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(feeds)

        def get_next(self) -> dict | None:
            return next(self.items, None)

    quantize_static(
        str(source),
        str(target),
        Feeds(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["Conv"],
        nodes_to_quantize=nodes,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def _stamp(path: Path, source_model, snr: float) -> None:
    """Copy model.onnx's checkpoint stamp (a stale int8 file is never used) and add the SNR."""
    import onnx

    model = onnx.load(str(path))
    props = {prop.key: prop.value for prop in source_model.metadata_props}
    onnx.helper.set_model_props(model, {**props, SNR_KEY: f"{snr:.1f}"})
    onnx.save(model, str(path))


def _session(path: Path) -> "onnxruntime.InferenceSession":
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 2  # as synthesis runs it by default
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
