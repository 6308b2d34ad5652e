"""The one training loop every dataset × model × loss goes through.

R replicas (one per seed) train in lockstep: each step takes one mini-batch per replica
(from that replica's own shuffled order), runs all R networks with batched matmuls, and
backpropagates the *sum* of the R mean losses, which gives every replica exactly the
gradient of its own loss. Nothing leaves the device inside the step loop except at
logging points.

Logged (see :func:`metric_names`) on the steps of :mod:`ce_vs_mse.schedule` (by default
log-spaced: every step at first, then ``trainer.per_decade`` points per decade of steps):
training scalars, i.e. the training loss of the mini-batch at the log step (before that
step's update), per-parameter gradient L2 norms, mean |∂ℓ/∂z| at the output pre-activation
(per example, i.e. the batch-mean gradient times the batch size), the share of saturated
output units (∂a/∂z < 0.01), the share of output units that are saturated *and* on the wrong
side of ½ from their one-hot target (:func:`ce_vs_mse.heads.wrong_side`; 0 for a linear head,
which never saturates) and the learning rate, also every ``log_every`` steps; accuracy,
evaluation CE and MSE, ECE, Brier score and the gradient ratio (:func:`evaluate`) on the test
split, on the validation split when the data has one (``dataset.val_fraction``) and on (up to
``eval_train_max`` examples of) the training split, at step 0 and also every ``eval_every``
steps; gradient histograms every ``hist_every_epochs`` epochs and at the last (0, the
default: none).

A replica has *diverged* when its logged training loss is non-finite or above
``DIVERGENCE_FACTOR`` times the loss of its first mini-batch (before any update, the
untrained network's loss); from then on it is no longer
logged, and training stops once every replica has diverged. :func:`train` returns what
happened (:class:`Outcome`); the recorder only writes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch
from torch.linalg import vector_norm
from tqdm.auto import tqdm

from ..core import calibration, heads, losses, optim, schedule, seeding
from ..core.data import Data
from ..core.models import ReplicaMLP, predict
from .plan import Plan
from .recorder import Recorder

log = logging.getLogger(__name__)

SATURATION = 0.01  # a unit is saturated when ∂a/∂z is below this
RATIO_QUANTILE = 0.1  # <split>/grad_ratio_q10: this quantile of the examples' gradient ratio
DIVERGENCE_FACTOR = 100.0  # a training loss this many times the untrained one has diverged


@dataclass
class ReplicaOutcome:
    """One replica's result: the first (step, epoch) whose test accuracy reached the target,
    the first step whose validation accuracy did (None without a validation split), the step
    at which it diverged, and the last logged value of every tag."""

    reached: tuple[int, int] | None = None
    val_reached: int | None = None
    diverged_at: int | None = None
    final: dict[str, float] = field(default_factory=dict)


@dataclass
class Outcome:
    steps: int
    replicas: list[ReplicaOutcome]


class _Watch:
    """Turns each logged row into the replicas' outcomes (reached, diverged, final)."""

    def __init__(self, n: int, target: float, recorder: Recorder):
        self.replicas = [ReplicaOutcome() for _ in range(n)]
        self.first_loss: list[float] = [math.inf] * n  # set by start()
        self.target, self.recorder = target, recorder

    def log(self, step: int, epoch: int, values: dict) -> None:
        rows = self.recorder.scalars(step, epoch, values)
        for r, (row, out) in enumerate(zip(rows, self.replicas, strict=True)):
            if out.diverged_at is not None:
                continue
            out.final.update(row)
            acc = row.get("test/accuracy")
            if acc is not None and out.reached is None and acc >= self.target:
                out.reached = (step, epoch)
            val_acc = row.get("val/accuracy")
            if val_acc is not None and out.val_reached is None and val_acc >= self.target:
                out.val_reached = step
            loss = row.get("train/loss")
            if loss is None:
                continue
            if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * self.first_loss[r]:
                out.diverged_at = step
                self.recorder.stop(r)

    def start(self, first_loss: torch.Tensor) -> None:
        """The loss of each replica's first mini-batch, before any update: (R,)."""
        self.first_loss = first_loss.cpu().tolist()

    @property
    def all_diverged(self) -> bool:
        return all(out.diverged_at is not None for out in self.replicas)


