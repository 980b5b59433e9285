"""The Start Training form's Estimate button: a dry run of the form, answered in words."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from voicesmith.deps import EnqueueEstimate, SessionDep, SettingsDep
from voicesmith.training import estimates
from voicesmith.web.jobs import start_request
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
    dataset_name: Annotated[str, Form(max_length=256)] = "",
    epochs: Annotated[str, Form(max_length=32)] = "10",
    batch_size: Annotated[str, Form(max_length=32)] = "4",
    base_model: Annotated[str, Form(max_length=2048)] = "",
    learning_rate: Annotated[str, Form(max_length=32)] = "",
    epochs_auto: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Estimate: queue a dry run of the form as it is, and show its answer (or its progress)."""
    form = {"dataset_name": dataset_name, "epochs": epochs, "batch_size": batch_size}
    optional = {
        "base_model": base_model,
        "learning_rate": learning_rate,
        "epochs_auto": epochs_auto,
    }
    body = start_request(form, optional)
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
