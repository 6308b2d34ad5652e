"""Writes what a run logs: TensorBoard events and metrics.csv, one folder per replica.

Every scalar goes to TensorBoard and to ``metrics.csv`` under the same name, so
``pandas.read_csv(run_dir / "metrics.csv")["test/accuracy"]`` is the TensorBoard tag
``test/accuracy``; the one exception is ``steps_to_target``, one number per run, which only
the event file (and summary.json) holds. Each event file also carries what
:mod:`ce_vs_mse.board` declares: the HParams experiment and session and the Custom Scalars
layout. Gradient histograms are the first replica's only (see :meth:`Recorder.histograms`).
The Recorder only writes: outcomes (steps to target, divergence, final values) are the
trainer's to compute; the folder's contract is :mod:`ce_vs_mse.store`'s.
"""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from tensorboard.compat.proto.summary_pb2 import Summary
from torch.utils.tensorboard.summary import histogram

from ..store import layout
from . import board
from .events import EventFile

# Equal-width buckets per gradient histogram (TensorBoard's own histogram summaries use 30).
# torch's add_histogram default, 1549 exponential buckets, costs several times as much per
# histogram.
HISTOGRAM_BINS = 64
FLUSH_SECS = 2.0  # how stale TensorBoard's and metrics.csv's view of a running job may get


class RunWriter:
    """One replica's outputs: a TensorBoard writer and metrics.csv with fixed columns."""

    def __init__(self, run_dir: Path, tags: list[str]):
        run_dir.mkdir(parents=True, exist_ok=True)
        layout.clear(run_dir)
        self.run_dir = run_dir
        self.tags = tags
        self.tb = EventFile(run_dir)
        # Written as metrics.csv.partial and renamed when the run ends: a metrics.csv is
        # always complete.
        self._partial = run_dir / layout.PARTIAL
        try:
            self._csv_file = open(self._partial, "w", newline="")  # noqa: SIM115
        except BaseException:
            self.tb.close()
            raise
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["step", "epoch", *tags])
        self.tb.add_summary(board.layout(tags))
        self._session = False  # whether hparams() started an HParams session here

    def hparams(self, params: dict, differs=()) -> None:
        """Start this run's HParams session with ``params`` (:data:`board.ORDER`), and declare
        the experiment (``differs``: the params its sweep varies, :func:`board.swept`), in
        *this* run (torch's ``add_hparams`` would open a second, stray run directory for
        them). The session ends when the run closes with its metrics."""
        self.tb.add_summary(board.experiment(differs))
        self.tb.add_summary(board.session_start(params))
        self._session = True

    def steps_to_target(self, step: int) -> None:
        """Log the step at which test accuracy first reached the target, at that step."""
        value = Summary.Value(tag=board.STEPS_TO_TARGET, simple_value=step)
        self.tb.add_summary(Summary(value=[value]), step)

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
        if keep_metrics and self._session:
            self.tb.add_summary(board.session_end())
        self.tb.close()
        self._csv_file.close()
        if keep_metrics:
            os.replace(self._partial, self.run_dir / layout.METRICS)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else str(value)


class Recorder:
    """Fans metrics of R replicas out to R run directories.

    Every ``scalars`` call takes tensors of shape (R,) (and plain floats, the same for every
    replica) and copies the tensors to the host once, which is the only host-device
    synchronisation in training. A replica that is ``stop``ped gets no more rows. Files are
    flushed when a logging call finds the last flush more than ``FLUSH_SECS`` old, and on close.
    """

    def __init__(self, run_dirs: list[Path], tags: list[str]):
        self.writers: list[RunWriter] = []
        try:
            for d in run_dirs:
                self.writers.append(RunWriter(d, tags))
        except BaseException:  # e.g. a folder that cannot be written: close the others
            self.close(keep_metrics=False)
            raise
        self.active = [True] * len(run_dirs)
        self._flushed = time.monotonic()

    def scalars(self, step: int, epoch: int,
                values: dict[str, torch.Tensor | float]) -> list[dict[str, float]]:
        """Log ``values`` at ``step``: float tensors of shape (R,), all on one device, or plain
        floats that are the same for every replica. Returns each replica's row as floats."""
        on_device = {t: v for t, v in values.items() if isinstance(v, torch.Tensor)}
        # the one host sync; python floats from here on
        host = torch.stack(list(on_device.values())).cpu().tolist() if on_device else []
        columns = dict(zip(on_device, host, strict=True))
        rows = []
        for r, writer in enumerate(self.writers):
            row = {t: columns[t][r] if t in columns else float(v) for t, v in values.items()}
            if self.active[r]:
                writer.scalars(step, epoch, row)
            rows.append(row)
        self._flush_if_due()
        return rows

    def stop(self, replica: int) -> None:
        """Write nothing more for ``replica`` (it diverged); its files end here."""
        self.active[replica] = False

    def _flush_if_due(self) -> None:
        if time.monotonic() - self._flushed > FLUSH_SECS:
            self.flush()

    def flush(self) -> None:
        """Hand every run's buffered rows and events to the operating system."""
        for writer in self.writers:
            writer.flush()
        self._flushed = time.monotonic()

    def histograms(self, step: int, values: dict[str, torch.Tensor]) -> None:
        """Log histograms of ``values`` (tensors of shape (R, ...)) for the first replica only:
        the other seeds' look alike, and TensorBoard's Time Series shows every (run, tag) of
        histograms as a card of its own, in their group ``grad``, before every scalar."""
        if not self.active[0]:
            return
        for tag, v in values.items():
            v = v[0].detach().flatten().cpu().numpy()
            finite = v[np.isfinite(v)]
            if finite.size:
                self.writers[0].histogram(tag, finite, step)
        self._flush_if_due()

    def steps_to_target(self, steps: list[int | None]) -> None:
        """Log each replica's steps to the target accuracy (None: never reached; nothing)."""
        for writer, step in zip(self.writers, steps, strict=True):
            if step is not None:
                writer.steps_to_target(step)

    def close(self, keep_metrics: bool = True) -> None:
        """Finish every run's files; metrics.csv appears only now, and only with
        ``keep_metrics`` (an interrupted run leaves metrics.csv.partial). Every writer is
        closed even when one fails; the first error is raised after."""
        errors = []
        for writer in self.writers:
            try:
                writer.close(keep_metrics)
            except Exception as err:  # noqa: BLE001 (e.g. disk full): close the others first
                errors.append(err)
        if errors:
            raise errors[0]
