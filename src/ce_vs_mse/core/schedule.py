"""When the trainer logs: the steps that get training scalars and the steps that get an
evaluation.

Both follow one base schedule, plus a fixed cadence each:

- ``per_decade`` > 0 (the default): log-spaced steps, round(10^(k / per_decade)) for
  k = 0, 1, …: every step at first, then points a factor 10^(1 / per_decade) apart, so the
  spacing is a fixed share of the step (12 a decade: 21 %; 48: 5 %). Dense where curves
  part and the target is crossed, sparse later: a run of S steps logs about
  per_decade · log10(S) points, so the cost of logging shrinks as runs grow.
- ``per_decade`` = 0: every epoch end (how the suite logged before the log-spaced schedule).

Training scalars are also logged every ``log_every`` steps and the evaluation runs every
``eval_every`` steps when those are > 0. The last step always gets both, so a run's final
values are its last step's; the trainer also evaluates the untrained network at step 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def log_spaced(last: int, per_decade: int) -> frozenset[int]:
    """The steps round(10^(k / per_decade)), k = 0, 1, …, up to ``last``: at most ``last``
    of them, found in as many tries (a huge ``per_decade`` takes every step, at once)."""
    if last * (10 ** (1 / per_decade) - 1) < 1:  # consecutive points less than a step apart
        return frozenset(range(1, last + 1))
    steps, k = set(), 0
    while (step := round(10 ** (k / per_decade))) <= last:
        steps.add(step)
        k += 1
    return frozenset(steps)


@dataclass
class Schedule:
    last: int  # the run's last step
    steps_per_epoch: int
    per_decade: int
    log_every: int
    eval_every: int
    spaced: frozenset[int] = field(init=False)

    def __post_init__(self):
        self.spaced = log_spaced(self.last, self.per_decade) if self.per_decade else frozenset()

    def _base(self, step: int) -> bool:
        if step == self.last:
            return True
        if self.per_decade:
            return step in self.spaced
        return step % self.steps_per_epoch == 0

    def scalars(self, step: int) -> bool:
        """Whether training scalars are logged at ``step`` (counted from 1)."""
        return self._base(step) or (self.log_every > 0 and step % self.log_every == 0)

    def evaluation(self, step: int) -> bool:
        """Whether the model is evaluated after ``step`` (counted from 1)."""
        return self._base(step) or (self.eval_every > 0 and step % self.eval_every == 0)


def from_config(trainer_cfg, steps_per_epoch: int) -> Schedule:
    """The schedule of a ``trainer`` config (configs/trainer/default.yaml)."""
    return Schedule(trainer_cfg.epochs * steps_per_epoch, steps_per_epoch,
                    trainer_cfg.per_decade, trainer_cfg.log_every, trainer_cfg.eval_every)
