"""The standard section, which every experiment gets: curves against mini-batch updates,
gradient norms, output saturation, steps to target, paired ratios and final accuracy, and the
answer in words from its paired ratios. A section of its own draws this first (most do) and
adds what its question needs; an experiment without one gets only this.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import aggregate, compare, grad_norms, headline, plots, style, tables, titles
from ..document import Document
from ..experiment import Experiment
from ..headline import Answer
from ..plots import Metric, Panel

ACCURACY = Metric("test/accuracy", "test accuracy", bounds=(0, 1))
SIGMOID_CE = "test BCE, summed over the K sigmoid units (nats)"
TEST_CE = Metric("test/ce", "test softmax cross-entropy (nats)", log=True,
                 own_axis=lambda pair: style.split(pair)[0] == "sigmoid",
                 own_label=f"{SIGMOID_CE}, right axis", alone_label=SIGMOID_CE)
TEST_MSE = Metric("test/mse", "test squared error ½Σ(a-y)²", log=True,
                  own_axis=lambda pair: style.family(pair) == "rescaled square",
                  own_label="rescaled loss: ½Σ(a-y)² against one-hot y, right axis")
GRAD_Z = Metric("output/grad_z_abs_mean", "mean |∂ℓ/∂z|", log=True)
SATURATED = Metric("output/saturated_fraction", "saturated outputs", bounds=(0, 1))
GRAD_RATIO = Metric("train/grad_ratio", "‖∂ℓ_sq/∂z‖ / ‖∂ℓ_ce/∂z‖", log=True,
                    reference="grad_ratio_uniform",
                    reference_label="its value at a uniform output: 1/K (softmax), 1/4 (sigmoid)")


def _facets(exp: Experiment, curves: pd.DataFrame) -> tuple[list[list[str]], dict[str, str]]:
    """The facets in blocks of at most :data:`plots.MAX_COLUMNS` (a block per few rows of
    panels), and each facet's title in words."""
    facets = sorted(curves["facet"].unique(), key=_natural)
    named = titles.of_facets(exp.table, exp.facet(exp.table), exp.labels) if exp.labels else {}
    return plots.rows_of(facets), {f: named.get(f, f) for f in facets}


def _target(exp: Experiment, facet: str) -> float:
    """The target accuracy of a facet's runs (NaN unless they share one)."""
    rows = exp.table[exp.facet(exp.table) == facet] if exp.labels else exp.table
    targets = rows["target_accuracy"].dropna().unique()
    return float(targets[0]) if len(targets) == 1 else np.nan


def _grid(exp: Experiment, curves: pd.DataFrame, metrics: list[Metric]) -> list[list[Panel]]:
    """One row per metric, one column per facet, in blocks of facets (each block's first row
    titled, with which pairs diverged there). A metric is drawn where it was logged for at
    least half of the facets (a linear head has no saturation, no gradient ratio): a row of
    panels that are mostly empty says nothing."""
    blocks, named = _facets(exp, curves)
    facets = [f for block in blocks for f in block]
    logged = [m for m in metrics if m.column in curves and 2 * sum(
        curves.loc[curves["facet"] == f, m.column].notna().any() for f in facets) >= len(facets)]
    rows = []
    for block in blocks:
        for i, metric in enumerate(logged):
            rows.append([Panel(named[f] if i == 0 else "", curves[curves["facet"] == f], metric,
                               exp.diverged_in(f) if i == 0 else "",
                               _target(exp, f) if metric is ACCURACY else np.nan)
                         for f in block])
    return rows


