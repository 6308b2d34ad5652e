"""Each loss at its own best learning rate: the standard section, the sweep over η, and each
pair's best η by final accuracy and by steps to target."""

from __future__ import annotations

import pandas as pd

from .. import aggregate, seeds, style, sweep, tables
from ..document import Document, number
from ..experiment import Experiment
from ..tables import cell
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    sweep.figure(doc, exp, "lr", "learning rate η")
    best = _best(exp, "final test/accuracy", largest=True)
    shown = pd.DataFrame({"pair": best.index, "best η": best["lr"].map(tables.value),
                          "final test accuracy": [cell(r) for _, r in best.iterrows()],
                          "seeds": [tables.seeds(r) for _, r in best.iterrows()]})
    doc.table(shown, best.reset_index()[["pair", "lr", "mean", "ci_low", "ci_high", "n"]],
              "fair_lr_best", "Each loss at its own best η (by mean final test accuracy, "
              "among runs with no diverged seed)")
    fast = _best(exp, "steps_to_target", largest=False)
    (ce, ce_row), (sq, sq_row) = list(best.iterrows())[:2]
    overlap = ce_row["ci_low"] <= sq_row["ci_high"] and sq_row["ci_low"] <= ce_row["ci_high"]
    ce_acc, sq_acc = cell(ce_row), cell(sq_row)
    return (f"{'Yes' if overlap else 'No'} in final accuracy (the intervals "
            f"{'overlap' if overlap else 'do not overlap'}): {ce} {ce_acc} at η = "
            f"{ce_row['lr']:g}, {sq} {sq_acc} at η = {sq_row['lr']:g}; fewest steps to "
            f"{exp.target}: " + ", ".join(
                f"{p} {number(r['mean'], steps=True)} at η = {r['lr']:g}"
                for p, r in fast.iterrows()) + ".")


def _best(exp: Experiment, column: str, largest: bool) -> pd.DataFrame:
    """Each pair's run with the best mean ``column`` (:func:`.seeds.best`), indexed by pair in
    the report's order; a pair none of whose runs has a mean is left out."""
    rows = aggregate.by_run(exp.table, column)
    picks = [seeds.best(rows[rows["pair"] == pair], largest) for pair in style.order(rows["pair"])]
    return rows.loc[[p for p in picks if p is not None]].set_index("pair")
