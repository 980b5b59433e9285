"""Builders for hostile payloads: broken audio, unsafe zips and odd metadata, all real bytes."""

import io
import stat
import zipfile
from functools import cache
from pathlib import Path

from tests.factories import write_tone

BOMB_BYTES = 210 * 2**20  # past the 200 MB an archive member may unpack to
MANY_ENTRIES = 10_000


class Kit:
    """Real audio made once per module, from which the bad inputs are cut."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.wav = write_tone(folder / "tone.wav", seconds=1.5).read_bytes()
        self.mp3 = write_tone(folder / "tone.mp3", seconds=1.5, codec="libmp3lame").read_bytes()
        self.silent = write_tone(folder / "silent.wav", seconds=2.0, amplitude=0.0).read_bytes()
        self.short = write_tone(folder / "short.wav", seconds=0.2).read_bytes()

    def upload(self, content: bytes, *, filename: str = "clip.wav", **data: str) -> dict:
        """Keyword arguments for a single-clip upload."""
        form = {"dataset_name": "base", "transcript": "Hello there.", **data}
        return {"data": form, "files": {"audio": (filename, content)}}

    def archive(self, content: bytes, dataset: str = "fresh") -> dict:
        """Keyword arguments for a zip bulk import."""
        return {"data": {"dataset_name": dataset}, "files": {"archive": ("clips.zip", content)}}

    def parts(self, metadata: bytes, dataset: str = "fresh") -> dict:
        """Keyword arguments for a bulk import of two clips plus a metadata part."""
        files = [("audio", ("a.wav", self.wav)), ("audio", ("b.mp3", self.mp3))]
        files.append(("metadata", ("metadata.csv", metadata)))
        return {"data": {"dataset_name": dataset}, "files": files}


def as_zip(entries: dict[str, bytes]) -> bytes:
    """A zip holding the given names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def symlink_zip(wav: bytes) -> bytes:
    """A zip whose one member is a symbolic link to /etc/passwd, beside a real clip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("real.wav", wav)
        link = zipfile.ZipInfo("link.wav")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("metadata.csv", "real.wav|Hello.\nlink.wav|Hello.\n")
    return buffer.getvalue()


@cache
def bomb_zip() -> bytes:
    """210 MB of zeros that deflate to about 200 KB: an honest header on a bomb."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("bomb.wav", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(BOMB_BYTES // len(block)):
                member.write(block)
        zf.writestr("metadata.csv", "bomb.wav|Boom.\n")
    return buffer.getvalue()


def lying_zip() -> bytes:
    """A member that says it holds 1 KB but inflates to 8 MB (its sizes patched after writing)."""
    data = as_zip({"liar.wav": bytes(8 * 2**20), "metadata.csv": b"liar.wav|Lies.\n"})
    real = (8 * 2**20).to_bytes(4, "little")
    # The uncompressed size appears in the local header and in the central directory.
    return data.replace(real, (1024).to_bytes(4, "little"))


@cache
def many_entries_zip() -> bytes:
    """A zip of 10,000 one-byte members: more files than a batch may hold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for n in range(MANY_ENTRIES):
            zf.writestr(f"c{n:05d}.wav", b"x")
    return buffer.getvalue()
