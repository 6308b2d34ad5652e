"""Where a run's results go and how they are written: TensorBoard events, metrics.csv,
config.yaml and summary.json, one directory per (configuration, seed).

Layout: ``<results_dir>/<experiment>/<dataset>/<model>-<head>/<loss>/<optimizer>-lr<η>[,<other
overrides>]-<hash>/seed=<s>/``. The path is a pure function of the resolved configuration
(no timestamps): the readable parts say what usually differs between runs, and the hash of
the whole configuration keeps two different configurations from ever sharing a directory.

Every scalar goes to TensorBoard and to ``metrics.csv`` under the same name, so
``pandas.read_csv(run_dir / "metrics.csv")["test/accuracy"]`` is the TensorBoard tag
``test/accuracy``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard.summary import histogram, hparams

from .events import EventFile

# Keys that do not change what a run computes, so they stay out of its name and hash.
NOT_IN_NAME = ("seeds", "device", "threads", "results_dir", "trainer.skip_done",
               "dataset.data_dir", "dataset.download")
# Overrides already spelt out by the readable part of the name.
IN_READABLE_NAME = ("dataset", "model", "loss", "optimizer", "optimizer.lr", "experiment", "pair")
SUMMARY = "summary.json"
# Equal-width buckets per gradient histogram (TensorBoard's own histogram summaries use 30).
# torch's add_histogram default, 1549 exponential buckets, costs 2.5x the time per histogram.
HISTOGRAM_BINS = 64
FLUSH_SECS = 2.0  # how stale TensorBoard's and metrics.csv's view of a running job may get


def config_hash(cfg) -> str:
    """Eight hex digits that identify everything in ``cfg`` that affects the results."""
    container = OmegaConf.to_container(cfg, resolve=True)
    container = {k: v for k, v in container.items() if k not in ("hydra",)}
    for key in NOT_IN_NAME:
        parent, _, leaf = key.rpartition(".")
        (container[parent] if parent else container).pop(leaf, None)
    blob = json.dumps(container, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:8]


def run_name(cfg, head: str, overrides: list[str] = ()) -> str:
    """The readable, deterministic path of a configuration (without experiment and seed)."""
    m = cfg.model
    model = m.name + "".join(f"_{h}" for h in m.hidden)
    extra = [
        o.replace("/", "_") for o in overrides
        if o.split("=", 1)[0].lstrip("+~") not in IN_READABLE_NAME + NOT_IN_NAME
        and not o.startswith("hydra")
    ]
    leaf = ",".join([f"{cfg.optimizer.name}-lr{cfg.optimizer.lr:g}", *sorted(extra)])
    return f"{cfg.dataset.name}/{model}-{head}/{cfg.loss.name}/{leaf}-{config_hash(cfg)}"


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)``, then rename tmp to ``path``: readers, and anything interrupted, see the
    old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON, atomically (:func:`write_atomic`)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(path, lambda tmp: tmp.write_text(text))


def read_summary(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / SUMMARY).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_done(run_dir: Path) -> bool:
    """Finished for good: trained to the end, or stopped because it diverged. A ``failed``
    run (an error) is not done: it is tried again."""
    summary = read_summary(run_dir)
    return summary is not None and summary.get("status") in ("done", "diverged")


def clear(run_dir: Path) -> None:
    """Remove what an unfinished earlier attempt left, so the run starts over cleanly."""
    for path in run_dir.glob("*"):
        if path.is_file() and (path.name.startswith("events.out.tfevents")
                               or path.name.endswith((".tmp", ".partial"))
                               or path.name in ("metrics.csv", SUMMARY, "config.yaml")):
            path.unlink()


class RunWriter:
    """One replica's outputs: a TensorBoard writer and metrics.csv with fixed columns."""

    def __init__(self, run_dir: Path, tags: list[str]):
        run_dir.mkdir(parents=True, exist_ok=True)
        clear(run_dir)
        self.run_dir = run_dir
        self.tags = tags
        self.tb = EventFile(run_dir)
        # Written as metrics.csv.partial and renamed when the run ends: a metrics.csv is
        # always complete.
        self._partial = run_dir / "metrics.csv.partial"
        try:
            self._csv_file = open(self._partial, "w", newline="")  # noqa: SIM115
        except BaseException:
            self.tb.close()
            raise
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["step", "epoch", *tags])

    def hparams(self, hparam_dict: dict, metrics: list[str]) -> None:
        """Register hyperparameters with TensorBoard's HParams plugin in *this* run (torch's
        ``add_hparams`` would open a second, stray run directory for them)."""
        for summary in hparams(hparam_dict, {m: 0.0 for m in metrics}):
            self.tb.add_summary(summary)

    def scalars(self, step: int, epoch: int, values: dict[str, float]) -> None:
        # One event holding every tag of this step: what add_scalar writes, one call per step.
        summary = Summary(value=[Summary.Value(tag=t, simple_value=v) for t, v in values.items()])
        self.tb.add_summary(summary, step)
        self._csv.writerow([step, epoch, *(_fmt(values.get(t)) for t in self.tags)])

    def histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        self.tb.add_summary(histogram(tag, values, HISTOGRAM_BINS), step)

    def flush(self) -> None:
        self.tb.flush()
        self._csv_file.flush()

    def close(self, keep_metrics: bool = True) -> None:
        """Close the files; with ``keep_metrics``, metrics.csv.partial becomes metrics.csv."""
        self.tb.close()
        self._csv_file.close()
        if keep_metrics:
            os.replace(self._partial, self.run_dir / "metrics.csv")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else str(value)


