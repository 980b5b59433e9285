"""Resolve a base model (Coqui zoo name, zip URL or local folder) to a local checkpoint and config.

Nothing here imports torch or TTS, so the web process may validate names with it.
"""

import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

ZOO_NAME_RE = re.compile(r"^tts_models/[A-Za-z0-9_-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
CONFIG_FILE = "config.json"
CHECKPOINT_PATTERNS = ("best_model.pth", "best_model_*.pth", "model.pth", "model_file.pth")
TIMEOUT_SECONDS = 30.0
MAX_ENTRIES = 1000
MAX_UNPACKED_BYTES = 4 * 1024**3
MAX_DOWNLOAD_BYTES = 4 * 1024**3
CHUNK_BYTES = 1024 * 1024
REPORT_EVERY_BYTES = 8 * 1024 * 1024
STALE_PARTIAL_SECONDS = 24 * 3600


class EngineError(Exception):
    """Training cannot go on; the message is for people and becomes the log's ERROR line."""


class BaseModelError(EngineError):
    """A base model could not be found, downloaded or unpacked."""


@dataclass(frozen=True)
class BaseModel:
    """A base model on local disk."""

    directory: Path
    checkpoint: Path
    config_path: Path


def models_json_path() -> Path:
    """The model index shipped inside the installed coqui-tts, located without importing it."""
    spec = importlib.util.find_spec("TTS")
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError("coqui-tts is not installed; install voicesmith[train]")
    return Path(next(iter(spec.submodule_search_locations))) / ".models.json"


@cache
def _zoo_index() -> dict[str, Any]:
    """The parsed .models.json."""
    return json.loads(models_json_path().read_text(encoding="utf-8"))


def zoo_names() -> set[str]:
    """Names of the zoo's VITS models that download as one zip."""
    names = set()
    for lang, datasets in _zoo_index().get("tts_models", {}).items():
        for dataset, models in datasets.items():
            for model, item in models.items():
                if "vits" in model.lower() and isinstance(item.get("github_rls_url"), str):
                    names.add(f"tts_models/{lang}/{dataset}/{model}")
    return names


def zoo_url(name: str) -> str:
    """The download URL of a zoo model, as coqui-tts's ModelManager would use it."""
    if name not in zoo_names():
        raise BaseModelError(
            f"{name} is not a VITS model in the coqui-tts zoo that voicesmith can download; "
            f"known: {', '.join(sorted(zoo_names()))}"
        )
    _, lang, dataset, model = name.split("/")
    return _zoo_index()["tts_models"][lang][dataset][model]["github_rls_url"]


def resolve_base_model(spec: str, models_dir: Path) -> BaseModel:
    """Turn a zoo name, http(s) zip URL or local folder into a local checkpoint and config."""
    if spec.startswith(("http://", "https://")):
        return find_model_files(download_model(spec, models_dir))
    if ZOO_NAME_RE.match(spec):
        return find_model_files(download_model(zoo_url(spec), models_dir))
    path = Path(spec)
    if not path.is_absolute() or not path.is_dir():
        raise BaseModelError(
            f"base model {spec!r} is neither a zoo name, an http(s) URL nor an existing folder"
        )
    return find_model_files(path)


def find_model_files(directory: Path) -> BaseModel:
    """The checkpoint and config.json in a model folder, preferring the best model."""
    config = directory / CONFIG_FILE
    if not config.is_file():
        raise BaseModelError(f"{directory} holds no {CONFIG_FILE}")
    for pattern in CHECKPOINT_PATTERNS:
        found = sorted(directory.glob(pattern), key=_step_of)
        if found:
            return BaseModel(directory, found[-1], config)
    raise BaseModelError(f"{directory} holds no checkpoint ({', '.join(CHECKPOINT_PATTERNS)})")


def _step_of(path: Path) -> int:
    """The step number in a checkpoint name such as best_model_1200.pth, else 0."""
    match = re.search(r"_(\d+)\.pth$", path.name)
    return int(match.group(1)) if match else 0


def cache_dir(url: str, models_dir: Path) -> Path:
    """Where the files of the model at url are cached."""
    return models_dir / f"url-{hashlib.sha256(url.encode()).hexdigest()[:24]}"


def download_model(url: str, models_dir: Path, *, report: Callable[[str], None] = print) -> Path:
    """Download a model zip once and unpack it into the cache; later calls reuse it."""
    dest = cache_dir(url, models_dir)
    if dest.is_dir():
        report(f"download: using cached {url} in {dest}")
        return dest
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(models_dir)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=models_dir))
    try:
        archive = work / "model.zip"
        fetch(url, archive, report=report)
        root = _unpacked_root(archive, work / "files")
        (root / "source.txt").write_text(url + "\n", encoding="utf-8")
        _move_into_place(root, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def fetch(url: str, target: Path, *, report: Callable[[str], None] = print) -> None:
    """Stream url into target, reporting progress, failing fast on unreachable hosts."""
    report(f"download: {url}")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=TIMEOUT_SECONDS) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length") or 0) or None
            _write_stream(response, target, total, report)
    except httpx.HTTPStatusError as exc:
        raise BaseModelError(f"download of {url} failed: HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise BaseModelError(f"could not download {url}: {exc or type(exc).__name__}") from exc


def _write_stream(
    response: httpx.Response, target: Path, total: int | None, report: Callable[[str], None]
) -> None:
    """Copy the body to target, printing a progress line every 5% or every few MB."""
    done = reported = 0
    step = max(total // 20, CHUNK_BYTES) if total else REPORT_EVERY_BYTES
    with target.open("wb") as out:
        for chunk in response.iter_bytes(CHUNK_BYTES):
            out.write(chunk)
            done += len(chunk)
            if done > MAX_DOWNLOAD_BYTES:
                raise BaseModelError(f"download is larger than {MAX_DOWNLOAD_BYTES >> 30} GB")
            if done - reported >= step or done == total:
                report(_progress_line(done, total))
                reported = done
    if total and done != total:
        raise BaseModelError(f"download stopped after {done} of {total} bytes")


def _progress_line(done: int, total: int | None) -> str:
    """download: 12.0/80.0 MB (15%)."""
    mb = 1024 * 1024
    if not total:
        return f"download: {done / mb:.1f} MB"
    return f"download: {done / mb:.1f}/{total / mb:.1f} MB ({100 * done // total}%)"


def check_zip(archive: zipfile.ZipFile) -> None:
    """Refuse archives that could write outside the target, hold links, or unpack too large."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise BaseModelError(f"the zip holds {len(entries)} entries; the limit is {MAX_ENTRIES}")
    for info in entries:
        _check_entry(info)
    if sum(info.file_size for info in entries) > MAX_UNPACKED_BYTES:
        raise BaseModelError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES >> 30} GB")


def _check_entry(info: zipfile.ZipInfo) -> None:
    """Refuse absolute paths, '..' components and symlinks."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise BaseModelError(f"the zip entry {info.filename!r} points outside the model folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BaseModelError(f"the zip entry {info.filename!r} is a symbolic link")


def safe_extract(archive_path: Path, target: Path) -> None:
    """Unpack a zip into target after check_zip accepts it."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            check_zip(archive)
            archive.extractall(target)
    except zipfile.BadZipFile as exc:
        raise BaseModelError(f"the download is not a valid zip file ({exc})") from exc


def _unpacked_root(archive: Path, target: Path) -> Path:
    """Unpack and return the folder holding config.json: the top or its one subfolder."""
    safe_extract(archive, target)
    if (target / CONFIG_FILE).is_file():
        return target
    subdirs = [p for p in target.iterdir() if p.is_dir() and p.name not in ("__MACOSX",)]
    subdirs = [p for p in subdirs if not p.name.startswith(".")]
    if len(subdirs) == 1 and (subdirs[0] / CONFIG_FILE).is_file():
        return subdirs[0]
    raise BaseModelError(f"the zip holds no {CONFIG_FILE} at its top or in one subfolder")


def _move_into_place(root: Path, dest: Path) -> None:
    """Publish the unpacked folder atomically; a concurrent download that won is kept."""
    try:
        os.replace(root, dest)
    except OSError:
        if not dest.is_dir():
            raise


def _remove_stale_partials(models_dir: Path) -> None:
    """Delete half-downloads left by killed processes a day or more ago."""
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in models_dir.glob(".partial-*"):
        if partial.stat().st_mtime < cutoff:
            shutil.rmtree(partial, ignore_errors=True)
