"""The README's promises: its curl session works and every setting is documented."""

import os

from tests.conftest import ADMIN_PASSWORD
from tests.factories import FIXTURES, README, readme_block, run_snippet
from voicesmith.config import Settings


def test_readme_documents_every_setting():
    text = README.read_text()
    for name in Settings.model_fields:
        assert f"`VOICESMITH_{name.upper()}`" in text, name


def test_readme_curl_session_uploads_the_fixture_clips(live_server, tmp_path):
    env = {**os.environ, "VS": live_server, "PASS": ADMIN_PASSWORD, "F": str(FIXTURES)}
    script = readme_block("curl-session", "bash")
    done = run_snippet(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"status":"stored"') == 8
    assert '"name":"lj","audio_count":8' in done.stdout
