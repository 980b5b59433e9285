"""The training process's memory: its cap on CPU hosts, its peak, and telling OOM apart."""

import re
import resource
import threading
from pathlib import Path

MIB = 1 << 20
SAMPLE_SECONDS = 0.02  # a step's peak lasts tens of milliseconds on the smallest models
# Messages of an allocation refused: torch's CPU allocator (ENOMEM under RLIMIT_DATA) and
# CUDA's caching allocator; MemoryError comes from numpy and Python itself.
_OOM_TEXT = re.compile(r"can't allocate memory|out of memory|Cannot allocate memory", re.I)


def apply_limit(limit_mb: int | None) -> None:
    """Cap this process's data memory, so an allocation past it fails instead of the host."""
    # RLIMIT_DATA counts the heap and private writable mappings: what tensors live in, but not
    # the shared libraries' code or the address space torch reserves without touching.
    if limit_mb:
        resource.setrlimit(resource.RLIMIT_DATA, (limit_mb * MIB, limit_mb * MIB))


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception means an allocation was refused (CPU or CUDA)."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and bool(_OOM_TEXT.search(str(exc)))


def data_mb() -> float:
    """This process's data memory now (VmData: what the limit counts), in MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    match = re.search(r"^VmData:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def host_available_mb() -> float:
    """Memory the host can still give (MemAvailable), in MiB."""
    meminfo = Path("/proc/meminfo").read_text(encoding="ascii")
    match = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


class MemoryWatch:
    """The peak memory of training: CUDA's own counter, or VmData sampled on CPU."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.cpu_peak = data_mb()
        self._stop = threading.Event()
        if not cuda:
            threading.Thread(target=self._sample, name="memory-watch", daemon=True).start()

    def _sample(self) -> None:
        """Keep the highest VmData seen; allocations freed after a step no longer show."""
        while not self._stop.wait(SAMPLE_SECONDS):
            self.cpu_peak = max(self.cpu_peak, data_mb())

    def peak_mb(self) -> float:
        """The peak so far, in MiB."""
        if self.cuda:
            import torch

            return torch.cuda.max_memory_reserved() / MIB
        return max(self.cpu_peak, data_mb())

    def reset(self) -> None:
        """Forget the peak so far (after warm-up, or to measure one batch)."""
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        self.cpu_peak = data_mb()

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()


def limit_mb(cuda: bool, configured: int | None) -> float:
    """What training may use: the GPU's memory on CUDA, else the cap or the host's free memory."""
    if cuda:
        import torch

        return torch.cuda.get_device_properties(0).total_memory / MIB
    return float(configured) if configured else data_mb() + host_available_mb()
