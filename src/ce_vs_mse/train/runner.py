"""One job: from a resolved configuration to finished run folders.

config -> validate -> load data -> claim each seed's folder (skip those done, or being trained
by another process) -> build the replicated model -> train (trainer.py) -> summary.json per
seed. Every check of the configuration runs before training; an error while training is
recorded as ``failed`` in the seeds' summaries and returned, not raised.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from .. import forks
from ..config.schema import ConfigError, check_keys, validate
from ..core import calibration
from ..core import data as datasets
from ..store import layout, provenance
from ..store import summary as summaries
from ..store.lock import Lock, holder, try_lock
from ..store.summary import RunSummary
from . import board, recorder, trainer
from . import plan as plans

log = logging.getLogger(__name__)


@dataclass
class SeedResult:
    """What became of one seed: ``done``, ``diverged``, ``failed``, ``skipped`` (finished
    before) or ``busy`` (another process is training it)."""

    seed: int
    status: str
    accuracy: float | None = None  # final test accuracy
    steps_to_target: int | None = None
    note: str = ""  # what else to say; a skipped seed's: the status its summary records

    @property
    def outcome(self) -> str:
        """``done`` or ``diverged`` for a seed finished now or before; else its status."""
        return self.note if self.status == "skipped" else self.status


@dataclass
class Job:
    """The outcome of one job (one configuration, all its seeds)."""

    name: str  # <experiment>/<run name>
    folder: str
    seeds: list[SeedResult] = field(default_factory=list)
    wall_s: float = 0.0
    error: str | None = None
    params: dict = field(default_factory=dict)  # the plan's: schema.params, the resolved head

    @property
    def run_dirs(self) -> list[Path]:
        """The seeds' folders, in the order of ``seeds``."""
        return [layout.seed_dir(self.folder, r.seed) for r in self.seeds]

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.seeds)


def resolve_device(name: str) -> torch.device:
    if name == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "cuda":
        raise ConfigError("device=cuda but no CUDA GPU is visible; choose one of: auto, cpu")
    return torch.device("cpu")


def one_line(err: BaseException) -> str:
    """An error as one line. An OSError: its type, reason and file. Hydra's and OmegaConf's
    composition errors: their message and cause without the lines about their internals.
    Anything else: its type and the first line of its message."""
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return f"{type(err).__name__}: {err.strerror}{where}"
    if type(err).__module__.startswith(("hydra", "omegaconf")):
        lines: list[str] = []
        for e in (err, err.__cause__):
            for line in str(e or "").splitlines():
                line = line.strip()
                if line.startswith("Config search path"):
                    break
                if line and not line.startswith(("full_key", "reference_type", "object_type")):
                    lines.append(line)
        text = "; ".join(dict.fromkeys(lines))
        return text.replace(":; ", ": ").replace(".; ", ". ")
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def run(cfg, experiment: str = "default", overrides: list[str] = (),
        claimed: Callable[[dict[Path, RunSummary]], object] | None = None) -> Job:
    """Train ``cfg`` for every seed in ``cfg.seeds`` that is not finished already.
    ``claimed`` is told the folders this process is about to train, each with the summary
    that identifies its run (a sweep uses it to mark them failed should the process be
    killed)."""
    check_keys(cfg)
    validate(cfg)
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
        # numpy's BLAS too: TensorBoard's histogram code wakes its spinning worker threads,
        # which then compete with torch's for the same cores.
        threadpool_limits(cfg.threads, user_api="blas")
    # The same config and seed give identical numbers (on CPU; CUDA kernels may still differ).
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    data = datasets.load(cfg.dataset)
    if cfg.trainer.batch_size > data.x_train.shape[0]:
        raise ConfigError(f"trainer.batch_size={cfg.trainer.batch_size} is larger than the "
                          f"training split ({data.x_train.shape[0]} examples)")
    plan = plans.make(cfg, experiment, list(overrides), data.n_features, data.n_classes)
    # one lockstep group's weights, gradients and optimizer state (float32, ~4 copies)
    group = min(len(cfg.seeds), group_size(plan.n_parameters))
    datasets.fits_in_memory(plan.n_parameters * group,
                            f"model.hidden={list(cfg.model.hidden)} on {data.n_features} inputs "
                            f"({plan.n_parameters} parameters × {group} seed(s) in lockstep)",
                            per_value=16)
    job = Job(plan.name, str(plan.folder), params=plan.params)
    locks: list[Lock] = []
    start = time.perf_counter()
    try:
        todo = _claim(plan, list(cfg.seeds), cfg.trainer.skip_done, job, locks)
        if todo and claimed:
            claimed({plan.seed_dir(s): plan.summary(s) for s in todo})
        if todo:
            _train(plan, data, device, todo, job)
    except Exception as err:  # a run-time failure (e.g. a folder that cannot be written)
        job.error = one_line(err)
        for lock in locks:  # the claimed seeds: say why, where the folder can be written
            _record_failure(lock.path.parent, plan, job.error)
        job.seeds = [r for r in job.seeds if r.status in ("skipped", "busy")]
        job.seeds += [SeedResult(s, "failed", note=job.error) for s in cfg.seeds
                      if s not in {r.seed for r in job.seeds}]
        log.error("%s failed: %s", job.name, job.error)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (forks.Terminated): say so, stop
        why = ("terminated (SIGTERM)" if isinstance(stop, forks.Terminated)
               else "interrupted (Ctrl-C)")
        for lock in locks:
            _record_failure(lock.path.parent, plan, why)
        raise
    finally:
        for lock in locks:
            lock.release()
    job.wall_s = time.perf_counter() - start
    job.seeds.sort(key=lambda r: list(cfg.seeds).index(r.seed))
    return job


