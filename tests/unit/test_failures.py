"""A failed job's cause comes from its log's last ERROR line, never from a warning before it."""

import pytest

from voicesmith.training.failures import (
    CUT_OFF,
    DISK_FULL,
    NO_DOWNLOAD,
    NO_MEMORY,
    NOT_A_MODEL,
    NOT_FOUND,
    REFUSED,
    cause,
)

# train.log of a job whose base model URL nothing answered (a closed port), as the trainer wrote it.
UNREACHABLE = """\
=== 2026-11-30 12:32:23 UTC: training starts on vm:4043
WARNING: CPU training is slow; no CUDA GPU was found, so a real voice takes many hours
download: http://127.0.0.1:45555/base.zip
ERROR: could not download http://127.0.0.1:45555/base.zip: [Errno 111] Connection refused
"""
# An unexpected exception: the traceback, then the one ERROR line the trainer prints last.
CRASH = """\
=== 2026-11-30 12:40:02 UTC: training starts on vm:4043
WARNING: ONNX export failed, synthesis will use PyTorch: RuntimeError: no opset
ERROR: an earlier attempt's error, before the resume
=== 2026-11-30 12:41:10 UTC: training starts on vm:4043
Traceback (most recent call last):
  File "main.py", line 139, in main
ValueError: batch_size must be positive
ERROR: training failed: ValueError: batch_size must be positive
"""


def test_an_unreachable_download_says_what_to_do_then_what_failed():
    assert cause(UNREACHABLE) == (
        f"{NO_DOWNLOAD}\n"
        "could not download http://127.0.0.1:45555/base.zip: [Errno 111] Connection refused"
    )


def test_the_last_error_wins_over_warnings_and_earlier_errors():
    assert cause(CRASH) == "training failed: ValueError: batch_size must be positive"


def test_a_log_without_an_error_names_no_cause():
    assert cause(UNREACHABLE.replace("ERROR:", "WARNING:")) is None


@pytest.mark.parametrize(
    ("last_error", "advice"),
    [
        ("download of http://h/m.zip failed: HTTP 404", NOT_FOUND),
        ("download of http://h/m.zip failed: HTTP 403", REFUSED),
        ("download stopped after 10 of 99 bytes", CUT_OFF),
        ("the download is not a valid zip file (File is not a zip file)", NOT_A_MODEL),
        ("/var/models/base holds no config.json", NOT_A_MODEL),
        ("training failed: OSError: [Errno 28] No space left on device", DISK_FULL),
        ("training failed: RuntimeError: CUDA out of memory. Tried to allocate 2 GiB", NO_MEMORY),
        (
            "training failed: RuntimeError: DefaultCPUAllocator: can't allocate memory",
            NO_MEMORY,
        ),
    ],
)
def test_each_known_cause_gets_its_advice_before_the_error(last_error: str, advice: str):
    log = f"=== start\nWARNING: slow\nERROR: {last_error}\n"
    assert cause(log) == f"{advice}\n{last_error}"


def test_an_unknown_error_is_given_as_it_is():
    assert cause("ERROR: training failed: KeyError: 'x'\n") == "training failed: KeyError: 'x'"