def _layers(exp: Experiment, curves: pd.DataFrame) -> list[list[Panel]]:
    """Gradient-norm panels: a row per layer and a column per facet (in blocks of facets)
    when every facet has the same layers; else (facet, layer) panels wrapped into rows, so
    that no panel is empty."""
    layers = [c for c in grad_norms.weight_columns(curves) if curves[c].notna().any()]
    blocks, named = _facets(exp, curves)
    facets = [f for block in blocks for f in block]
    has = {f: [c for c in layers if curves.loc[curves["facet"] == f, c].notna().any()]
           for f in facets}

    def metric(c: str) -> Metric:
        return Metric(c, f"‖∂L/∂W‖ {grad_norms.title(c)}", log=True)

    if all(has[f] == layers for f in facets):
        return [[Panel(named[f] if i == 0 else "", curves[curves["facet"] == f], metric(c),
                       exp.diverged_in(f) if i == 0 else "") for f in block]
                for block in blocks for i, c in enumerate(layers)]
    return plots.rows_of([Panel(f"{grad_norms.title(c)}: {named[f]}", curves[curves["facet"] == f],
                                metric(c), exp.diverged_in(f)) for f in facets for c in has[f]])


def _natural(label: str) -> tuple:
    """Sort "init_scale=3" before "init_scale=10": numbers compare as numbers."""
    parts = []
    for part in label.split(", "):
        value = part.rpartition("=")[2]
        try:
            parts.append((0, float(value), ""))
        except ValueError:
            parts.append((1, 0.0, value))
    return tuple(parts)


def draw(doc: Document, exp: Experiment) -> str:
    """Curves, gradients, saturation, steps to target, paired ratios and final accuracy."""
    name, cols, curves = exp.name, exp.labels, exp.done_curves()
    status = exp.table["status"].value_counts()
    left_out = tables.left_out(exp.table, cols)
    doc.text(f"{exp.table['run'].nunique()} configurations, {len(exp.table)} seeds: "
             + ", ".join(f"{status.get(s, 0)} {s}" for s in ("done", "diverged", "failed")
                         if status.get(s, 0) or s == "done")
             + ". Means, bands and intervals are over the seeds that finished without "
             "diverging (95 % Student-t)." + (f" {left_out}" if left_out else ""))
    first = curves.loc[curves["step"] > 0, "step"].min() if len(curves) else None
    steps = (f"x: mini-batch updates, on a log scale from step {first:g} on"
             if first else "x: mini-batch updates")
    note = f" {left_out}" if left_out else ""
    if curves.empty:  # e.g. ce-vs-mse optimizer.lr=1e6: no seed finished to draw a curve of
        doc.text(f"Every seed of {name} diverged or failed: there are no curves to draw; the "
                 "tables below count them.")
    else:
        _curves(doc, exp, curves, first, steps, note)
    target = exp.target
    shown, numbers = tables.steps_to_target(exp.table, cols, target)
    doc.table(shown, numbers, f"{name}_steps_to_target",
              f"Steps to {target} test accuracy: geometric mean [95 % interval] over the seeds "
              "that reached it")
    rows = aggregate.by_run(exp.table, "steps_to_target")
    doc.figure(plots.bars(rows, cols, f"mini-batch updates to {target} test accuracy"),
               f"{name}_steps_to_target", f"{name}: mini-batch updates until test accuracy "
               f"first reaches {target}, geometric mean and 95 % interval over the seeds that "
               "reached it (a pale bar: over only some of its seeds, counted at its end; a cross: "
               f"no seed reached it; an interval cut at the axis ends in an arrow).{note}")
    ratio = tables.paired_ratio(exp.table, cols)
    if ratio is not None:
        doc.table(*ratio, f"{name}_paired_ratio", "Steps to target of squared error over "
                  "those of cross-entropy, per seed (same head, seed, start and batches; > 1: "
                  "squared error is slower): geometric mean [95 % interval] over the seeds "
                  "where both reached it")
    shown, numbers = tables.final_accuracy(exp.table, cols)
    doc.table(shown, numbers, f"{name}_final_accuracy", "Final test accuracy: mean [95 % "
              "interval] over the seeds that did not diverge")
    return _ratio_answer(exp)


