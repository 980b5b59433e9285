"""The Start Training form's Estimate button: a dry run of the form, answered in words."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from voicesmith.deps import EnqueueEstimate, SessionDep, SettingsDep
from voicesmith.training import estimates
from voicesmith.web.jobs import StartForm
from voicesmith.web.render import fragment, html
from voicesmith.web.session import ActionAdmin

router = APIRouter(prefix="/admin/training")
# The page polls every 2 s rather than holding a request open for the whole probe.
WAIT_SECONDS = 5.0


@router.post("/estimate")
def estimate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    enqueue: EnqueueEstimate,
    _admin: ActionAdmin,
    body: StartForm,
) -> Response:
    """Estimate: queue a dry run of the form as it is, and show its answer (or its progress)."""
    answer = estimates.request_estimate(
        session=session, settings=settings, request=body, enqueue=enqueue, wait_seconds=WAIT_SECONDS
    )
    return html(fragment(request, "_estimate.html", {"answer": answer}))


@router.get("/estimate/{estimate_id}")
def poll(
    request: Request, estimate_id: str, settings: SettingsDep, _admin: ActionAdmin
) -> Response:
    """The answer so far, for the page's poll."""
    answer = estimates.get_estimate(settings=settings, estimate_id=estimate_id)
    return html(fragment(request, "_estimate.html", {"answer": answer}))
