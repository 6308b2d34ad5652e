"""What a run and a sweep print when they end: a short table per job, one summary per sweep,
and where the results are (once)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from . import board
from .runner import Job

# The order of the statuses in a summary line.
STATUSES = ("done", "diverged", "skipped", "busy", "failed")


def _pct(value: float | None) -> str:
    return "" if value is None or value != value else f"{100 * value:.1f} %"


def job_table(job: Job) -> str:
    """One line per seed: status, final test accuracy, steps to the target accuracy."""
    lines = [job.name, f"  {'seed':>4}  {'status':<9} {'test acc':>9}  {'steps to target':>15}"]
    for r in job.seeds:
        steps = "" if r.steps_to_target is None else str(r.steps_to_target)
        if r.status in ("done", "diverged", "skipped") and r.steps_to_target is None:
            steps = "not reached"
        note = f"  {r.note}" if r.note else ""
        lines.append(f"  {r.seed:>4}  {r.status:<9} {_pct(r.accuracy):>9}  {steps:>15}{note}")
    return "\n".join(lines)


def counts(jobs: list[Job]) -> str:
    """e.g. ``8 seeds: 6 trained, 1 diverged, 1 skipped (done before)``."""
    c = Counter(r.status for job in jobs for r in job.seeds)
    words = {"done": "trained", "diverged": "diverged", "skipped": "skipped (done before)",
             "busy": "skipped (another process is training them)", "failed": "failed"}
    parts = [f"{c[s]} {words[s]}" for s in STATUSES if c[s]]
    return f"{sum(c.values())} seed(s): " + (", ".join(parts) or "none")


HINTS = "CE_VS_MSE_HINTS"  # set to 0 by a caller that says where the results are itself


def where(results_dir: str, experiment: str) -> str:
    """Where the results are and how to open them (nothing when HINTS=0)."""
    if os.environ.get(HINTS) == "0":
        return ""
    root = Path(results_dir)
    return (f"Results: {root / experiment}\n"
            f"  pandas:      pandas.read_csv('<run>/seed=<s>/metrics.csv')\n"
            f"  TensorBoard: tensorboard --logdir {root / experiment}\n"
            f"               then open {board.comparison_url()}\n"
            f"  report:      ce-vs-mse-report --runs {root} --experiments {experiment} "
            f"--out {root.parent / ('report-' + experiment)}")


def say(text: str) -> None:
    if text:
        print(text.rstrip("\n"), file=sys.stderr, flush=True)
