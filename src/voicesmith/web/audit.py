"""The Audit tab: the audit trail's rows, filtered and paged as GET /api/v1/admin/audit does."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from voicesmith.auth import audit_log
from voicesmith.auth.audit import Action
from voicesmith.deps import SessionDep
from voicesmith.errors import BadInput
from voicesmith.web.render import page
from voicesmith.web.session import PageAdmin

router = APIRouter()
PAGE_ROWS = 100
Field = Annotated[str, Query(max_length=128)]


@router.get("/admin/audit")
def audit_tab(
    request: Request,
    session: SessionDep,
    admin: PageAdmin,
    actor: Field = "",
    voice: Field = "",
    action: Field = "",
    route: Field = "",
    since: Field = "",
    until: Field = "",
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Who spoke which voice and who changed what, newest first, with filters."""
    shown = {"actor": actor, "voice": voice, "action": action, "route": route}
    shown |= {"since": since, "until": until}
    context = {"tab": "audit", "actions": [a.value for a in Action], **shown, "error": ""}
    try:
        filters = _filters(shown)
        found = audit_log.page(session=session, filters=filters, limit=PAGE_ROWS, cursor=cursor)
    except BadInput as exc:
        context |= {"error": exc.detail, "items": [], "total": 0, "older": None}
        return page(request, "audit.html", context, user=admin, status_code=422)
    kept = {k: v for k, v in shown.items() if v}
    older = found["next_cursor"]
    context |= {
        "items": found["items"],
        "total": found["total"],
        "older": f"?{urlencode({**kept, 'cursor': older})}" if older else None,
        "newest": f"?{urlencode(kept)}" if cursor else None,
    }
    return page(request, "audit.html", context, user=admin)


def _filters(shown: dict[str, str]) -> audit_log.Filters:
    """The form's fields as filters; BadInput names a field that is not understood."""
    if shown["action"] and shown["action"] not in {a.value for a in Action}:
        raise BadInput(f"action '{shown['action']}' is not one the audit records")
    return audit_log.Filters(
        actor=shown["actor"] or None,
        voice=shown["voice"] or None,
        action=shown["action"] or None,
        route=shown["route"] or None,
        since=audit_log.moment("since", shown["since"]),
        until=audit_log.moment("until", shown["until"]),
    )
