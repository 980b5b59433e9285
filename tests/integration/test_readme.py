"""The README's promises: its curl session works and every setting is documented."""

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD
from tests.factories import FIXTURES
from voicesmith.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_setting():
    text = README.read_text()
    for name in Settings.model_fields:
        assert f"`VOICESMITH_{name.upper()}`" in text, name


def test_readme_curl_session_uploads_the_fixture_clips(live_server, tmp_path):
    block = re.search(r"<!-- curl-session -->\n```bash\n(.*?)```", README.read_text(), re.S)
    env = {**os.environ, "VS": live_server, "PASS": ADMIN_PASSWORD, "F": str(FIXTURES)}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.group(1)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"status":"stored"') == 8
    assert '"name":"lj","audio_count":8' in done.stdout
