"""Huey task registration: thin wrappers that hand a job id to the runner."""

import threading
from collections.abc import Callable

from huey.api import Huey

from voicesmith.training import liveness, probing, runner

TRAIN_TASK = "voicesmith.train"
ESTIMATE_TASK = "voicesmith.estimate"


def register(
    huey: Huey, context: Callable[[], runner.WorkerContext | None]
) -> Callable[[str], object]:
    """Register the training task and return the function that enqueues it."""

    @huey.task(name=TRAIN_TASK)
    def train(job_id: str) -> None:
        ctx = context()
        if ctx is None:
            raise RuntimeError("this process has no worker; run `voicesmith worker`")
        runner.run_job(ctx, job_id)

    return train


def register_estimates(
    huey: Huey, context: Callable[[], runner.WorkerContext | None]
) -> Callable[[str], object]:
    """Register the dry-run task on the training queue, so a probe never runs beside a job."""

    @huey.task(name=ESTIMATE_TASK)
    def estimate(estimate_id: str) -> None:
        ctx = context()
        if ctx is None:
            raise RuntimeError("this process has no worker; run `voicesmith worker`")
        probing.run_estimate(ctx, estimate_id)

    return estimate


class TrainingQueue:
    """The training queue as the heartbeat sees it: the enqueue function and its Huey."""

    def __init__(self, enqueue: Callable[[str], object]) -> None:
        self.enqueue = enqueue

    def put(self, job_id: str) -> None:
        """Queue a job id for training."""
        self.enqueue(job_id)

    def queued(self) -> set[str]:
        """The job ids waiting in the queue for training."""
        huey: Huey = self.enqueue.huey  # type: ignore[attr-defined]
        return {str(t.args[0]) for t in huey.pending() if t.name == TRAIN_TASK and t.args}


def start_worker_context(
    *,
    settings,
    sessions,
    env=None,
    gpus=(),
    requeue: Callable[[str], object] | None = None,
    stop_event: threading.Event | None = None,
) -> runner.WorkerContext:
    """A worker context: orphaned jobs failed, pending ones queued again, heartbeat running."""
    ctx = runner.WorkerContext(
        settings=settings,
        sessions=sessions,
        worker_id=runner.worker_identity(settings.worker_host),
        stop_event=stop_event or threading.Event(),
        env=env or {},
        gpus=tuple(gpus),
    )
    for job_id in runner.recover_orphans(ctx):
        runner.log.warning("job %s was left training by a stopped worker; marked failed", job_id)
    if requeue is not None:
        # A queue that lost its entries (Redis without persistence, a deleted queue.db) must
        # not strand pending jobs; a copy that is already queued is skipped when claimed.
        for job_id in runner.pending_jobs(ctx):
            requeue(job_id)
    heartbeat = liveness.Heartbeat(
        sessions=sessions,
        settings=settings,
        stop_event=ctx.stop_event,
        worker_id=ctx.worker_id,
        gpus=",".join(ctx.gpus) or None,
        queue=TrainingQueue(requeue) if requeue is not None else None,
    )
    heartbeat.tick()  # registered before the first job arrives
    heartbeat.start()
    ctx.heartbeat = heartbeat
    return ctx
