"""A trained VITS voice that speaks one sentence at a time, on ONNX Runtime or PyTorch.

The web process calls this from a thread pool, so torch, TTS and onnxruntime are imported inside
functions only, and synthesize() may run in several threads at once.
"""

import logging
import pickle
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voicesmith.engines.base_models import EngineError
from voicesmith.engines.frontend import TextFrontEnd
from voicesmith.engines.runfiles import CONFIG_FILE, DEFAULT_CHECKPOINT, INT8_ONNX_FILE, ONNX_FILE

if TYPE_CHECKING:
    import onnxruntime
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits

# "auto" takes the first of these that was exported from the checkpoint, else PyTorch.
ONNX_BACKENDS = {"onnx-int8": INT8_ONNX_FILE, "onnx": ONNX_FILE}
BACKENDS = ("auto", *ONNX_BACKENDS, "torch")
# The checkpoint's size and mtime identify it: hard links (best_model.pth) share both.
STAMP_KEYS = ("voicesmith_checkpoint_size", "voicesmith_checkpoint_mtime_ns")
NOISE_SEED = 1234
logger = logging.getLogger(__name__)


class VoiceError(EngineError):
    """A voice cannot be loaded or used; the message is for people."""


class Voice(TextFrontEnd, ABC):
    """A loaded model: the text front end plus a backend that turns ids into audio."""

    backend = ""

    def __init__(self, config: "VitsConfig", size_bytes: int) -> None:
        super().__init__(config)
        self.sample_rate = int(config.audio.sample_rate)
        self.size_bytes = size_bytes

    def synthesize(self, text: str, *, length_scale: float = 1.0) -> np.ndarray:
        """Float32 mono audio in [-1, 1] for one sentence; empty when it has nothing to say."""
        if length_scale <= 0:
            raise ValueError("length_scale must be positive")
        ids = self.text_ids(text)
        if not ids:
            return np.zeros(0, dtype=np.float32)
        audio = self._generate(np.asarray([ids], dtype=np.int64), float(length_scale))
        return np.clip(audio.reshape(-1), -1.0, 1.0).astype(np.float32, copy=False)

    @abstractmethod
    def _generate(self, ids: np.ndarray, length_scale: float) -> np.ndarray:
        """Audio for a [1, T] batch of ids."""


class OnnxVoice(Voice):
    """A voice run by ONNX Runtime from model.onnx or its int8 copy; session.run is thread-safe."""

    def __init__(
        self, config: "VitsConfig", session: "onnxruntime.InferenceSession", size: int, backend: str
    ) -> None:
        super().__init__(config, size)
        self.session = session
        self.backend = backend
        args = config.model_args
        self.noise = (float(args.inference_noise_scale), float(args.inference_noise_scale_dp))

    def _generate(self, ids: np.ndarray, length_scale: float) -> np.ndarray:
        """Run the exported generator with Coqui's inputs: ids, lengths, noise and length scales."""
        scales = np.array([self.noise[0], length_scale, self.noise[1]], dtype=np.float32)
        lengths = np.array([ids.shape[1]], dtype=np.int64)
        feed = {"input": ids, "input_lengths": lengths, "scales": scales}
        return self.session.run(["output"], feed)[0]


