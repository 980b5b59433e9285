"""Reading the audit trail: filtered pages newest first, CSV export, and retention."""

import csv
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.auth.audit import AuditEvent
from voicesmith.db import session_scope, utcnow
from voicesmith.errors import BadInput

log = logging.getLogger("voicesmith.audit")
MAX_LIMIT = 1000
COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "route",
    "voice",
    "job_id",
    "checkpoint",
    "text_length",
    "text_sha256",
    "text",
    "audio_seconds",
    "detail",
)
EXPORT_BATCH = 500


@dataclass(frozen=True)
class Filters:
    """Which rows to show; None matches any."""

    actor: str | None = None
    voice: str | None = None
    action: str | None = None
    route: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses these filters mean; BadInput when since is after until."""
        since, until = _aware(self.since), _aware(self.until)
        if since is not None and until is not None and since > until:
            raise BadInput(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
        found: list[ColumnElement[bool]] = [
            column == value
            for column, value in (
                (AuditEvent.actor, self.actor),
                (AuditEvent.voice, self.voice),
                (AuditEvent.action, self.action),
                (AuditEvent.route, self.route),
            )
            if value
        ]
        if since is not None:
            found.append(AuditEvent.at >= since)
        if until is not None:
            found.append(AuditEvent.at < until)
        return found


def moment(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or time from a query or a form; BadInput names the field."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"{name} '{value[:64]}' is no ISO 8601 date or time; give 2026-11-01 or "
            "2026-11-01T09:30:00Z"
        ) from None


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone read as UTC, as every stored time is."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def page(
    *, session: Session, filters: Filters, limit: int, offset: int = 0, cursor: int | None = None
) -> dict[str, Any]:
    """A page of matching rows, newest first, with the total and the cursor of the next page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    where = filters.conditions()
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    query = select(AuditEvent).where(*where)
    if cursor is not None:
        query = query.where(AuditEvent.id < cursor)
    # One row more than asked says whether another page follows.
    found = session.scalars(query.order_by(AuditEvent.id.desc()).offset(offset).limit(limit + 1))
    rows = list(found)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [as_dict(row) for row in rows],
        "total": total,
        "next_cursor": rows[-1].id if more else None,
    }


def as_dict(row: AuditEvent) -> dict[str, Any]:
    """A row as the API and the CSV show it."""
    return {name: getattr(row, name) for name in COLUMNS}


def export_csv(*, session: Session, filters: Filters) -> Iterator[str]:
    """The matching rows, oldest first, as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    last = 0
    while True:
        query = select(AuditEvent).where(*filters.conditions(), AuditEvent.id > last)
        rows = list(session.scalars(query.order_by(AuditEvent.id).limit(EXPORT_BATCH)))
        for row in rows:
            writer.writerow(_csv_cell(value) for value in as_dict(row).values())
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1].id


def _csv_cell(value: object) -> object:
    """A value as a CSV cell: times in ISO 8601, the detail as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def purge(*, session: Session, days: int) -> int:
    """Delete rows older than `days` (0 keeps every row); how many went."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    done = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    session.commit()
    return int(getattr(done, "rowcount", 0) or 0)


class RetentionTimer(threading.Thread):
    """Deletes the rows past retention every `every` seconds, until its event is set."""

    def __init__(
        self, *, sessions: sessionmaker[Session], days: int, every: float, stop: threading.Event
    ) -> None:
        super().__init__(name="voicesmith-audit-retention", daemon=True)
        self.sessions, self.days, self.every, self.stop = sessions, days, every, stop

    def run(self) -> None:
        """Purge on each tick; a database outage only skips a tick."""
        while not self.stop.wait(self.every):
            try:
                with session_scope(self.sessions) as session:
                    purge(session=session, days=self.days)
            except Exception:  # the next tick retries; rows past retention wait a little longer
                log.exception("audit retention failed; retrying at the next tick")
