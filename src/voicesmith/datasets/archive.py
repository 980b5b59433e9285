"""Unpacking an uploaded zip of clips without trusting its names or sizes."""

import stat
import zipfile
from pathlib import Path, PurePosixPath

from voicesmith.errors import BadInput

MAX_MEMBER_BYTES = 200 * 2**20
MAX_TOTAL_BYTES = 8 * 2**30
CHUNK = 2**20


def extract(archive: Path, target: Path, *, max_files: int) -> list[Path]:
    """Extract the zip's regular files into target (flattened), refusing anything unsafe."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check(members, max_files)
            return [_extract_one(zf, member, target) for member in members if _wanted(member)]
    except zipfile.BadZipFile as exc:
        raise BadInput(f"the archive is not a valid zip ({exc}); upload a .zip file") from exc


def _check(members: list[zipfile.ZipInfo], max_files: int) -> None:
    """Refuse zip-slip names, links, too many files and declared bombs."""
    if len(members) > max_files:
        raise BadInput(f"the archive holds {len(members)} files; the limit is {max_files}")
    total = 0
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            raise BadInput(f"the archive entry '{member.filename}' points outside the archive")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise BadInput(f"the archive entry '{member.filename}' is a symbolic link")
        if member.file_size > MAX_MEMBER_BYTES:
            raise BadInput(f"the archive entry '{member.filename}' is too large to unpack")
        total += member.file_size
    if total > MAX_TOTAL_BYTES:
        raise BadInput("the archive unpacks to more than 8 GB; split it")


def _wanted(member: zipfile.ZipInfo) -> bool:
    """Skip the metadata junk macOS and Windows add to zips."""
    name = PurePosixPath(member.filename)
    return "__MACOSX" not in name.parts and not name.name.startswith(".")


def _extract_one(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> Path:
    """Copy one member out, stopping if it inflates past its declared size (a bomb)."""
    name = PurePosixPath(member.filename).name
    out = target / name
    if out.exists():
        raise BadInput(f"the archive holds two files named '{name}'; rename one")
    written = 0
    with zf.open(member) as source, out.open("wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > min(member.file_size, MAX_MEMBER_BYTES):
                raise BadInput(f"the archive entry '{member.filename}' inflates past its size")
            sink.write(chunk)
    return out
