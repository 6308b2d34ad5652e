"""What a run and a sweep print when they end: a short table per job, one summary per sweep,
what its jobs found (squared error against cross-entropy or BCE, seed by seed), and where
the results are (once)."""

from __future__ import annotations

import math
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

from ..config.schema import PARAMS
from ..core import losses
from . import board
from .runner import Job

LOSS_PARAMS = {name for name, key in PARAMS.items() if key.startswith("loss.")}

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


def _geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def _pair(job: Job) -> str:
    return f"{job.params['head']}+{job.params['loss']}"


def _steps(job: Job) -> dict[int, int]:
    """Seed -> steps to the target accuracy, of the seeds that finished (now or before)
    without diverging and reached it."""
    return {r.seed: r.steps_to_target for r in job.seeds
            if r.outcome == "done" and r.steps_to_target is not None}


def results(job: Job) -> str:
    """``softmax+ce: steps to 90 %: 42 (reached 5/5), final test accuracy 96.8 %``: the
    geometric mean of the steps over the seeds that reached the target, the mean final
    test accuracy over the seeds done (a diverged seed is counted, never averaged in)."""
    steps = _steps(job)
    accuracy = [r.accuracy for r in job.seeds if r.outcome == "done" and r.accuracy is not None]
    n = len(job.seeds)
    seeds = [f"reached {len(steps)}/{n}", *(
        f"{status} {count}/{n}" for status in ("diverged", "failed", "busy")
        if (count := sum(r.outcome == status for r in job.seeds)))]
    target = job.params.get("target_accuracy")
    mean = round(_geometric_mean(list(steps.values()))) if steps else "not reached"
    return (f"{_pair(job)}: steps to {100 * target:g} %: {mean} ({', '.join(seeds)}), "
            f"final test accuracy {_pct(statistics.fmean(accuracy)) if accuracy else '—'}")


def pairs(jobs: list[Job]) -> list[tuple[Job, Job]]:
    """(squared error, log-loss) jobs that differ only in the loss: the same head and every
    other parameter equal; squared error's job first, in the sweep's order."""
    def rest(job: Job) -> tuple:
        return tuple(sorted((k, str(v)) for k, v in job.params.items() if k not in LOSS_PARAMS))

    def family(job: Job) -> losses.Loss:
        return losses.LOSSES[job.params["loss"]]

    squared = [j for j in jobs if family(j).family == "squared error"]
    logs = [j for j in jobs if family(j).log_loss]
    return [(s, e) for s in squared for e in logs if rest(s) == rest(e)]


def answer(jobs: list[Job]) -> str:
    """What the jobs found: for each of :func:`pairs`, squared error's steps to the target
    over the log-loss's, seed by seed (their geometric mean over the seeds where both
    reached it), and each job's :func:`results`; then every other job's."""
    jobs = [j for j in jobs if j.params]  # (a job that failed its checks has none)

    def split(keys: list[str]) -> int:
        return len({tuple(str(j.params[k]) for k in keys) for j in jobs})

    varying: list[str] = []  # the parameters that tell the jobs apart, none said twice
    for key in jobs[0].params if jobs else ():  # (model=logreg says hidden=[])
        if key not in LOSS_PARAMS | {"head"} and split([*varying, key]) > split(varying):
            varying.append(key)

    def where(job: Job) -> str:
        shown = ", ".join(f"{k}={job.params[k]}" for k in varying)
        return f" ({shown})" if shown else ""

    lines, paired = [], []
    for mse, ent in pairs(jobs):
        a, b = _steps(mse), _steps(ent)
        ratios = [a[s] / b[s] for s in sorted(a.keys() & b.keys())]
        common = len({r.seed for r in mse.seeds} & {r.seed for r in ent.seeds})
        target = f"{100 * mse.params['target_accuracy']:g} %"
        ratio = (f"×{_geometric_mean(ratios):.2f} (geometric mean over the {len(ratios)} of "
                 f"{common} seeds where both reached {target})" if ratios
                 else f"no seed of {common} where both reached {target}")
        lines += [f"  {_pair(mse)} / {_pair(ent)}{where(mse)}, steps to {target}: {ratio}",
                  f"    {results(mse)}", f"    {results(ent)}"]
        paired += [mse, ent]
    others = [f"  {results(j)}{where(j)}" for j in jobs if all(j is not p for p in paired)]
    if lines:
        lines.insert(0, "Squared error against cross-entropy or BCE, in jobs that differ only "
                        "in the loss, seed by seed:")
    if others:
        lines += ["Other jobs:" if lines else "Over the seeds:", *others]
    return "\n".join(lines)


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
