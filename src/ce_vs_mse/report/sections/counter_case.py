"""The counter-case (Hui & Belkin 2021): without a saturating output, a linear head trained with
squared error against softmax + cross-entropy at the same learning rates."""

from __future__ import annotations

from .. import aggregate, style
from ..document import Document
from ..experiment import Experiment
from ..tables import cell
from . import standard


def draw(doc: Document, exp: Experiment) -> str:
    standard.draw(doc, exp)
    rows = aggregate.by_run(exp.table, "steps_to_target")
    parts, as_fast = [], []
    for lr in sorted(rows["lr"].unique()):
        at = rows[rows["lr"] == lr].set_index("pair").loc[style.order(rows.loc[rows["lr"] == lr,
                                                                               "pair"])]
        cells = []
        for pair, r in at.iterrows():
            if r["diverged"]:
                cells.append(f"{pair} diverged {int(r['diverged'])}/{int(r['seeds'])}")
            elif r["n"] == 0:
                cells.append(f"{pair} not reached")
            else:
                cells.append(f"{pair} {cell(r, steps=True)}")
        parts.append(f"η = {lr:g}: " + ", ".join(cells))
        if {"softmax+ce", "linear+mse"} <= set(at.index):
            ce, lin = at.loc["softmax+ce"], at.loc["linear+mse"]
            if lin["n"] == lin["seeds"] and ce["n"] and lin["mean"] <= ce["ci_high"]:
                as_fast.append(f"{lr:g}")
    verdict = (f"Yes at η = {', '.join(as_fast)}" if as_fast else "No")
    return (f"{verdict} (linear + squared error reaching {exp.target} in all seeds no later "
            "than softmax + CE's interval). Steps to target: " + "; ".join(parts) + ".")
