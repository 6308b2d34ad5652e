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
from omegaconf import OmegaConf
from threadpoolctl import threadpool_limits

from ..config.schema import PARAMS, ConfigError, check_keys, validate
from ..core import calibration, losses, models
from ..core import data as datasets
from ..store import provenance, runstore
from . import recorder, trainer

log = logging.getLogger(__name__)


@dataclass
class SeedResult:
    """What became of one seed: ``done``, ``diverged``, ``failed``, ``skipped`` (finished
    before) or ``busy`` (another process is training it)."""

    seed: int
    status: str
    accuracy: float | None = None  # final test accuracy
    steps_to_target: int | None = None
    note: str = ""


@dataclass
class Job:
    """The outcome of one job (one configuration, all its seeds)."""

    name: str  # <experiment>/<run name>
    folder: str
    seeds: list[SeedResult] = field(default_factory=list)
    wall_s: float = 0.0
    error: str | None = None

    @property
    def run_dirs(self) -> list[Path]:
        """The seeds' folders, in the order of ``seeds``."""
        return [runstore.seed_dir(self.folder, r.seed) for r in self.seeds]

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


def _hparams(cfg, head: str, seed: int) -> dict:
    """The run's schema.PARAMS (lists as text, which TensorBoard's HParams needs)."""
    params = {name: OmegaConf.select(cfg, key) for name, key in PARAMS.items()}
    params["hidden"] = str(list(params["hidden"]))
    return {**params, "head": head, "seed": seed}


def run(cfg, experiment: str = "default", overrides: list[str] = (),
        claimed: Callable[[list[Path]], object] | None = None) -> Job:
    """Train ``cfg`` for every seed in ``cfg.seeds`` that is not finished already.
    ``claimed`` is told the folders this process is about to train (a sweep uses it to mark
    them failed should the process be killed)."""
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
    head = losses.resolve_head(cfg.model.head, cfg.loss.name, data.n_classes)
    name = runstore.run_name(cfg, head, experiment)
    base = Path(cfg.results_dir) / experiment / name
    job = Job(f"{experiment}/{name}", str(base))
    locks: list[runstore.Lock] = []
    start = time.perf_counter()
    try:
        todo = _claim(cfg, base, job, locks)
        if todo and claimed:
            claimed([runstore.seed_dir(base, s) for s in todo])
        if todo:
            _train(cfg, experiment, list(overrides), data, device, head, base, todo, job)
    except Exception as err:  # a run-time failure (e.g. a folder that cannot be written)
        job.error = one_line(err)
        for lock in locks:  # the claimed seeds: say why, where the folder can be written
            _record_failure(lock.path.parent, experiment, job, cfg, head, job.error)
        job.seeds = [r for r in job.seeds if r.status in ("skipped", "busy")]
        job.seeds += [SeedResult(s, "failed", note=job.error) for s in cfg.seeds
                      if s not in {r.seed for r in job.seeds}]
        log.error("%s failed: %s", job.name, job.error)
    finally:
        for lock in locks:
            lock.release()
    job.wall_s = time.perf_counter() - start
    job.seeds.sort(key=lambda r: list(cfg.seeds).index(r.seed))
    return job


def _record_failure(folder: Path, experiment: str, job: Job, cfg, head: str,
                    error: str) -> None:
    if runstore.is_done(folder):  # finished before the failure
        return
    with contextlib.suppress(OSError):  # else the folder cannot be written either
        seed = int(folder.name.removeprefix("seed="))
        runstore.finish(folder, {"status": "failed", "error": error, "experiment": experiment,
                                 "run": job.name.split("/", 1)[1], "seed": seed,
                                 "params": _hparams(cfg, head, seed),
                                 "config_hash": runstore.config_hash(cfg)})


