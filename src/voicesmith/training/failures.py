"""Why a training run failed, said so that a person can act on it."""

import re
from typing import Any

ERROR_PREFIX = "ERROR: "
NO_DOWNLOAD = (
    "Could not download the base model (no internet?). "
    "Use a local folder, a URL you can reach, or scratch:tiny."
)
NOT_FOUND = (
    "The base model's address answered 404 Not Found. Check the URL, or pick another base model."
)
REFUSED = (
    "The base model's server refused the download. "
    "Check the URL and that it needs no login, or pick another base model."
)
CUT_OFF = "The base model's download was cut off. Start the job again, or use a local copy."
NOT_A_MODEL = (
    "The base model is not a Coqui VITS model: it needs a config.json and a .pth checkpoint. "
    "Use a Coqui model name, a folder or zip holding both, or scratch:tiny."
)
DISK_FULL = "The disk is full. Free space in the data folder, then Resume or start again."
NO_MEMORY = "Training ran out of memory. Start again with a smaller batch size."
# (what the trainer's last ERROR line says, the sentence that tells a person what to do);
# the first pattern that matches wins.
KNOWN = (
    (re.compile(r"^could not download "), NO_DOWNLOAD),
    (re.compile(r"^download of \S+ failed: HTTP 404\b"), NOT_FOUND),
    (re.compile(r"^download of \S+ failed: HTTP 4\d\d\b"), REFUSED),
    (re.compile(r"^download stopped after "), CUT_OFF),
    (re.compile(r"not a valid zip file|holds no (config\.json|checkpoint)"), NOT_A_MODEL),
    (re.compile(r"No space left|\[Errno 28\]|File too large|\[Errno 27\]"), DISK_FULL),
    (re.compile(r"out of memory|MemoryError|DefaultCPUAllocator: can't allocate"), NO_MEMORY),
)


def cause(log: str) -> str | None:
    """The failure a log ends on: its last ERROR line, after advice for a known cause."""
    errors = [line for line in log.splitlines() if line.startswith(ERROR_PREFIX)]
    if not errors:
        return None
    detail = errors[-1].removeprefix(ERROR_PREFIX)
    advice = next((sentence for pattern, sentence in KNOWN if pattern.search(detail)), None)
    return f"{advice}\n{detail}" if advice else detail


def out_of_memory(params: dict[str, Any], longest_seconds: float, detail: str) -> str:
    """What would fit, once a job ran out of memory at its smallest batch size."""
    parts = params.get("grad_accum_steps", 1)
    size = -(-params["batch_size"] // parts)
    if size > 1:
        advice = (
            f"Training ran out of memory at batch size {size}, after halving it twice. "
            f"Start again with batch size {size // 2} or less, or give training more memory."
        )
    else:
        advice = "Training ran out of memory even at batch size 1. " + _what_fits(longest_seconds)
    return f"{advice}\n{detail}"


def _what_fits(longest_seconds: float) -> str:
    """Shorter clips or more memory: the two ways a batch of one gets smaller than the limit."""
    shorter = (
        f"Split or trim the longest clips (the longest is {longest_seconds:.1f} s; "
        f"try at most {max(longest_seconds / 2, 1.0):.0f} s), or give training more memory"
        if longest_seconds
        else "Use shorter clips, or give training more memory"
    )
    return f"{shorter}: raise VOICESMITH_TRAINING_MEMORY_LIMIT_MB, or use a larger GPU."
