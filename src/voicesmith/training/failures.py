"""Why a training run failed, said so that a person can act on it."""

import re

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
    (re.compile(r"No space left on device|\[Errno 28\]"), DISK_FULL),
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
