"""The step-size account on Nielsen's single sigmoid neuron, from the neuron experiment's
runs (cited, not retrained): with one example the factor is σ'(z) = a(1 − a), against its
value ¼ at a = ½; per start, the factor per epoch with each cost (:mod:`..scaling`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import plots, scaling, style, tables
from ..document import Document, number
from ..experiment import Experiment
from ..headline import Answer, rough
from ..seeds import done

STARTS = {(0.6, 0.9): "good start (w = 0.6, b = 0.9)", (2.0, 2.0): "bad start (w = b = 2)"}


def draw(doc: Document, exp: Experiment) -> str:
    table = done(exp.table)
    table = table[[(w, b) in STARTS for w, b in
                   zip(table["init_weight"], table["init_bias"], strict=True)]]
    grid = sorted(table["lr"].unique())
    if table.empty:
        return Answer("No runs from Nielsen's two starts to cite.")
    lr = grid[-1]  # Nielsen's η for both costs
    u = scaling.uniform(table)
    panels, found = [], []
    for (w, b), title in STARTS.items():
        at = table[(table["init_weight"] == w) & (table["init_bias"] == b)
                   & np.isclose(table["lr"], lr)]
        traces = [scaling.trace(table, exp.curves, r["run"], r["pair"], x="epoch")
                  for _, r in at.iterrows()]
        panels.append((f"{title}, η = {tables.value(lr)}", traces, u))
        found.append(_start(exp.curves, at, title.split(" (")[0], u))
    doc.text(f"Cited from the `neuron` experiment's runs ({len(exp.table)} runs, one "
             "deterministic start each), not "
             "retrained. With one example, the factor is σ'(z) = a(1 − a) exactly.")
    doc.figure(scaling.mechanism_figure(panels, 2, x="epoch",
                                        xlabel="epoch (one full-batch gradient step)",
                                        mean_label="its one training example"),
               "lr_scaling_neuron_factor",
               "lr_scaling_neuron (the neuron runs): the factor of each run, σ'(z) = a(1 − a) "
               "for the one example, per epoch, against its value ¼ at a = ½ (dotted); dot: "
               "the epoch the output crossed ½. Far below ¼, the quadratic cost's stall is "
               "saturation; cross-entropy's own run moves the output to where the factor is "
               "large.")
    missing = ("" if scaling.matched(grid, u) is not None else
               f" Its grid (η = {', '.join(tables.value(v) for v in grid)}) has no η with "
               f"η×{tables.value(1 / u)} beside it: the step-size comparison itself is not "
               "made there.")
    kinds = [f.split(":", 1)[0] for f in found if f]
    lead = " and ".join(dict.fromkeys(kinds))
    text = "; ".join(f.split(": ", 1)[1] for f in found if f)
    return Answer(f"{lead[0].upper()}{lead[1:]}: at η = {tables.value(lr)}, {text}. Cited "
                  "from the neuron experiment's runs, not retrained." + missing,
                  saturated="saturation from the bad start" in kinds)


def _start(curves: pd.DataFrame, at: pd.DataFrame, start: str, u: float) -> str:
    """One start in words: the quadratic cost's factor at the first epoch, which is a(1 − a)
    at its output a, over u; and when it starts under :data:`.scaling.SATURATED`·u, for how
    many epochs each cost's factor stayed there."""
    sq = at[at["pair"].map(style.loss) == "mse"]
    if sq.empty:
        return ""
    c = curves[curves["run"] == sq["run"].iloc[0]].dropna(subset=[scaling.FACTOR])
    first = c.sort_values("epoch").iloc[0]
    a = float(np.sqrt(2 * first["train/mse"]))  # the target is 0: ½a² is the squared error
    factor = float(first[scaling.FACTOR])
    same = np.isclose(factor, a * (1 - a), rtol=1e-3)
    text = (f"from the {start} the quadratic cost's factor is {number(factor)}"
            + (" = a(1 − a) at its output" if same else
               f" (a(1 − a) = {number(a * (1 - a))} at its output)")
            + f", {rough(factor / u)}× its value {plots.fraction(u)} at a = ½")
    low = scaling.SATURATED * u
    if factor >= low:
        return f"a smaller step from the {start}: {text}"
    stays = [f"{_stall(curves[curves['run'] == r['run']], low)} with {_who(r['pair'])}"
             for _, r in at.iterrows()]
    return (f"saturation from the {start}: {text}, {rough(u / factor)}× smaller than a step "
            f"that η×{tables.value(1 / u)} would make up; the factor stayed under "
            f"{plots.fraction(low)} for " + " and ".join(stays))


def _who(pair: str) -> str:
    return "the quadratic cost" if style.loss(pair) == "mse" else "cross-entropy"


def _stall(c: pd.DataFrame, low: float) -> str:
    """``60 epochs``: how long a run's factor stayed under ``low`` from the first epoch."""
    c = c.dropna(subset=[scaling.FACTOR]).sort_values("epoch")
    up = c.loc[c[scaling.FACTOR] >= low, "epoch"]
    if up.empty:
        return f"all its {number(c['epoch'].max(), steps=True)} epochs"
    return f"{number(up.iloc[0] - c['epoch'].iloc[0], steps=True)} epochs"
