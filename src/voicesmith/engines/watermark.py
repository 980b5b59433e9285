"""Resemble's PerTh watermark: marking speech and telling whether a clip carries the mark."""

import contextlib
import io
import sys
import threading
import warnings
from typing import Any

import numpy as np

# PerTh's confidence is close to 1 for marked audio and close to 0 otherwise.
PRESENT = 0.5
_lock = threading.Lock()
_model: Any = None


def _watermarker() -> Any:
    """The one PerTh model of this process, loaded on first use (about 7 s on a CPU)."""
    global _model
    with _lock:
        if _model is None:
            first = "torch" not in sys.modules
            import torch

            if first:
                # torch's default is every core, and PerTh beside two-thread synthesis then
                # costs 0.6 s a clip instead of 0.09 (benchmarks/watermark.py). A torch voice
                # loaded before set its own count, which is left alone.
                torch.set_num_threads(1)
            with warnings.catch_warnings():
                # perth imports pkg_resources, which setuptools marks deprecated.
                warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
                import perth

            # It prints a line on loading, which would spoil `voicesmith detect --json`.
            with contextlib.redirect_stdout(io.StringIO()):
                _model = perth.PerthImplicitWatermarker()
        return _model


def warm() -> None:
    """Load the model now, so the first spoken clip does not wait for it."""
    _watermarker()


def apply(samples: np.ndarray, rate: int) -> np.ndarray:
    """The samples with PerTh's mark, as float32 of the same length."""
    if not len(samples):
        return samples.astype(np.float32, copy=False)
    from librosa import resample

    net = _watermarker().perth_net
    native = resample(samples, orig_sr=rate, target_sr=net.hp.sample_rate)
    marked = resample(_marked_native(net, native), orig_sr=net.hp.sample_rate, target_sr=rate)
    marked = np.asarray(marked, np.float32)
    # PerTh works at 32 kHz; resampling back can end a few samples short or long.
    if len(marked) < len(samples):
        return np.concatenate([marked, samples[len(marked) :].astype(np.float32)])
    return marked[: len(samples)]


def _marked_native(net: Any, samples: np.ndarray) -> np.ndarray:
    """PerTh's apply_watermark at its own rate, with the phase kept as a unit phasor."""
    import torch
    from perth.perth_net.perth_net_implicit import utils

    # The library splits the spectrum into magnitude and angle and rebuilds it with a complex
    # exp, a third of its time; dividing by the magnitude keeps the same phase (the outputs agree
    # to 1e-6, which tests/slow/test_watermark.py checks) in two thirds of the time. PerTh runs its
    # network with autograd on; without the graph it is about 3x faster.
    with torch.inference_mode():
        signal = torch.from_numpy(np.ascontiguousarray(samples, np.float32)).to(net.device)
        spec = net.ap.spectrogram(signal)
        size = spec.abs()
        level = utils.normalize(net.hp, 20 * torch.log10(size.clip(net.hp.stft_magnitude_min)))
        marked, _mask = net.encoder(level[None])
        db = utils.denormalize_spectrogram(net.hp, marked[0]) / 20
        phase = torch.where(size > 0, spec / size.clamp_min(1e-30), torch.ones_like(spec))
        return net.ap.inv_spectrogram(10.0 ** db.clip(max=10) * phase).cpu().numpy()


def confidence(samples: np.ndarray, rate: int) -> float:
    """PerTh's confidence, from 0 to 1, that the samples carry its mark."""
    if not len(samples):
        return 0.0
    import torch

    with torch.inference_mode():
        marker = _watermarker()
        return float(marker.get_watermark(samples.astype(np.float32), sample_rate=rate))
