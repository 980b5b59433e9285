"""Getting a bulk upload's parts onto disk in a private temporary folder."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

from fastapi import UploadFile

from voicesmith.config import Settings
from voicesmith.datasets import archive as archives
from voicesmith.errors import BadInput


@contextmanager
def unpacked(
    settings: Settings, *, archive: UploadFile | None, audio: list[UploadFile]
) -> Iterator[list[tuple[str, Path]]]:
    """(original name, path) for every file of the upload; the folder goes away afterwards."""
    tmp_root = settings.data_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root, prefix="batch-") as folder:
        root = Path(folder)
        if archive is not None:
            yield _from_archive(settings, archive, root)
        else:
            yield _from_parts(settings, audio, root)


def _from_archive(settings: Settings, upload: UploadFile, root: Path) -> list[tuple[str, Path]]:
    """Save and safely extract the zip."""
    saved = root / "upload.zip"
    with saved.open("wb") as sink:
        shutil.copyfileobj(upload.file, sink, length=2**20)
    (root / "files").mkdir()
    paths = archives.extract(saved, root / "files", max_files=settings.max_batch_files)
    return [(path.name, path) for path in paths]


def _from_parts(
    settings: Settings, uploads: list[UploadFile], root: Path
) -> list[tuple[str, Path]]:
    """Copy each audio part to its own numbered file, keeping the client's name beside it."""
    if len(uploads) > settings.max_batch_files:
        raise BadInput(f"{len(uploads)} files sent; the limit is {settings.max_batch_files}")
    files = []
    for number, upload in enumerate(uploads):
        name = PurePath((upload.filename or f"clip{number}").replace("\\", "/")).name
        path = root / f"{number:05d}"
        with path.open("wb") as sink:
            shutil.copyfileobj(upload.file, sink, length=2**20)
        files.append((name, path))
    return files
