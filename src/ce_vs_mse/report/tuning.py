"""Each loss at its own learning rate, chosen without the test set.

A run's η is *chosen* on the validation split that ``dataset.val_fraction`` carves from the
training data (never on the test split): for a speed question, the η whose seeds reach the
target validation accuracy most often and, among those, in the fewest updates (geometric mean
over seeds); for an accuracy question, the η with the highest mean final validation accuracy.
Runs with a diverged or failed seed are passed over while a clean run exists. The choice says
whether it is *bracketed*: an optimum at the smallest or the largest η of the grid was not
(a better η may lie beyond it), and a section says so instead of naming a winner from it.

A section that compares the losses at one *shared* η as well uses :func:`shared_lr`: the η
that the one-η experiments (quickstart, multiclass, saturation, optimizer's SGD) train both
losses at, so that its shared-η numbers are theirs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import aggregate, seeds

SPEED, ACCURACY = "val_steps_to_target", "final val/accuracy"
SHARED_LR = 0.5  # configs/optimizer/sgd.yaml's η: the one-η experiments train at it


def has_validation(table: pd.DataFrame) -> bool:
    """Whether the runs were trained with a validation split to choose η on."""
    return ACCURACY in table and table[ACCURACY].notna().any()


def shared_lr(table: pd.DataFrame) -> float:
    """The shared η to compare the losses at: :data:`SHARED_LR` when every pair (and every
    other setting, e.g. each depth) was trained at it, else the smallest η they all were."""
    others = [c for c in aggregate.varying(table) if c != "lr"]
    common = set.intersection(*(set(g["lr"]) for _, g in table.groupby(["pair", *others])))
    if not common:
        return float(table["lr"].min())
    return SHARED_LR if SHARED_LR in common else min(common)


def choose(table: pd.DataFrame, criterion: str = SPEED) -> pd.DataFrame:
    """For each pair (and every other varying param but η), the run at its own best η by
    ``criterion`` (:data:`SPEED` or :data:`ACCURACY`): one row per pair with ``lr``, ``run``,
    ``bracketed`` (the best η is inside the grid) and ``grid`` (the η tried)."""
    runs = aggregate.by_run(table, criterion)
    others = [c for c in runs.columns if c in aggregate.varying(table) and c != "lr"]
    out = []
    for _, group in runs.groupby(["pair", *others], sort=True, dropna=False):
        pick = _pick(group, criterion)
        if pick is None:
            continue
        row = group.loc[pick].copy()
        grid = np.sort(group["lr"].unique())
        row["bracketed"] = bool(grid[0] < row["lr"] < grid[-1])
        row["grid"] = tuple(float(g) for g in grid)
        out.append(row)
    return pd.DataFrame(out).reset_index(drop=True)


def _pick(group: pd.DataFrame, criterion: str):
    """The index of the best run of one pair's η grid."""
    if criterion == ACCURACY:
        return seeds.best(group, largest=True)
    ranked = group if seeds.clean(group).empty else seeds.clean(group)
    ranked = ranked[ranked["n"] > 0]  # some seed reached the target on the validation split
    if ranked.empty:
        return None
    most = ranked["n"].max()  # the most seeds that reached it, then the fewest updates
    return ranked[ranked["n"] == most]["mean"].idxmin()


def edge(row: pd.Series) -> str:
    """``largest`` or ``smallest``: which end of its grid the η of a run of :func:`choose`
    is at, when it is not bracketed; "" when it is."""
    if row["bracketed"]:
        return ""
    return "largest" if row["lr"] >= max(row["grid"]) else "smallest"


def describe(row: pd.Series) -> str:
    """``η = 2``, or ``η = 10 (the grid's largest: not bracketed)`` for a run of
    :func:`choose` at its grid's edge."""
    at = edge(row)
    return f"η = {row['lr']:g}" + (f" (the grid's {at}: not bracketed)" if at else "")
