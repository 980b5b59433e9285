"""The LJSpeech layout on disk: paths, metadata.csv and per-dataset locks."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from voicesmith.core.files import atomic_write_text
from voicesmith.core.locks import file_lock
from voicesmith.errors import BadInput

METADATA_FILE = "metadata.csv"
WAVS_DIR = "wavs"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+", re.ASCII)
# The dataset-name alphabet: a name outside it must never become part of a path.
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
MAX_STEM_CHARS = 100


def dataset_dir(datasets_root: Path, name: str) -> Path:
    """<data_dir>/data/<name>."""
    return datasets_root / checked_name(name)


def checked_name(name: str) -> str:
    """The name, if it is safe inside a path; a caller that forgot to validate gets a 422."""
    if not SAFE_NAME.fullmatch(name):
        raise BadInput(
            "dataset name may contain only letters, digits, '_' and '-', 1 to 64 characters"
        )
    return name


def safe_stem(filename: str) -> str:
    """A filesystem-safe stem for a client-supplied filename."""
    stem = Path(filename.replace("\\", "/")).stem
    stem = _UNSAFE.sub("_", stem).strip("._-")[:MAX_STEM_CHARS]
    return stem or "clip"


def metadata_text(rows: Iterable[tuple[str, str]]) -> str:
    """metadata.csv's content: one 'file.wav|transcript' line per clip."""
    return "".join(f"{wav}|{text}\n" for wav, text in rows)


# How an exported zip lists its clips; the data dir's metadata.csv is always 'seed'.
ExportLayout = Literal["ljspeech", "piper", "seed"]


def export_metadata_text(rows: Iterable[tuple[str, str]], export_layout: ExportLayout) -> str:
    """metadata.csv's content in an export layout that another trainer reads as it is."""
    rows = list(rows)
    if export_layout == "ljspeech":
        # LJSpeech-1.1: bare ids; the third column is what Coqui's formatter trains on, and ours
        # is the transcript as we train on it (Coqui's cleaners expand numbers later).
        return "".join(f"{Path(wav).stem}|{text}|{text}\n" for wav, text in rows)
    if export_layout == "piper":
        return _piper_csv(rows)
    return metadata_text(rows)


def _piper_csv(rows: list[tuple[str, str]]) -> str:
    """`file.wav|text` written by the csv module, because piper.train reads it with csv.reader."""
    out = io.StringIO()
    # A transcript that starts with a quote would otherwise lose it to csv.reader's quoting.
    writer = csv.writer(out, delimiter="|", lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def render_metadata(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """Write metadata.csv, atomically."""
    atomic_write_text(path, metadata_text(rows))


@contextmanager
def dataset_lock(locks_dir: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock for one dataset, across threads and processes on this host."""
    with file_lock(locks_dir / f"{checked_name(name)}.lock"):
        yield