def _curves(doc: Document, exp: Experiment, curves, first, steps: str, note: str) -> None:
    """The three figures of curves against mini-batch updates: accuracy and both losses, the
    gradient reaching each layer, and the output (|∂ℓ/∂z|, saturation, the gradient ratio)."""
    name = exp.name
    pairs = exp.table["pair"]
    rescaled, sigmoid = any(map(TEST_MSE.own_axis, pairs)), any(map(TEST_CE.own_axis, pairs))
    doc.figure(plots.panels_figure(_grid(exp, curves, [ACCURACY, TEST_CE, TEST_MSE]), "step",
                                   "mini-batch updates", first), f"{name}_accuracy_step",
               f"{name}: test accuracy (dashed: the {exp.target} target; a marker where each "
               "mean curve first reaches it), and the cross-entropy and squared error of the "
               "model whatever loss trains it (log scales); mean over seeds, 95 % band; "
               f"{steps}."
               + (" A sigmoid head's BCE is a sum over its K units (K ln 2 at ½ each), not "
                  "one softmax's: it has the right-hand axis." if sigmoid else "")
               + (" The rescaled loss trains the true class's output towards M, so its "
                  "squared error against one-hot targets has the right-hand axis."
                  if rescaled else "")
               + note)
    doc.figure(plots.panels_figure(_layers(exp, curves), "step", "mini-batch updates", first),
               f"{name}_grad_norm", f"{name}: L2 norm of the gradient of each layer's weights "
               f"(geometric mean over seeds with 95 % band, log scale): how much signal reaches "
               f"each layer; {steps}.{note}")
    doc.figure(plots.panels_figure(_grid(exp, curves, [GRAD_Z, SATURATED, GRAD_RATIO]),
                                   "step", "mini-batch updates", first), f"{name}_output",
               f"{name}: at the output, mean |∂ℓ/∂z|, the share of saturated units "
               "(∂a/∂z < 0.01), and squared error's gradient over cross-entropy's (dotted: "
               f"its value at a uniform output).{note}")


OWN_ETA = "each loss at its own η: the fair_lr and lr_scaling sections"


def _ratio_answer(exp: Experiment) -> Answer:
    """Whether squared error needed more updates than cross-entropy, in how many of its
    comparisons and by how much (the range of the per-seed ratios' geometric means), under
    the one condition they were trained in, a shared η (named, with where each loss at its
    own η is); no verdict that holds at one η only. The intervals are in the tables."""
    rows = aggregate.paired_ratio(exp.table)
    if rows.empty:
        return Answer("No cross-entropy and squared-error runs to compare.")
    told = rows[rows["n"] >= aggregate.MIN_SEEDS]
    slower, faster = told[told["ci_low"] > 1], told[told["ci_high"] < 1]
    n = len(rows)
    of = ("its one comparison" if n == 1 else "both its comparisons" if len(slower) == n == 2
          else f"all {n} of its comparisons" if len(slower) == n
          else f"{len(slower)} of its {n} comparisons")
    if len(slower):
        lead = (f"Squared error needed more updates than cross-entropy to reach "
                f"{exp.target} in {of}: {headline.span(list(slower['mean']))} as many")
    else:
        lead = f"Squared error was not detected slower than cross-entropy in {of}"
    others = [f"{what} in {k}" for what, k in (
        ("faster", len(faster)), ("no difference detected", len(told) - len(slower)
                                  - len(faster)),
        (f"fewer than {aggregate.MIN_SEEDS} seeds reached it for an interval",
         n - len(told))) if k]
    condition = compare.shared_condition(exp.table)
    return Answer(f"{lead}{' (' + '; '.join(others) + ')' if others else ''}, "
                  f"{condition[0].lower()}{condition[1:]} ({OWN_ETA}).",
                  shared=[{k: float(r[k]) for k in ("mean", "ci_low", "ci_high")}
                          for _, r in told.iterrows()])