class _Estimate:
    """Says once, a few seconds in, how long a long run will take (a progress bar only shows
    on a terminal; a job's log, e.g. SLURM's, gets this line)."""

    AFTER_S, LONG_S = 5.0, 120.0  # measure this long; speak when the run takes longer

    def __init__(self, name: str, total: int, replicas: int):
        self.name, self.total, self.replicas = name, total, replicas
        self.start, self.done = time.perf_counter(), False

    def check(self, step: int) -> None:
        if self.done or step % 64:
            return
        elapsed = time.perf_counter() - self.start
        if elapsed < self.AFTER_S:
            return
        self.done = True
        left = elapsed / step * (self.total - step)
        if left > self.LONG_S:
            log.warning("%s: %d of %d steps (%d seed(s) in lockstep) in %.0f s; about %s "
                        "to go at this rate", self.name, step, self.total, self.replicas,
                        elapsed, _duration(left))


def _duration(seconds: float) -> str:
    """``3.0 min``, ``2.5 h``, ``579 days``."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds:.0f} s"


def _parameters(model: ReplicaMLP, prefix: str):
    """(tag, parameter) for every parameter tensor, tagged e.g. ``grad_norm/layer1.weight``."""
    return [(f"{prefix}/{name.removeprefix('layers.')}", p) for name, p in model.named_parameters()]


def split_names(data: Data | None) -> tuple[str, ...]:
    """The splits every evaluation measures: train and test, and val when ``data`` has one."""
    has_val = data is not None and data.x_val is not None
    return ("train", "val", "test") if has_val else ("train", "test")


def metric_names(model: ReplicaMLP, data: Data | None = None) -> list[str]:
    """Every scalar tag a run logs, in column order of metrics.csv (``val/`` tags only when
    ``data`` has a validation split)."""
    evals = [f"{split}/{m}" for split in split_names(data)
             for m in ("accuracy", "ce", "mse", "ece", "brier", "grad_ratio", "grad_ratio_q10")]
    grads = [tag for tag, _ in _parameters(model, "grad_norm")]
    return ["train/loss", *evals, "grad_ratio_uniform", *grads, "output/grad_z_abs_mean",
            "output/saturated_fraction", "output/saturated_wrong_fraction", "lr"]


@torch.no_grad()
def evaluate(model: ReplicaMLP, head: str, x: torch.Tensor, y: torch.Tensor,
             splits: dict[str, slice]) -> dict[str, torch.Tensor]:
    """Accuracy, evaluation CE and MSE, Brier score, expected calibration error (ECE) and the
    gradient ratio of every replica on each split (a slice of x (N, D) and y (N,)), from one
    forward pass over x; tensors of shape (R,) named ``<split>/<metric>``, and the ratio's
    uniform-output value ``grad_ratio_uniform``, a float.

    The gradient ratio (:func:`ce_vs_mse.core.losses.gradient_ratio`): squared error's
    ‖∂ℓ/∂z‖ over cross-entropy's at the current outputs, per example; ``grad_ratio`` is its
    mean over the split's examples, ``grad_ratio_q10`` its 10th percentile (both leave out
    examples fit exactly, which have none; NaN on a linear head)."""
    z = model(x)  # (R, N, K)
    y = y.expand(z.shape[0], -1)
    correct = (predict(z) == y).float()  # (R, N)
    p = calibration.probabilities(z, head)  # (R, N, C)
    per_example = {"accuracy": correct, **losses.evaluation_losses(z, y, head),
                   "brier": calibration.brier(p, y)}
    values = {f"{split}/{metric}": v[:, rows].mean(-1)
              for split, rows in splits.items() for metric, v in per_example.items()}
    confidence = p.amax(-1)  # (R, N): the probability of predict(z)'s class
    for split, rows in splits.items():  # ECE bins each split's examples: no per-example mean
        values[f"{split}/ece"] = calibration.expected_calibration_error(confidence[:, rows],
                                                                        correct[:, rows])
    # a softmax head's output is p, written out above: not computed again (heads.shifted_exp)
    ratio = losses.gradient_ratio(z, y, head, p if head == "softmax" else None)  # (R, N)
    for split, rows in splits.items():
        values[f"{split}/grad_ratio"] = ratio[:, rows].nanmean(-1)
        values[f"{split}/grad_ratio_q10"] = ratio[:, rows].nanquantile(RATIO_QUANTILE, dim=-1)
    values["grad_ratio_uniform"] = losses.uniform_gradient_ratio(head, z.shape[-1])
    return values


def _training_scalars(model, z, y, loss: losses.Bound, optimizer):
    """Scalars of the step just taken; z is the output pre-activation, with z.grad kept."""
    grad_z, z, head = z.grad, z.detach(), loss.head
    with torch.no_grad():
        per_example = loss.per_example(z, y)
    values = {"train/loss": per_example.mean(-1)}
    for tag, p in _parameters(model, "grad_norm"):
        values[tag] = vector_norm(p.grad, dim=tuple(range(1, p.grad.dim())))
    # Per example: the objective's gradient is 1/B of each example's, so the mean of
    # B·|∂/∂z| over B·K entries is the sum of |∂/∂z| over them divided by K.
    values["output/grad_z_abs_mean"] = vector_norm(grad_z, ord=1, dim=(1, 2)) / z.shape[-1]
    saturated = heads.slope(z, head) < SATURATION
    values["output/saturated_fraction"] = saturated.float().mean(dim=(1, 2))
    # the σ' trap: saturated, and on the wrong side of ½ from the target (a confident mistake)
    wrong = heads.wrong_side(z, losses.targets(y, z), head)
    values["output/saturated_wrong_fraction"] = (saturated & wrong).float().mean(dim=(1, 2))
    values["lr"] = optimizer.param_groups[0]["lr"]  # a plain float, the same for every replica
    return values


def train(model: ReplicaMLP, plan: Plan, data: Data, seeds: list[int],
          recorder: Recorder) -> Outcome:
    """Train all replicas (one per seed) as ``plan`` says for ``plan.trainer.epochs`` epochs,
    or until every one diverged."""
    device = data.x_train.device
    head, trainer_cfg, bound = plan.head, plan.trainer, plan.loss
    optimizer = optim.build(plan.optimizer, model.parameters())
    order_gens = [seeding.generator(s, "order") for s in seeds]
    n_train, batch = data.x_train.shape[0], trainer_cfg.batch_size
    steps_per_epoch = math.ceil(n_train / batch)
    when = schedule.from_config(trainer_cfg, steps_per_epoch)
    hist_every, epochs = trainer_cfg.hist_every_epochs, trainer_cfg.epochs

    n_eval = trainer_cfg.eval_train_max or n_train  # a fixed subset: the first n_eval examples
    parts = {"train": (data.x_train[:n_eval], data.y_train[:n_eval]),
             "val": (data.x_val, data.y_val), "test": (data.x_test, data.y_test)}
    parts = {split: parts[split] for split in split_names(data)}
    x_eval = torch.cat([x for x, _ in parts.values()])  # every split in one forward pass
    y_eval = torch.cat([y for _, y in parts.values()])
    rows, start = {}, 0  # each split's rows of x_eval
    for split, (_, y) in parts.items():
        rows[split], start = slice(start, start + len(y)), start + len(y)

    def evaluate_all() -> dict[str, torch.Tensor]:
        return evaluate(model, head, x_eval, y_eval, rows)

    watch = _Watch(len(seeds), trainer_cfg.target_accuracy, recorder)
    watch.log(0, 0, evaluate_all())
    step = 0
    total = trainer_cfg.epochs * steps_per_epoch
    bar = tqdm(total=total, desc=plan.name, disable=None, leave=False)
    eta = _Estimate(plan.name, total, len(seeds))
    for epoch in range(1, trainer_cfg.epochs + 1):
        order = torch.stack([torch.randperm(n_train, generator=g) for g in order_gens])
        order = order.to(device)  # (R, N): replica r's shuffled example indices
        for i in range(steps_per_epoch):
            idx = order[:, i * batch:(i + 1) * batch]  # (R, B)
            scalars_now = when.scalars(step + 1)
            z = model(data.x_train[idx])  # (R, B, K)
            if scalars_now:
                z.retain_grad()
            y = data.y_train[idx]
            if step == 0:  # the untrained network's loss: what divergence is measured against
                with torch.no_grad():
                    watch.start(bound.per_example(z.detach(), y).mean(-1))
            optimizer.zero_grad(set_to_none=True)
            bound.objective(z, y).backward()
            optimizer.step()
            step += 1
            bar.update()
            eta.check(step)
            values = {}
            if scalars_now:
                values |= _training_scalars(model, z, y, bound, optimizer)
            if when.evaluation(step):
                values |= evaluate_all()
            if values:
                watch.log(step, epoch, values)
                if watch.all_diverged:
                    break
            epoch_end = i == steps_per_epoch - 1
            if hist_every and epoch_end and (epoch % hist_every == 0 or epoch == epochs):
                recorder.histograms(step, {tag: p.grad for tag, p in _parameters(model, "grad")})
        if watch.all_diverged:
            break
    bar.close()
    return Outcome(step, watch.replicas)
