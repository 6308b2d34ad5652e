"""Nielsen's single sigmoid neuron (x = 1, target 0): output, cost and |∂C/∂w| per epoch for a
good and a badly saturated start, with the quadratic cost and with cross-entropy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ...core import losses
from .. import grad_norms, plots, style, tables
from ..document import Document, number, significant
from ..experiment import Experiment


def draw(doc: Document, exp: Experiment) -> str:
    """Nielsen's figures: output, cost and |∂C/∂w| per epoch for both starts and both costs."""
    starts = {(0.6, 0.9): "good start (w=0.6, b=0.9)", (2.0, 2.0): "bad start (w=b=2)"}
    table = exp.table[[(w, b) in starts for w, b in
                       zip(exp.table["init_weight"], exp.table["init_bias"], strict=True)]]
    table = table.sort_values(["init_weight", "loss", "lr"])
    fig, axes = plt.subplots(3, 2, figsize=(10, 8 + plots.LEGEND_INCHES), sharex=True)
    rows, lrs = [], sorted(table["lr"].unique(), reverse=True)
    gradient = grad_norms.column("output")
    for _, r in table.iterrows():
        c = exp.curves[exp.curves["run"] == r["run"]]
        ev = c.dropna(subset=["test/mse"])
        a = np.sqrt(2 * ev["test/mse"].to_numpy())  # the target is 0: ½a² = squared error
        j = list(starts).index((r["init_weight"], r["init_bias"]))
        look = {**style.line(r["pair"]), "lw": 1.8 if r["lr"] == lrs[0] else 1.1,
                "alpha": 1.0 if r["lr"] == lrs[0] else 0.5}
        axes[0, j].plot(ev["epoch"], a, **look)
        cost = "test/ce" if losses.get(r["loss"]).log_loss else "test/mse"  # its own loss
        # BCE starts near 4, the quadratic cost near ½: each against its own starting value
        axes[1, j].plot(ev["epoch"], ev[cost] / ev[cost].iloc[0], **look)
        g = c.dropna(subset=[gradient])
        axes[2, j].plot(g["epoch"], g[gradient], **look)
        below = np.nonzero(a < 0.5)[0]
        rows.append({"start": starts[(r["init_weight"], r["init_bias"])], "pair": r["pair"],
                     "η": r["lr"], "output at start": a[0], "epochs": int(ev["epoch"].iloc[-1]),
                     "output at the end": a[-1],
                     "epochs until output < ½": ev["epoch"].iloc[below[0]] if below.size
                     else np.nan})
    at_start = {r["start"]: r["output at start"] for r in rows}
    for j, title in enumerate(starts.values()):
        axes[0, j].set_title(f"{title[0].upper()}{title[1:]}: output {at_start[title]:.2f} "
                             "at the start")
        axes[2, j].set_yscale("log")
        axes[2, j].set_xlabel("epoch (one full-batch gradient step)")
    labels = ["output a = σ(wx+b)", "cost C / its value at the start\n(each its own loss)",
              "|∂C/∂w| (log scale)"]
    for ax, lab in zip(axes[:, 0], labels, strict=True):
        ax.set_ylabel(lab)
    dashes = style.line(table["pair"].iloc[0])["linestyle"]  # the head's: every curve's
    widths = [Line2D([], [], color="0.3", ls=dashes, lw=1.8 if lr == lrs[0] else 1.1,
                     alpha=1.0 if lr == lrs[0] else 0.5, label=f"η = {lr:g}") for lr in lrs]
    plots.finish(fig, table["pair"], widths)
    df = pd.DataFrame(rows)
    epochs = df["epochs"].unique()
    end = f"output after {epochs[0]} epochs" if len(epochs) == 1 else "output at the end"
    df = df.rename(columns={"output at the end": end})
    if len(epochs) == 1:
        df = df.drop(columns="epochs")
    numbers = df.assign(**{c: df[c].map(significant) for c in ("output at start", end)})
    shown = df.assign(**{"η": df["η"].map(tables.value),
                         "output at start": df["output at start"].map(number),
                         end: df[end].map(number),
                         "epochs until output < ½": df["epochs until output < ½"].map(
                             lambda e: number(e, steps=True) or "not within the run")})
    fast = _epochs(df, lrs[0])
    doc.figure(fig, "neuron", f"Single sigmoid neuron (x = 1, target 0), full-batch gradient "
               f"descent. At η = {lrs[0]:g} the output falls below ½ after "
               f"{fast['bad start', 'mse']} epochs from the bad start with the quadratic cost, "
               f"{fast['bad start', 'bce']} with cross-entropy (good start: "
               f"{fast['good start', 'mse']} and {fast['good start', 'bce']}). Middle row: each "
               "cost over its own value at the start, as cross-entropy and the quadratic cost "
               f"are on different scales. Thin pale lines: η = {lrs[-1]:g}.")
    doc.table(shown, numbers, "neuron", "Single neuron: output before and after training")
    mse_slowdown = _ratio(fast["bad start", "mse"], fast["good start", "mse"])
    ce_slowdown = _ratio(fast["bad start", "bce"], fast["good start", "bce"])
    stalls = "far more" if mse_slowdown > ce_slowdown else "no more"
    return (f"The bad start stalls the quadratic cost {stalls} than cross-entropy: at "
            f"Nielsen's η = {lrs[0]:g} its output takes {fast['bad start', 'mse']} epochs to "
            f"fall below ½, against {fast['bad start', 'bce']} with cross-entropy (from the "
            f"good start {fast['good start', 'mse']} and {fast['good start', 'bce']}); one "
            "deterministic start, so no interval.")


def _epochs(df: pd.DataFrame, lr: float) -> dict:
    """(start, loss) -> epochs until the output fell below ½ at ``lr``, as text."""
    out = {}
    for _, r in df[df["η"] == lr].iterrows():
        key = (r["start"].split(" (")[0], style.loss(r["pair"]))
        e = r["epochs until output < ½"]
        out[key] = number(e, steps=True) if pd.notna(e) else "more than the run's"
    return out


def _ratio(a: str, b: str) -> float:
    try:
        return float(a) / float(b)
    except ValueError:
        return np.inf
