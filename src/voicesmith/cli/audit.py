"""`voicesmith audit export`: the audit trail as CSV, for a period."""

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope

audit_app = typer.Typer(help="Read the audit trail.", no_args_is_help=True)


def _moment(value: str | None) -> datetime | None:
    """An ISO 8601 date or time from the command line; a bad one stops with its usage."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is no ISO 8601 date or time; give 2026-11-01 or 2026-11-01T09:30"
        ) from None


@audit_app.command("export")
def export(
    since: Annotated[str, typer.Option(help="first day or time, ISO 8601 (UTC without a zone)")],
    until: Annotated[str | None, typer.Option(help="end, exclusive, ISO 8601")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file; stdout without")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the audit rows from --since (to --until) as CSV, oldest first, with a header."""
    from voicesmith.auth import audit_log

    filters = audit_log.Filters(since=_moment(since), until=_moment(until))
    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        # Retention runs on each export too, so no export holds rows past their time.
        audit_log.purge(session=session, days=settings.audit_retention_days)
        or_exit(filters.conditions)  # since after until: said before any output
        if out is None:
            sys.stdout.writelines(audit_log.export_csv(session=session, filters=filters))
            return
        with out.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(audit_log.export_csv(session=session, filters=filters))
    typer.echo(f"wrote {out}", err=True)
