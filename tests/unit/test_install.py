"""The install itself: the lock matches pyproject.toml, and the training stack loads as locked."""

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
STACK = ("torch", "torchaudio", "torchcodec", "coqui-tts", "onnxruntime")
# Run in a child: a native library that fails to load can take the interpreter with it.
PROBE = f"""
import torch, torchaudio, torchcodec
from TTS.tts.models.vits import Vits
from torchcodec.decoders import AudioDecoder
samples = AudioDecoder({str(FIXTURES / "LJ001-0001.mp3")!r}).get_all_samples()
assert samples.data.shape[-1] > 22050, samples.data.shape
print(torch.__version__, torchaudio.__version__, torchcodec.__version__)
"""


def _versions() -> str:
    """The installed versions of the training stack, read without importing it."""
    found = []
    for name in STACK:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} missing")
    return ", ".join(found)


def _lock_check(folder: Path) -> subprocess.CompletedProcess:
    """`make lock-check` in a folder holding the Makefile, as `make test` runs it first."""
    return subprocess.run(
        ["make", "--no-print-directory", "lock-check"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.gate
def test_the_training_stack_loads_and_decodes_audio():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"found {_versions()}:\n{done.stderr[-3000:]}"


@pytest.mark.gate
def test_torch_and_torchaudio_are_one_release():
    torch, torchaudio = (importlib.metadata.version(n).split("+")[0] for n in STACK[:2])
    assert torch == torchaudio, f"built for each other or not at all: {_versions()}"


@pytest.mark.gate
def test_the_lock_matches_pyproject():
    done = _lock_check(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The files the lock is checked from, copied; uv itself is shared, not bootstrapped again."""
    for name in ("Makefile", "pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".tools").symlink_to(ROOT / ".tools")
    return tmp_path


def test_a_package_deleted_from_the_lock_fails_the_check(project_copy: Path):
    lock = project_copy / "uv.lock"
    blocks = lock.read_text().split("\n[[package]]\n")
    kept = [block for block in blocks if not block.startswith('name = "six"\n')]
    assert len(kept) == len(blocks) - 1
    lock.write_text("\n[[package]]\n".join(kept))
    done = _lock_check(project_copy)
    assert done.returncode != 0
    assert "run 'make lock'" in done.stdout


def test_a_dependency_changed_without_relocking_fails_the_check(project_copy: Path):
    pyproject = project_copy / "pyproject.toml"
    text, count = re.subn(r'"rich>=13"', '"rich>=13.1"', pyproject.read_text())
    assert count == 1
    pyproject.write_text(text)
    done = _lock_check(project_copy)
    assert done.returncode != 0
    assert "run 'make lock'" in done.stdout