class Recorder:
    """Fans metrics of R replicas out to R run directories.

    Every ``scalars`` call takes tensors of shape (R,) (and plain floats, the same for every
    replica) and copies the tensors to the host once, which is the only host-device
    synchronisation in training. Files are flushed when a logging call finds the last flush
    more than ``FLUSH_SECS`` old, and on close.
    """

    def __init__(self, run_dirs: list[Path], tags: list[str], target_accuracy: float):
        self.writers: list[RunWriter] = []
        try:
            for d in run_dirs:
                self.writers.append(RunWriter(d, tags))
        except BaseException:  # e.g. a folder that cannot be written: close the others
            self.close(keep_metrics=False)
            raise
        self.target = target_accuracy
        self.last: list[dict[str, float]] = [{} for _ in run_dirs]
        self.reached: list[tuple[int, int] | None] = [None for _ in run_dirs]
        self.diverged_at: list[int | None] = [None for _ in run_dirs]
        self._flushed = time.monotonic()

    def scalars(self, step: int, epoch: int, values: dict[str, torch.Tensor | float]) -> None:
        """Log ``values`` at ``step``: float tensors of shape (R,), all on one device, or plain
        floats that are the same for every replica."""
        on_device = {t: v for t, v in values.items() if isinstance(v, torch.Tensor)}
        # the one host sync; python floats from here on
        host = torch.stack(list(on_device.values())).cpu().tolist() if on_device else []
        columns = dict(zip(on_device, host, strict=True))
        for r, writer in enumerate(self.writers):
            row = {t: columns[t][r] if t in columns else float(v) for t, v in values.items()}
            writer.scalars(step, epoch, row)
            self.last[r].update(row)
            acc = row.get("test/accuracy")
            if acc is not None and self.reached[r] is None and acc >= self.target:
                self.reached[r] = (step, epoch)
            loss = row.get("train/loss")
            if loss is not None and not math.isfinite(loss) and self.diverged_at[r] is None:
                self.diverged_at[r] = step
        self._flush_if_due()

    def _flush_if_due(self) -> None:
        if time.monotonic() - self._flushed > FLUSH_SECS:
            self.flush()

    def flush(self) -> None:
        """Hand every run's buffered rows and events to the operating system."""
        for writer in self.writers:
            writer.flush()
        self._flushed = time.monotonic()

    def histograms(self, step: int, values: dict[str, torch.Tensor]) -> None:
        for tag, v in values.items():
            v = v.detach().flatten(1).cpu().numpy()  # (R, n)
            for r, writer in enumerate(self.writers):
                finite = v[r][np.isfinite(v[r])]  # a diverged replica has NaN gradients
                if finite.size:
                    writer.histogram(tag, finite, step)
        self._flush_if_due()

    def close(self, keep_metrics: bool = True) -> None:
        """Finish every run's files; metrics.csv appears only now, and only with
        ``keep_metrics`` (an interrupted run leaves metrics.csv.partial)."""
        for writer in self.writers:
            writer.close(keep_metrics)
