"""One job: from a resolved configuration to finished run directories.

config -> validate -> load data -> skip seeds already done -> build the replicated model ->
train (trainer.py) -> summary.json per seed. Every check that can fail runs before training.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf
from threadpoolctl import threadpool_limits

from . import data as datasets
from . import models, provenance, recorder, trainer
from .schema import PARAMS, ConfigError, validate

log = logging.getLogger(__name__)

HPARAM_METRICS = ["test/accuracy", "train/accuracy", "test/ce", "test/mse", "train/loss"]


class RunFailed(RuntimeError):
    """Training raised; the seeds' summary.json files say ``failed`` and carry the error."""


def resolve_device(name: str) -> torch.device:
    if name == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "cuda":
        raise ConfigError("device=cuda but no CUDA GPU is visible; choose one of: auto, cpu")
    return torch.device("cpu")


def _writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"results_dir={str(path)!r} cannot be written: {err.strerror}") from err


def _hparams(cfg, head: str, seed: int) -> dict:
    """The run's schema.PARAMS (lists as text, which TensorBoard's HParams needs)."""
    params = {name: OmegaConf.select(cfg, key) for name, key in PARAMS.items()}
    params["hidden"] = str(list(params["hidden"]))
    return {**params, "head": head, "seed": seed}


def run(cfg, experiment: str = "default", overrides: list[str] = ()) -> list[Path]:
    """Train ``cfg`` for every seed in ``cfg.seeds``; returns the seeds' run directories."""
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
    head = models.resolve_head(cfg.model.head, cfg.loss.name, data.n_classes)
    name = recorder.run_name(cfg, head, overrides)
    base = Path(cfg.results_dir) / experiment / name
    _writable(base)
    run_dirs = {s: base / f"seed={s}" for s in cfg.seeds}
    todo = [s for s in cfg.seeds if not (cfg.trainer.skip_done and recorder.is_done(run_dirs[s]))]
    if len(todo) < len(cfg.seeds):
        log.info("%s: %d of %d seeds already done, skipped", name,
                 len(cfg.seeds) - len(todo), len(cfg.seeds))
    if not todo:
        return list(run_dirs.values())

    model, head = models.build(cfg, data.n_features, data.n_classes, todo)
    model, data = model.to(device), data.to(device)
    tags = trainer.metric_names(model)
    rec = recorder.Recorder([run_dirs[s] for s in todo], tags, cfg.trainer.target_accuracy)
    try:
        for s, writer in zip(todo, rec.writers, strict=True):
            seed_cfg = OmegaConf.merge(cfg, {"seeds": [s]})
            (writer.run_dir / "config.yaml").write_text(OmegaConf.to_yaml(seed_cfg,
                                                                          resolve=True))
            writer.hparams(_hparams(cfg, head, s), HPARAM_METRICS)
    except BaseException:
        rec.close(keep_metrics=False)
        raise

    origin = provenance.collect()
    start = time.perf_counter()
    error, steps, ended = None, 0, False
    try:
        steps = trainer.train(model, head, cfg.loss, data, todo, cfg.optimizer, cfg.trainer,
                              rec, desc=f"{experiment}/{name}")
        ended = True
    except Exception as err:  # recorded in summary.json; KeyboardInterrupt leaves no summary
        error = f"{type(err).__name__}: {err}"
        ended = True
        log.exception("%s failed", name)
    finally:
        rec.close(keep_metrics=ended)
    wall = time.perf_counter() - start
    for r, s in enumerate(todo):
        reached, diverged = rec.reached[r], rec.diverged_at[r]
        status = "failed" if error else "diverged" if diverged is not None else "done"
        # summary.json is written last, atomically: its presence marks the run finished.
        recorder.write_json_atomic(run_dirs[s] / recorder.SUMMARY, {
            "status": status, "error": error,
            "diverged_at_step": diverged,
            "experiment": experiment, "run": name, "seed": s, "head": head,
            "params": _hparams(cfg, head, s), "provenance": origin,
            "overrides": list(overrides), "steps": steps,
            "target_accuracy": cfg.trainer.target_accuracy,
            "steps_to_target": reached[0] if reached else None,
            "epochs_to_target": reached[1] if reached else None,
            "final": rec.last[r],
            "wall_time_s": round(wall, 3), "replicas_in_lockstep": len(todo),
            "device": str(device),
        })
    if error:
        raise RunFailed(f"{experiment}/{name}: {error}")
    log.info("%s: %d seed(s) trained in %.1f s -> %s", name, len(todo), wall, base)
    return list(run_dirs.values())
