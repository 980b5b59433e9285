"""Why a training run failed, said so that a person can act on it."""

import re

ERROR_PREFIX = "ERROR: "
NO_DOWNLOAD = (
    "Could not download the base model (no internet?). "
    "Use a local folder, a URL you can reach, or scratch:tiny."
)
# (what the trainer's last ERROR line says, the sentence that tells a person what to do)
KNOWN = ((re.compile(r"^could not download "), NO_DOWNLOAD),)


def cause(log: str) -> str | None:
    """The failure a log ends on: its last ERROR line, after advice for a known cause."""
    errors = [line for line in log.splitlines() if line.startswith(ERROR_PREFIX)]
    if not errors:
        return None
    detail = errors[-1].removeprefix(ERROR_PREFIX)
    advice = next((sentence for pattern, sentence in KNOWN if pattern.search(detail)), None)
    return f"{advice}\n{detail}" if advice else detail