def _record_failure(folder: Path, plan: plans.Plan, error: str) -> None:
    if summaries.is_done(folder):  # finished before the failure
        return
    with contextlib.suppress(OSError):  # else the folder cannot be written either
        plan.summary(layout.seed_of(folder), error=error).write(folder)


def _claim(plan: plans.Plan, seeds: list[int], skip_done: bool, job: Job,
           locks: list) -> list[int]:
    """The seeds to train: each not finished and now locked by this process (its lock is
    appended to ``locks``); the others go into ``job.seeds`` as skipped or busy."""
    todo = []
    for s in seeds:
        folder = plan.seed_dir(s)
        finished = _finished(folder) if skip_done else None
        if finished is not None:  # decided before any write: read-only storage still works
            job.seeds.append(_skipped(s, finished))
            continue
        lock = try_lock(folder)
        if lock is None:
            note = f"{holder(folder)} is training it"
            log.warning("%s/seed=%d: %s; skipped", job.name, s, note)
            job.seeds.append(SeedResult(s, "busy", note=note))
            continue
        try:
            summary = summaries.verify(folder)
        except summaries.Unfinished as why:
            summary = None
            if (folder / layout.SUMMARY).exists() or (folder / layout.PARTIAL).exists():
                log.warning("%s/seed=%d: %s; training it again", job.name, s, why)
        if summary is not None and skip_done:
            lock.release()
            job.seeds.append(_skipped(s, summary))
            continue
        locks.append(lock)
        todo.append(s)
    skipped = job.count("skipped")
    if skipped:
        log.info("%s: %d of %d seeds already done, skipped", job.name, skipped, len(seeds))
    return todo


def _skipped(seed: int, summary: RunSummary) -> SeedResult:
    """A seed finished before: what its summary says."""
    return SeedResult(seed, "skipped", summary.final.get("test/accuracy"),
                      summary.steps_to_target, summary.status)


def _finished(folder: Path) -> RunSummary | None:
    """The folder's summary if it is a finished run, read without taking its lock (a finished
    run is never written again while trainer.skip_done holds), else None."""
    try:
        return summaries.verify(folder)
    except summaries.Unfinished:
        return None


# Replicas stop paying once a lockstep group's weights and activations outgrow the caches:
# replica-steps/s peak at a group size that shrinks as networks grow (benchmarks/scaling.py,
# BENCHMARKS.md "How cost grows"). So a group holds at most this many parameters, all
# replicas together.
GROUP_PARAMETERS = 1_300_000


def group_size(parameters: int) -> int:
    """How many replicas of ``parameters`` parameters each to train in one lockstep group."""
    return max(1, GROUP_PARAMETERS // parameters)


def _train(plan: plans.Plan, data, device: torch.device, todo: list[int], job: Job) -> None:
    """Train the seeds ``todo`` (their folders locked) in lockstep groups of the best size
    (:func:`group_size`; each seed's numbers are the same whatever its group) and write their
    summaries."""
    size = group_size(plan.n_parameters)
    data = data.to(device)
    for first in range(0, len(todo), size):
        _train_group(plan, data, device, todo[first:first + size], job)


def _train_group(plan: plans.Plan, data, device: torch.device, todo: list[int], job: Job) -> None:
    """Train the seeds ``todo`` in lockstep and write their summaries."""
    run_dirs = [plan.seed_dir(s) for s in todo]
    model = plan.build_model(todo).to(device)
    rec = recorder.Recorder(run_dirs, trainer.metric_names(model, data))
    origin = provenance.collect()
    start = time.perf_counter()
    swept = board.swept(plan.experiment, plan.overrides, plan.cfg.seeds)
    try:
        for s, writer in zip(todo, rec.writers, strict=True):
            (writer.run_dir / layout.CONFIG).write_text(plan.config_yaml(s))
            writer.hparams({**plan.params, "seed": s}, swept)
        outcome = trainer.train(model, plan, data, todo, rec)
        rec.steps_to_target([out.reached[0] if out.reached else None for out in outcome.replicas])
        with torch.no_grad():  # the trained networks' reliability diagram on the test split
            diagrams = calibration.reliability(model(data.x_test).cpu(), data.y_test.cpu(),
                                               plan.head)
    except BaseException:
        rec.close(keep_metrics=False)
        raise
    rec.close()
    wall = time.perf_counter() - start
    for s, folder, out, diagram in zip(todo, run_dirs, outcome.replicas, diagrams, strict=True):
        status = "diverged" if out.diverged_at is not None else "done"
        reached = out.reached or (None, None)
        plan.summary(
            s, status, diverged_at_step=out.diverged_at, steps=outcome.steps,
            target_accuracy=plan.trainer.target_accuracy, steps_to_target=reached[0],
            epochs_to_target=reached[1], val_steps_to_target=out.val_reached, final=out.final,
            reliability=diagram if status == "done" else None, logging=plan.logging,
            overrides=list(plan.overrides), provenance=origin, wall_time_s=round(wall, 3),
            replicas_in_lockstep=len(todo), device=str(device),
        ).write(folder)
        note = f"diverged at step {out.diverged_at}" if out.diverged_at is not None else ""
        job.seeds.append(SeedResult(s, status, out.final.get("test/accuracy"), reached[0], note))
    log.info("%s: %d seed(s) trained in %.1f s", job.name, len(todo), wall)
