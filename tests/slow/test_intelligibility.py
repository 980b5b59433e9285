"""Trained voices are checked by ear: ASR hears the job's own samples."""

import json
import math

import pytest

pytestmark = pytest.mark.slow


def test_the_tiny_job_reports_its_intelligibility(tiny_job):
    job = tiny_job["job"]
    assert job["status"] == "completed", job["error"]
    # The tiny model speaks gibberish, so only the number's presence and range are known.
    value = job["progress"]["intelligibility_cer"]
    assert isinstance(value, float) and 0 <= value < math.inf
    by_step = job["progress"]["intelligibility_by_step"]
    assert by_step and value == by_step[max(by_step, key=int)]
    stored = json.loads((tiny_job["dir"] / "progress.json").read_text())
    assert stored["intelligibility_cer"] == value
