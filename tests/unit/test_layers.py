"""The layering as the processes see it: what each entry point loads, in a fresh interpreter."""

import os
import subprocess
import sys
from pathlib import Path

TRAINING = "voicesmith.engines.training"
WEB_SIDE = ("voicesmith.web", "voicesmith.auth", "voicesmith.deps", "voicesmith.app")


def loaded_modules(code: str, *args: str) -> list[str]:
    """The sorted sys.modules of a fresh interpreter after it ran code, which prints them."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def is_part_of(module: str, package: str) -> bool:
    """Whether module is package or inside it."""
    return module == package or module.startswith(f"{package}.")


def test_the_training_entry_point_loads_nothing_of_the_web_side() -> None:
    code = f"import sys, {TRAINING}.main; print(*sorted(sys.modules))"
    modules = loaded_modules(code)
    assert f"{TRAINING}.main" in modules
    web = [m for m in modules if any(is_part_of(m, p) for p in WEB_SIDE)]
    routers = [m for m in modules if m.startswith("voicesmith.") and m.endswith(".router")]
    assert web == [] and routers == []
    assert "torch" not in modules  # torch loads once job.json is known to be valid


def test_the_web_app_loads_nothing_of_the_trainer(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from voicesmith.app import create_app;"
        "from voicesmith.config import Settings;"
        "create_app(Settings(data_dir=Path(sys.argv[1]), admin_password='test-admin-password'));"
        "print(*sorted(sys.modules))"
    )
    modules = loaded_modules(code, str(tmp_path))
    assert "voicesmith.app" in modules
    assert [m for m in modules if is_part_of(m, TRAINING)] == []
