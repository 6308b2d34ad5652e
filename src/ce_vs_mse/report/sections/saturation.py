"""Larger initial weights saturate the units: the standard section, the sweep over the initial
weight scale, and whether squared error's lag behind cross-entropy widens with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import aggregate, compare, gap, style, sweep, tables
from ..document import Document
from ..experiment import Experiment
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    sweep.figure(doc, exp, "init_scale", "initial weight scale (×)")
    ratio = aggregate.paired_ratio(exp.table).sort_values("init_scale")
    reached = aggregate.by_run(exp.table, "steps_to_target")
    parts, missed, gaps = [], [], []
    for _, r in ratio.iterrows():
        scale = f"×{r['init_scale']:g}"
        if r["n"]:
            parts.append(f"{compare.plain(r)} at {scale}")
            gaps.append(r["mean"])
        else:
            at = reached[reached["init_scale"] == r["init_scale"]]
            missed.append(f"at {scale} the target was reached by " + ", ".join(
                f"{p} in {int(n)}/{int(s)}" for p, n, s in zip(at["pair"], at["n"], at["seeds"],
                                                                strict=True)) + " seeds")
            gaps.append(np.inf if _reached(at, "mse") < _reached(at, "ce") else np.nan)
    trend = "widens" if gap.grows(gaps) else "does not widen steadily"
    said = (f": squared error needed {' and '.join(parts)} cross-entropy's updates to "
            f"{exp.target}" if parts else "")
    return (f"The gap {trend} with the initial weight scale, at a shared η = "
            f"{tables.value(float(exp.table['lr'].iloc[0]))}{said}"
            + "".join(f"; {m}" for m in missed) + " (each loss at its own η from saturated "
            "starts: the lr_scaling section).")


def _reached(rows: pd.DataFrame, loss: str) -> float:
    """The share of ``loss``'s seeds (over its runs in ``rows``) that reached the target."""
    at = rows[[style.loss(p) == loss for p in rows["pair"]]]
    return float((at["n"] / at["seeds"]).mean()) if len(at) else np.nan
