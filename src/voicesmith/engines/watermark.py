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
    import torch

    # PerTh runs its network with autograd on; without the graph it is about 3x faster.
    with torch.inference_mode():
        marked = _watermarker().apply_watermark(samples, sample_rate=rate)
    marked = np.asarray(marked, np.float32)
    # PerTh works at 32 kHz; resampling back can end a few samples short or long.
    if len(marked) < len(samples):
        return np.concatenate([marked, samples[len(marked) :].astype(np.float32)])
    return marked[: len(samples)]


def confidence(samples: np.ndarray, rate: int) -> float:
    """PerTh's confidence, from 0 to 1, that the samples carry its mark."""
    if not len(samples):
        return 0.0
    import torch

    with torch.inference_mode():
        marker = _watermarker()
        return float(marker.get_watermark(samples.astype(np.float32), sample_rate=rate))
