"""When the trainer logs: log-spaced steps (every step first, then a fixed share of the step
apart), or epoch ends as before, plus the fixed cadences and the last step."""

import pytest

from ce_vs_mse.config.schema import ConfigError, validate
from ce_vs_mse.core.schedule import Schedule, log_spaced


def test_log_spaced_steps_are_every_step_first_then_a_fixed_share_apart():
    steps = sorted(log_spaced(900, 48))
    assert steps[:20] == list(range(1, 21)) and steps[-1] <= 900
    gaps = [(b - a) / a for a, b in zip(steps, steps[1:], strict=False) if b - a > 1]
    assert max(gaps) < 0.08 and min(gaps) > 0.03  # 10^(1/48) = 1.049, rounded to whole steps
    assert len(steps) < 100  # a run of S steps logs about 48 log10(S) points
    assert len(log_spaced(180_000, 48)) < 2.2 * len(steps)  # 200x the steps, ~2x the points


def test_the_last_step_is_always_logged_and_the_cadences_add_points():
    when = Schedule(last=100, steps_per_epoch=45, per_decade=4, log_every=30, eval_every=0)
    spaced = log_spaced(100, 4)  # 1, 2, 3, 6, 10, 18, 32, 56, 100
    assert [s for s in range(1, 101) if when.evaluation(s)] == sorted(spaced)
    assert [s for s in range(1, 101) if when.scalars(s)] == sorted(spaced | {30, 60, 90})
    assert not when.evaluation(45)  # no epoch ends with a log-spaced schedule


def test_per_decade_zero_logs_at_epoch_ends_as_before():
    when = Schedule(last=90, steps_per_epoch=45, per_decade=0, log_every=10, eval_every=0)
    assert [s for s in range(1, 91) if when.evaluation(s)] == [45, 90]
    assert [s for s in range(1, 91) if when.scalars(s)] == [10, 20, 30, 40, 45, 50, 60, 70,
                                                              80, 90]


def test_a_negative_cadence_is_rejected_before_training(make_cfg):
    for key in ("per_decade", "log_every", "eval_every"):
        with pytest.raises(ConfigError, match=f"trainer.{key}=-1 must be >= 0"):
            validate(make_cfg(f"trainer.{key}=-1"))


def test_a_huge_per_decade_logs_every_step_at_once():
    """trainer.per_decade=1e9 used to spin for minutes before the first step: the loop took
    10^9 · log10(S) tries to find S steps."""
    assert log_spaced(5000, 10**9) == frozenset(range(1, 5001))
    # where the points are just under a step apart, the shortcut gives what the loop gives
    per_decade = 10_000
    last = int(1 / (10 ** (1 / per_decade) - 1)) - 1
    steps, k = set(), 0
    while (step := round(10 ** (k / per_decade))) <= last:
        steps.add(step)
        k += 1
    assert log_spaced(last, per_decade) == frozenset(steps) == frozenset(range(1, last + 1))
