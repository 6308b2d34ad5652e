"""The report's TensorBoard logdir: one run per configuration, its seeds aggregated.

TensorBoard draws every seed as a run of its own and cannot draw seeds as one curve with a
band (tensorflow/tensorboard#376). So the report writes ``<out>/tensorboard/<experiment>/<run>/``
(``run``: the configuration's folder name, :func:`ce_vs_mse.store.layout.run_name`), holding
for each of :data:`TAGS`, at every step its seeds logged it, the mean over the seeds that
finished without diverging (under the runs' own tag, e.g. ``test/accuracy``) and its 95 %
Student-t interval (``test/accuracy/ci_low``, ``test/accuracy/ci_high``; none from fewer than
:data:`~.aggregate.MIN_SEEDS` seeds): :func:`.aggregate.bands`, the report's own. A Custom
Scalars layout draws each tag as a margin chart, a curve and its band per configuration:
``tensorboard --logdir <out>/tensorboard``, tab Custom Scalars (:func:`url`).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from torch.utils.tensorboard import SummaryWriter

from . import aggregate, seeds

FOLDER = "tensorboard"  # below the report's --out
TAGS = ("test/accuracy", "test/ce", "test/mse", "train/loss")
LOW, HIGH = "ci_low", "ci_high"  # the band's tags: <tag>/ci_low, <tag>/ci_high
CATEGORY = "{tag}: mean over seeds and its 95 % t-interval"


def layout() -> dict:
    """The Custom Scalars layout (torch's ``add_custom_scalars`` form): a margin chart per tag,
    each in a category of its own, in the order of :data:`TAGS`. (TensorBoard's Custom Scalars
    tab draws the margin charts of one category in reverse order: its tf-dom-repeat inserts
    each chart at an index that counts its templates too.)"""
    return {CATEGORY.format(tag=tag): {tag: ["Margin", [tag, f"{tag}/{LOW}", f"{tag}/{HIGH}"]]}
            for tag in TAGS}


def write_logdir(runs: aggregate.Runs, out: Path) -> Path:
    """Write the aggregated run of every configuration in ``runs`` under ``out/tensorboard``,
    replacing the folders of the experiments in ``runs`` (another experiment's are left)."""
    root = Path(out) / FOLDER
    if not len(runs.curves):
        return root
    curves = seeds.done(runs.curves)
    for experiment in sorted(set(runs.curves["experiment"])):
        shutil.rmtree(root / experiment, ignore_errors=True)
    for (experiment, run), group in curves.groupby(["experiment", "run"], sort=True):
        _write_run(root / experiment / run, group)
    return root


def _write_run(folder: Path, curves: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(folder))
    try:
        writer.add_custom_scalars(layout())
        for tag in TAGS:
            if tag not in curves:
                continue
            band = aggregate.bands(curves, ["step"], tag)
            for row in band[band["n"] > 0].itertuples(index=False):
                writer.add_scalar(tag, row.mean, int(row.step))
                if math.isfinite(row.ci_low) and math.isfinite(row.ci_high):
                    writer.add_scalar(f"{tag}/{LOW}", row.ci_low, int(row.step))
                    writer.add_scalar(f"{tag}/{HIGH}", row.ci_high, int(row.step))
    finally:
        writer.close()


def url(runs: str = "", base: str = "http://localhost:6006") -> str:
    """The Custom Scalars tab on the aggregated logdir, the runs whose names match the regex
    ``runs`` selected (every run when empty), without smoothing."""
    select = f"&regexInput={quote(runs, safe='/()')}" if runs else ""
    return f"{base.rstrip('/')}/#custom_scalars{select}&_smoothingWeight=0"
