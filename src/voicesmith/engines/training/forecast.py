"""The dry run's arithmetic: a whole job's training time from a few measured steps. Torch-free."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    """What the probe timed, in seconds; a batch's size is its clips x its longest clip."""

    longest: tuple[float, float]  # (padded size, seconds a step) of the longest clips' batch
    shortest: tuple[float, float]  # the same for the shortest clips' batch
    first_step_extra: float  # what the process's first step costs beyond a steady one
    evaluation: float  # one evaluation pass and the test sentences
    save: float  # one checkpoint written
    score_first: float = 0.0  # the first scored evaluation (its models loaded), save included
    score_again: float = 0.0  # a later one, save included


@dataclass(frozen=True)
class Plan:
    """The job's shape: its batches' padded sizes in loader order, its steps, its scoring."""

    batch_sizes: list[float]
    total_steps: int
    scoring: bool = False
    score_budget: float = 0.15


def step_seconds(measured: Measured, size: float) -> float:
    """A step's time for a batch of this padded size, on the line through the two measured."""
    (big, slow), (small, fast) = measured.longest, measured.shortest
    if big <= small:
        return slow
    return max(0.0, fast + (slow - fast) * (size - small) / (big - small))


def epochs(measured: Measured, plan: Plan) -> list[float]:
    """Seconds of the steps of each epoch (or part of one) the job trains."""
    per_epoch = [step_seconds(measured, size) for size in plan.batch_sizes] or [0.0]
    found, step = [], 0
    while step < plan.total_steps:
        steps = min(len(per_epoch), plan.total_steps - step)
        found.append(sum(per_epoch[:steps]))
        step += steps
    return found


def training_seconds(measured: Measured, plan: Plan) -> float:
    """The job's time in its training phase: steps, evaluations, test sentences and scoring."""
    elapsed, spent, last = measured.first_step_extra, 0.0, 0.0
    parts = epochs(measured, plan)
    for n, steps in enumerate(parts, 1):
        elapsed += steps + measured.evaluation + measured.save
        if not plan.scoring:
            continue
        # The Scorer's own rule: skip an evaluation that would overrun the budget, never the last.
        if n == len(parts) or spent + last <= plan.score_budget * (elapsed - spent):
            last = measured.score_again if spent else measured.score_first
            spent += last
            elapsed += last
    return elapsed


def padded_sizes(lengths: list[float], batch_size: int) -> list[float]:
    """Each batch's clips x its longest clip, for lengths sorted as the loader batches them."""
    chunks = [lengths[i : i + batch_size] for i in range(0, len(lengths), batch_size)]
    return [max(chunk) * len(chunk) for chunk in chunks]
