"""Larger initial weights saturate the units: the standard section, the sweep over the initial
weight scale, and whether squared error's lag behind cross-entropy widens with it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import aggregate, gap, style, sweep
from ..document import Document
from ..experiment import Experiment
from ..tables import cell
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    sweep.figure(doc, exp, "init_scale", "initial weight scale (×)")
    ratio = aggregate.paired_ratio(exp.table).sort_values("init_scale")
    reached = aggregate.by_run(exp.table, "steps_to_target")
    parts, gaps = [], []
    for _, r in ratio.iterrows():
        scale = f"×{r['init_scale']:g}"
        if r["n"]:
            parts.append(f"{scale}: {cell(r)}")
            gaps.append(r["mean"])
        else:
            at = reached[reached["init_scale"] == r["init_scale"]]
            parts.append(f"{scale}: target reached by " + ", ".join(
                f"{p} {int(n)}/{int(s)}" for p, n, s in zip(at["pair"], at["n"], at["seeds"],
                                                             strict=True)) + " seeds")
            gaps.append(np.inf if _reached(at, "mse") < _reached(at, "ce") else np.nan)
    return (f"{'Yes' if gap.grows(gaps) else 'No'}: steps to {exp.target}, squared error over "
            "cross-entropy per seed, " + "; ".join(parts) + ".")


def _reached(rows: pd.DataFrame, loss: str) -> float:
    """The share of ``loss``'s seeds (over its runs in ``rows``) that reached the target."""
    at = rows[[style.loss(p) == loss for p in rows["pair"]]]
    return float((at["n"] / at["seeds"]).mean()) if len(at) else np.nan
