"""SGD, SGD with momentum and Adam: updates to the target per optimizer, and whether rescaling
each parameter's step (Adam) cancels squared error's slowdown."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter

from .. import aggregate, compare, plots, style, tables
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from . import standard


def _optimizer(row) -> str:
    """``SGD``, ``SGD+momentum 0.9``, ``Adam``: the optimizer as the runs differ in it."""
    if row["optimizer"] == "adam":
        return "Adam"
    if row.get("momentum", 0):
        return f"SGD+momentum {tables.value(row['momentum'])}"
    return "SGD"


def _named(exp: Experiment) -> Experiment:
    """``exp`` with its optimizer column saying which optimizer, momentum included (the runs
    with momentum would read "sgd"), and its runs told apart by optimizer and η."""
    table = exp.table.assign(optimizer=exp.table.apply(_optimizer, axis=1))
    named = Experiment(exp.name, table, exp.curves)
    named.labels = [c for c in ("optimizer", "lr") if table[c].nunique() > 1] or exp.labels
    return named


def _name(row) -> str:
    return f"{row['optimizer']} η={tables.value(row['lr'])}"


def _log_x(ax) -> None:
    """A log x axis labelled 0.5, 1, 2, 5 (not 5×10⁻¹)."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(plots.PLAIN)
    ax.xaxis.set_minor_formatter(NullFormatter())


def draw(doc: Document, exp: Experiment) -> str:
    exp = _named(exp)
    standard.draw(doc, exp)
    ratio = aggregate.paired_ratio(exp.table)
    ratio = ratio.assign(name=ratio.apply(_name, axis=1))
    steps = aggregate.by_run(exp.table, "steps_to_target")
    steps = steps.assign(name=steps.apply(_name, axis=1))
    names = list(dict.fromkeys(ratio["name"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 2 + plots.LEGEND_INCHES))
    y = np.arange(len(names))[::-1]
    for k, pair in enumerate(style.order(steps["pair"])):
        s = steps[steps["pair"] == pair].set_index("name").reindex(names)
        axes[0].errorbar(s["mean"], y + 0.12 * (k - 0.5), xerr=plots.errors(s), ls="none",
                         marker=style.marker(pair), capsize=2, color=style.colour(pair),
                         label=style.TAG + pair)
    r = ratio.set_index("name").reindex(names)
    axes[1].errorbar(r["mean"], y, xerr=plots.errors(r), ls="none", marker="o", capsize=2,
                     color="0.2")
    axes[1].axvline(1, color="0.5", lw=1, ls="--")
    for ax in axes:
        ax.set_yticks(y, names, fontsize=8)
        _log_x(ax)
        ax.grid(axis="y", visible=False)
    axes[1].set_yticklabels([])
    axes[0].set_xlabel(f"mini-batch updates to {exp.target}")
    axes[1].set_xlabel("squared error's updates / cross-entropy's, per seed")
    plots.finish(fig, steps["pair"])
    doc.figure(fig, "optimizer_ratio", f"optimizer: updates to {exp.target} per optimizer "
               "(left) and their ratio, squared error over cross-entropy, per seed (right; 1: "
               "as fast), geometric mean and 95 % interval over seeds.")
    parts, cancelled, slower = [], [], []
    for name, row in r.iterrows():
        parts.append(f"{compare.plain(row)} under {name}" if row["n"] else
                     f"no seed where both reached {exp.target} under {name}")
        if row["n"] >= aggregate.MIN_SEEDS:
            (cancelled if row["ci_low"] <= 1 <= row["ci_high"] else
             slower if row["ci_low"] > 1 else []).append(name)
    lead = (f"Under {' and '.join(cancelled)} it does: no difference was detected"
            if cancelled else "No optimizer tried cancels it")
    lead += (f", while squared error stays slower under {' and '.join(slower)}"
             if slower else "")
    return Answer(f"{lead}. Squared error's updates to {exp.target} over cross-entropy's, "
                  "at one η per optimizer that both losses share: " + "; ".join(parts)
                  + " (each loss at its own η, under SGD only: the fair_lr and lr_scaling "
                  "sections).", cancelled=[n.split(" η=")[0] for n in cancelled])
