"""The web process speaks with a voice without loading anything of the trainer."""

import pytest

from tests.unit.test_layers import TRAINING, is_part_of, loaded_modules

pytestmark = pytest.mark.slow

SPEAK_ONCE = """
import sys
from pathlib import Path
from voicesmith.app import create_app
from voicesmith.config import Settings
from voicesmith.engines.export import make_random_model_dir
from voicesmith.synthesis.service import Synthesizer, VoiceRef
data = Path(sys.argv[1])
settings = Settings(data_dir=data, admin_password="test-admin-password")
create_app(settings)
model = make_random_model_dir(data / "voice", "scratch:tiny")
speech = Synthesizer(settings).speak(VoiceRef("tiny", model), "Hello there.", speed=1.0)
assert speech.sample_rate == 22050, speech.sample_rate
print(*sorted(sys.modules))
"""


def test_synthesis_in_the_web_process_loads_nothing_of_the_trainer(tmp_path) -> None:
    modules = loaded_modules(SPEAK_ONCE, str(tmp_path))
    assert "voicesmith.engines.voice" in modules and "torch" in modules
    assert [m for m in modules if is_part_of(m, TRAINING)] == []
