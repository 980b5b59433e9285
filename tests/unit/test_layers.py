"""The layering as the processes see it: what each entry point loads, in a fresh interpreter."""

import os
import shutil
import subprocess
import sys
import tomllib
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


ROOT = Path(__file__).parents[2]


def lint_imports(src: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package under src with the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT / "src")
    assert done.returncode == 0, done.stdout[-3000:]


def test_an_import_against_the_layers_breaks_the_contracts(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "voicesmith", tmp_path / "voicesmith")
    core = tmp_path / "voicesmith" / "core" / "files.py"
    core.write_text("from voicesmith.config import Settings  # noqa\n" + core.read_text())
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "voicesmith.core is not allowed to import voicesmith.config" in done.stdout


def test_every_runtime_engine_module_is_bound_by_the_trainer_contract() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    bound = next(c for c in contracts["contracts"] if c["id"] == "trainer-private")
    engines = ROOT / "src" / "voicesmith" / "engines"
    runtime = {f"voicesmith.engines.{p.stem}" for p in engines.glob("*.py") if p.stem != "__init__"}
    assert runtime <= set(bound["source_modules"])