def _claim(cfg, base: Path, job: Job, locks: list) -> list[int]:
    """The seeds to train: each not finished and now locked by this process (its lock is
    appended to ``locks``); the others go into ``job.seeds`` as skipped or busy."""
    todo = []
    for s in cfg.seeds:
        folder = runstore.seed_dir(base, s)
        lock = runstore.try_lock(folder)
        if lock is None:
            note = f"{runstore.holder(folder)} is training it"
            log.warning("%s/seed=%d: %s; skipped", job.name, s, note)
            job.seeds.append(SeedResult(s, "busy", note=note))
            continue
        try:
            summary = runstore.verify(folder)
        except runstore.Unfinished as why:
            summary = None
            if (folder / runstore.SUMMARY).exists() or (folder / runstore.PARTIAL).exists():
                log.warning("%s/seed=%d: %s; training it again", job.name, s, why)
        if summary is not None and cfg.trainer.skip_done:
            lock.release()
            job.seeds.append(SeedResult(s, "skipped", summary["final"].get("test/accuracy"),
                                        summary["steps_to_target"], summary["status"]))
            continue
        locks.append(lock)
        todo.append(s)
    skipped = job.count("skipped")
    if skipped:
        log.info("%s: %d of %d seeds already done, skipped", job.name, skipped, len(cfg.seeds))
    return todo


# Replicas stop paying once a lockstep group's weights and activations outgrow the caches: on
# 784-100-10 (79,510 parameters) replica-steps/s peak at R = 16 and fall beyond, on digits
# (2,410) they still grow at 64 (benchmarks/BENCHMARKS.md, "How cost grows"). So a group holds
# at most this many parameters, all replicas together.
GROUP_PARAMETERS = 1_300_000


def group_size(parameters: int) -> int:
    """How many replicas of ``parameters`` parameters each to train in one lockstep group."""
    return max(1, GROUP_PARAMETERS // parameters)


def _train(cfg, experiment, overrides, data, device, head, base, todo, job) -> None:
    """Train the seeds ``todo`` (their folders locked) in lockstep groups of the best size
    (:func:`group_size`; each seed's numbers are the same whatever its group) and write their
    summaries."""
    one, _ = models.build(cfg, data.n_features, data.n_classes, todo[:1])
    size = group_size(sum(p.numel() for p in one.parameters()))
    for first in range(0, len(todo), size):
        _train_group(cfg, experiment, overrides, data, device, head, base,
                     todo[first:first + size], job)


def _train_group(cfg, experiment, overrides, data, device, head, base, todo, job) -> None:
    """Train the seeds ``todo`` in lockstep and write their summaries."""
    run_dirs = [runstore.seed_dir(base, s) for s in todo]
    model, head = models.build(cfg, data.n_features, data.n_classes, todo)
    model, data = model.to(device), data.to(device)
    rec = recorder.Recorder(run_dirs, trainer.metric_names(model))
    origin = provenance.collect()
    start = time.perf_counter()
    try:
        for s, writer in zip(todo, rec.writers, strict=True):
            seed_cfg = OmegaConf.merge(cfg, {"seeds": [s]})
            (writer.run_dir / runstore.CONFIG).write_text(OmegaConf.to_yaml(seed_cfg,
                                                                            resolve=True))
            writer.hparams(_hparams(cfg, head, s))
        outcome = trainer.train(model, head, cfg.loss, data, todo, cfg.optimizer, cfg.trainer,
                                rec, desc=job.name)
        rec.steps_to_target([out.reached[0] if out.reached else None for out in outcome.replicas])
        with torch.no_grad():  # the trained networks' reliability diagram on the test split
            diagrams = calibration.reliability(model(data.x_test).cpu(), data.y_test.cpu(), head)
    except BaseException:
        rec.close(keep_metrics=False)
        raise
    rec.close()
    wall = time.perf_counter() - start
    for s, folder, out, diagram in zip(todo, run_dirs, outcome.replicas, diagrams, strict=True):
        status = "diverged" if out.diverged_at is not None else "done"
        reached = out.reached or (None, None)
        runstore.finish(folder, {
            "status": status, "error": None, "diverged_at_step": out.diverged_at,
            "experiment": experiment, "run": job.name.split("/", 1)[1],
            "seed": s, "head": head, "config_hash": runstore.config_hash(cfg),
            "params": _hparams(cfg, head, s), "provenance": origin,
            "overrides": overrides, "steps": outcome.steps,
            "target_accuracy": cfg.trainer.target_accuracy,
            "steps_to_target": reached[0], "epochs_to_target": reached[1],
            "final": out.final, "reliability": diagram if status == "done" else None,
            "wall_time_s": round(wall, 3),
            "replicas_in_lockstep": len(todo), "device": str(device),
        })
        note = f"diverged at step {out.diverged_at}" if out.diverged_at is not None else ""
        job.seeds.append(SeedResult(s, status, out.final.get("test/accuracy"), reached[0], note))
    log.info("%s: %d seed(s) trained in %.1f s", job.name, len(todo), wall)