class TorchVoice(Voice):
    """A voice run by PyTorch from a checkpoint; one synthesis at a time."""

    backend = "torch"

    def __init__(self, config: "VitsConfig", model: "Vits") -> None:
        size = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
        super().__init__(config, size)
        self.model = model
        # length_scale is a model attribute and the noise comes from the global generator.
        self.lock = threading.Lock()

    def _generate(self, ids: np.ndarray, length_scale: float) -> np.ndarray:
        """Run Vits.inference with a fixed noise seed, so a sentence always sounds the same."""
        import torch

        with self.lock, torch.inference_mode(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(NOISE_SEED)
            self.model.length_scale = length_scale
            output = self.model.inference(torch.from_numpy(ids))["model_outputs"]
            return output.numpy()


def load_voice(
    model_dir: Path,
    *,
    checkpoint: Path | None = None,
    backend: str = "auto",
    threads: int = 2,
    spin: bool = True,
) -> Voice:
    """The voice in model_dir: ONNX (int8 first) if exported from the checkpoint, else PyTorch."""
    # spin: whether ONNX Runtime's threads spin after a run, waiting for the next; that is
    # faster for back-to-back runs, and steals the CPU from work that follows each run.
    if backend not in BACKENDS:
        raise VoiceError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    config = read_config(model_dir / CONFIG_FILE)
    source = checkpoint or model_dir / DEFAULT_CHECKPOINT
    for name, filename in ONNX_BACKENDS.items():
        if backend in ("auto", name):
            path, explicit = model_dir / filename, checkpoint is not None
            found = _onnx_voice(
                config, path, source, explicit, name, (threads, spin), backend == name
            )
            if found is not None:
                return found
    return _torch_voice(config, source, threads)


def _onnx_voice(  # noqa: PLR0913 - the loader's state, passed through
    config: "VitsConfig",
    path: Path,
    source: Path,
    explicit: bool,
    backend: str,
    cpu: tuple[int, bool],
    required: bool,
) -> "OnnxVoice | None":
    """The ONNX voice in path if exported from source; else None, or VoiceError when required."""
    if not path.is_file():
        if required:
            raise VoiceError(
                f"{path} does not exist; create it with "
                f"`python -m voicesmith.engines.export {path.parent}`"
            )
        return None
    session = _onnx_session(path, *cpu)
    if _exported_from(session, source, explicit=explicit):
        return OnnxVoice(config, session, path.stat().st_size, backend)
    if required:
        raise VoiceError(f"{path} was not exported from {source}; export that checkpoint")
    logger.info("%s is older than %s: not using it", path, source)
    return None


def _torch_voice(config: "VitsConfig", checkpoint: Path, threads: int) -> TorchVoice:
    """A PyTorch voice on `threads` intra-op threads (a process-wide torch setting)."""
    import torch

    torch.set_num_threads(threads)
    model = load_generator(config, checkpoint)
    _remove_weight_norm(model)
    return TorchVoice(config, model)


def read_config(path: Path) -> "VitsConfig":
    """The model's Coqui config.json, which must be a single-speaker VITS."""
    from TTS.config import load_config
    from TTS.tts.configs.vits_config import VitsConfig

    if not path.is_file():
        raise VoiceError(f"{path} does not exist; is this a finished training job?")
    try:
        config = load_config(str(path))
    except Exception as exc:  # Coqui raises bare exceptions of many kinds for bad files
        raise VoiceError(f"{path} is not a Coqui TTS config: {exc}") from exc
    if not isinstance(config, VitsConfig):
        raise VoiceError(f"{path} describes a {config.model} model; voicesmith speaks VITS only")
    args = config.model_args
    if args.use_speaker_embedding or args.use_d_vector_file or args.use_language_embedding:
        raise VoiceError(f"{path} describes a multi-speaker or multilingual model; not supported")
    return config


def load_generator(config: "VitsConfig", checkpoint: Path) -> "Vits":
    """The VITS from checkpoint in eval mode, without the discriminator only training needs."""
    from trainer.io import load_fsspec
    from TTS.tts.models.vits import Vits

    if not checkpoint.is_file():
        raise VoiceError(f"{checkpoint} does not exist; is this a finished training job?")
    config.model_args.init_discriminator = False
    model = Vits(config)
    try:
        state = load_fsspec(str(checkpoint), map_location="cpu")["model"]
        # Coqui's own load_checkpoint drops speaker-encoder weights too.
        weights = {k: v for k, v in state.items() if not k.startswith("disc.")}
        weights = {k: v for k, v in weights.items() if "speaker_encoder" not in k}
        model.load_state_dict(weights)
    except (RuntimeError, KeyError, OSError, EOFError, pickle.UnpicklingError) as exc:
        raise VoiceError(f"cannot load {checkpoint} with its config.json: {exc}") from exc
    return model.eval()


def _remove_weight_norm(model: "Vits") -> None:
    """Fold weight-norm parametrizations into plain weights: inference needs no recomputation."""
    from torch.nn.utils import parametrize

    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight")


def checkpoint_stamp(checkpoint: Path) -> dict[str, str]:
    """What identifies a checkpoint file, stored in model.onnx's metadata."""
    info = checkpoint.stat()
    stamp = dict(zip(STAMP_KEYS, (str(info.st_size), str(info.st_mtime_ns)), strict=True))
    return {"voicesmith_checkpoint": checkpoint.name, **stamp}


def _exported_from(
    session: "onnxruntime.InferenceSession", checkpoint: Path, explicit: bool
) -> bool:
    """Whether the session's model was exported from checkpoint (trusted if it cannot be told)."""
    stamp = session.get_modelmeta().custom_metadata_map
    if not all(key in stamp for key in STAMP_KEYS) or not checkpoint.is_file():
        # Exported elsewhere, or shipped without its checkpoint: good for the default only.
        return not explicit
    current = checkpoint_stamp(checkpoint)
    return all(stamp[key] == current[key] for key in STAMP_KEYS)


def _onnx_session(path: Path, threads: int, spin: bool) -> "onnxruntime.InferenceSession":
    """An ONNX Runtime CPU session using `threads` threads per run, spinning or not after it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime's own exception types are not importable by name
        raise VoiceError(f"cannot load {path}: {exc}") from exc
