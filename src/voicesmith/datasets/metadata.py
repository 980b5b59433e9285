"""Reading a user's metadata file in any of the forms people keep: pure functions."""

import csv
import io

from voicesmith.errors import BadInput

HEADER_FILE_NAMES = {"file", "filename", "file_name", "audio", "path", "wav"}
HEADER_TEXT_NAMES = {"transcript", "text", "transcription", "sentence"}


def parse_metadata(raw: bytes) -> dict[str, str]:
    """Map each named file (or LJSpeech id) to its transcript.

    Accepts `file|transcript`, LJSpeech's `id|text|normalized text`, and a CSV with a
    `file,transcript` header; a UTF-8 BOM and CRLF line ends are fine.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"metadata is not UTF-8 (byte {exc.start}); save it as UTF-8") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BadInput("metadata is empty; list one 'file|transcript' per line")
    if "|" not in lines[0] and _is_csv_header(lines[0]):
        return _from_csv(text)
    return _from_pipes(lines)


def _is_csv_header(line: str) -> bool:
    """Whether a first line is a `file,transcript` style CSV header."""
    cells = [c.strip().lower() for c in next(csv.reader([line]))]
    return len(cells) >= 2 and cells[0] in HEADER_FILE_NAMES and cells[1] in HEADER_TEXT_NAMES


def _from_csv(text: str) -> dict[str, str]:
    """Rows of a headed CSV: the first column names the file, the second is the transcript."""
    rows = list(csv.reader(io.StringIO(text)))[1:]
    entries: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise BadInput(f"metadata line {number} has {len(row)} column; it needs 2")
        _add(entries, row[0].strip(), row[1], number)
    return entries


def _from_pipes(lines: list[str]) -> dict[str, str]:
    """`file|transcript` or LJSpeech `id|text|normalized text` lines."""
    entries: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        cells = line.split("|")
        if len(cells) not in (2, 3):
            raise BadInput(
                f"metadata line {number} has {len(cells)} columns; use 'file|transcript' or "
                "LJSpeech's 'id|text|normalized text'"
            )
        # LJSpeech's third column has numbers and abbreviations spelled out: better to train on.
        text = cells[2] if len(cells) == 3 and cells[2].strip() else cells[1]
        _add(entries, cells[0].strip(), text, number)
    return entries


def _add(entries: dict[str, str], name: str, text: str, number: int) -> None:
    """Record one entry, refusing a name listed twice."""
    if not name:
        raise BadInput(f"metadata line {number} names no file")
    if name in entries:
        raise BadInput(f"metadata lists '{name}' twice (line {number}); keep one line per clip")
    entries[name] = text.strip()


def match(entries: dict[str, str], filename: str) -> tuple[str, str] | None:
    """The (metadata key, transcript) for an audio file, by exact name or by stem."""
    if filename in entries:
        return filename, entries[filename]
    stem = filename.rsplit(".", 1)[0]
    for key in (stem, *(k for k in entries if k.rsplit(".", 1)[0] == stem)):
        if key in entries:
            return key, entries[key]
    return None
