"""HTTP pieces shared by the JSON dataset routes and the web pages."""

from pathlib import Path

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask


def zip_download(path: Path, name: str) -> FileResponse:
    """A dataset's zip as a download that deletes its temporary file once sent."""
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"{name}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
