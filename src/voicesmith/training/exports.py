"""A completed job's voice for other runtimes (Piper, Coqui TTS), built by a child process."""

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from voicesmith.config import Settings
from voicesmith.errors import BadInput, Conflict, VoicesmithError
from voicesmith.training import service
from voicesmith.training.models import JobStatus

ExportFormat = Literal["piper", "coqui"]
BUNDLER_MODULE = "voicesmith.engines.bundles"
REFUSED = 2  # the bundler's exit status for a voice it cannot export faithfully
# Exporting ONNX again from a full-size checkpoint takes about a minute on two cores.
TIMEOUT_SECONDS = 900


class ExportFailed(VoicesmithError):
    """The export process failed for a reason that is not the request's fault."""

    status_code = 500


@dataclass(frozen=True)
class Exported:
    """The files written and what their user should know."""

    files: list[Path]
    warnings: list[str]


def export_files(
    *, session: Session, job_id: str, export_format: ExportFormat, out_dir: Path
) -> Exported:
    """Write the job's voice in export_format into out_dir, in a child process."""
    job = service.get_job(session=session, job_id=job_id)
    if job.status != JobStatus.COMPLETED.value:
        raise Conflict(f"job '{job_id}' is {job.status}; only a completed job can be exported")
    job_dir, name = Path(job.output_dir), job.id
    session.commit()  # nothing stays open while the child works
    command = [sys.executable, "-m", BUNDLER_MODULE, str(job_dir), str(out_dir)]
    command += ["--format", export_format, "--name", name]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise ExportFailed(f"the {export_format} export took over {TIMEOUT_SECONDS} s") from exc
    said = done.stderr.strip().splitlines()[-1:] or ["no message"]
    if done.returncode == REFUSED:
        raise BadInput(f"cannot export job '{job_id}' as {export_format}: {said[0]}")
    if done.returncode != 0:
        raise ExportFailed(f"the {export_format} export failed: {said[0]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Exported([out_dir / f for f in result["files"]], list(result["warnings"]))


def export_zip(
    *, session: Session, settings: Settings, job_id: str, export_format: ExportFormat
) -> tuple[Path, Exported]:
    """A temporary zip of the exported files, named for download, and what was said."""
    scratch = settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"export-{export_format}-", dir=scratch))
    try:
        exported = export_files(
            session=session, job_id=job_id, export_format=export_format, out_dir=folder / "out"
        )
        target = folder.with_suffix(".zip")
        # Stored, not deflated: ONNX and checkpoint weights barely compress.
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
            for path in exported.files:
                zf.write(path, path.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return target, exported
