"""The dry run's wording and arithmetic, without a probe."""

import pytest

from voicesmith.engines.training import forecast
from voicesmith.web.words import duration, estimate

DONE = {
    "status": "done",
    "device": "cpu",
    "estimated_seconds": 3 * 3600 + 10 * 60,
    "fits": True,
    "batch_size": 4,
    "suggested_batch_size": 4,
    "memory_limit_mb": 2048,
    "source": "measured",
}


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "0 s"), (42.4, "42 s"), (90, "2 min"), (3599, "1 h"), (11400, "3 h 10 min"),
     (50 * 3600, "2 days 2 h"), (48 * 3600, "2 days")],
)  # fmt: skip
def test_durations_are_said_as_people_say_them(seconds, said):
    assert duration(seconds) == said


def test_an_estimate_that_fits_says_time_device_and_batch():
    assert estimate(DONE) == "about 3 h 10 min on this CPU; fits in memory with batch size 4"


def test_an_estimate_that_does_not_fit_names_the_limit_and_the_batch_that_fits():
    said = estimate(
        {**DONE, "device": "cuda", "fits": False, "batch_size": 16, "suggested_batch_size": 8}
    )
    assert said == (
        "about 3 h 10 min on this GPU; does not fit in 2,048 MB at batch size 16; batch size 8 fits"
    )


def test_stored_waiting_and_failed_estimates_say_so():
    stored = estimate({**DONE, "source": "stored", "measured_at": "2026-11-30T18:00:00+00:00"})
    assert stored.endswith("(measured earlier, 2026-11-30 18:00)")
    assert "worker" in estimate({"status": "queued"})
    assert estimate({"status": "failed", "detail": "no room"}) == "The dry run failed: no room"


def test_step_times_lie_on_the_line_through_the_two_measured_batches():
    measured = forecast.Measured((400.0, 4.0), (100.0, 1.0), 0.0, evaluation=0.0, save=0.0)
    assert forecast.step_seconds(measured, 250.0) == pytest.approx(2.5)
    assert forecast.step_seconds(measured, 0.0) == 0.0  # never below nothing


def test_the_forecast_adds_each_epochs_steps_evaluation_save_and_first_step():
    measured = forecast.Measured((8.0, 2.0), (4.0, 1.0), 5.0, evaluation=3.0, save=1.0)
    plan = forecast.Plan(forecast.padded_sizes([1, 2, 3, 4], 2), total_steps=5)
    assert plan.batch_sizes == [4, 8]
    # epochs of 1+2, 1+2 and 1 step seconds; three evaluations and saves; the first step's set-up
    assert forecast.epochs(measured, plan) == [3.0, 3.0, 1.0]
    assert forecast.training_seconds(measured, plan) == pytest.approx(5 + 7 + 3 * 4)


def test_scoring_follows_the_scorers_budget_and_always_scores_the_last_evaluation():
    measured = forecast.Measured(
        (1.0, 10.0), (1.0, 10.0), 0.0, evaluation=0.0, save=0.0, score_first=6.0, score_again=2.0
    )
    unbounded = forecast.Plan([1.0], total_steps=3, scoring=True, score_budget=10.0)
    assert forecast.training_seconds(measured, unbounded) == pytest.approx(30 + 6 + 2 + 2)
    # A 15% budget: the first (6 s on 10 s) fits, the second would overrun, the last is scored.
    tight = forecast.Plan([1.0], total_steps=3, scoring=True, score_budget=0.15)
    assert forecast.training_seconds(measured, tight) == pytest.approx(30 + 6 + 2)
