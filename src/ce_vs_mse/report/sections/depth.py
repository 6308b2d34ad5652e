"""Deeper sigmoid networks (Glorot & Bengio 2010): accuracy and updates to the target per
depth, at a shared η and at each loss's own (chosen on validation); per-layer gradient norms;
and whether squared error's lag behind cross-entropy grows with depth."""

from __future__ import annotations

import ast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .. import aggregate, compare, gap, grad_norms, plots, seeds, style, tables, tuning
from ..document import Document
from ..experiment import Experiment
from ..plots import Metric, Panel
from ..tables import cell


def _depth(hidden: str) -> int:
    return len(ast.literal_eval(hidden))


def draw(doc: Document, exp: Experiment) -> str:
    table = exp.table.assign(depth=exp.table["hidden"].map(_depth))
    shared = tuning.shared_lr(table)
    own = tuning.choose(table, tuning.SPEED)
    own = own.assign(depth=own["hidden"].map(_depth)).set_index(["depth", "pair"])
    rows = []
    for d in sorted(table["depth"].unique()):
        at = table[table["depth"] == d]
        for pair in style.order(at["pair"]):
            runs = aggregate.by_run(at[at["pair"] == pair], "final test/accuracy")
            picks = [("shared η", runs[np.isclose(runs["lr"], shared)].iloc[0], "")]
            if (d, pair) in own.index:  # some η reached the target on validation
                chosen = own.loc[(d, pair)]
                picks.append(("own η", runs[runs["run"] == chosen["run"]].iloc[0],
                              tuning.edge(chosen)))
            for which, r, edge in picks:
                of_run = at[at["run"] == r["run"]]
                steps = aggregate.mean_ci(seeds.done(of_run)["steps_to_target"].dropna(),
                                          log=True)
                rows.append({"depth": d, "pair": pair, "which": which, "lr": r["lr"],
                             "edge": edge, "run": r["run"], "acc": r, "steps": steps,
                             "reached": f"{steps['n']}/{len(of_run)}", "seeds": len(of_run)})
    df = pd.DataFrame(rows)
    _figure(doc, df, exp.target, shared)
    _gradients(doc, exp, table, shared)
    shown = pd.DataFrame({
        "hidden layers": df["depth"], "pair": df["pair"], "η": [
            tables.value(lr) + ("" if w == "shared η" else
                                f" (own; the grid's {e}: not bracketed)" if e else " (own)")
            for lr, w, e in zip(df["lr"], df["which"], df["edge"], strict=True)],
        "final test accuracy": [cell(a) for a in df["acc"]],
        f"steps to {exp.target}": [cell(s, steps=True) for s in df["steps"]],
        "reached": df["reached"]})
    numbers = pd.DataFrame({
        "hidden_layers": df["depth"], "pair": df["pair"], "eta": df["which"], "lr": df["lr"],
        "bracketed": df["edge"] == "",
        "accuracy_mean": [a["mean"] for a in df["acc"]],
        "accuracy_ci_low": [a["ci_low"] for a in df["acc"]],
        "accuracy_ci_high": [a["ci_high"] for a in df["acc"]],
        "steps_mean": [s["mean"] for s in df["steps"]],
        "steps_ci_low": [s["ci_low"] for s in df["steps"]],
        "steps_ci_high": [s["ci_high"] for s in df["steps"]]})
    doc.table(shown.drop_duplicates(subset=["hidden layers", "pair", "η"]),
              tables.rounded_numbers(numbers), "depth",
              f"Each depth and pair at the shared η = {shared:g} and at its own η, chosen on the "
              f"validation split for the fewest updates to {exp.target} (none where no η reached "
              "it there), on the test split: accuracy as mean [95 % interval], steps as "
              "geometric mean [95 % interval] over the seeds that reached the target")
    return _answer(table, exp.target, shared)


def _figure(doc: Document, df: pd.DataFrame, target: str, shared: float) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6 + plots.LEGEND_INCHES))
    missing, partial = [], False  # steps: shared-η points no seed reached; fewer than all
    for ax, (key, ylabel) in zip(axes, (("acc", "final test accuracy"),
                                        ("steps", f"mini-batch updates to {target}")),
                                 strict=True):
        for pair in style.order(df["pair"]):
            for which, width in (("shared η", 1.0), ("own η", 2.0)):
                s = df[(df["pair"] == pair) & (df["which"] == which)]
                if s.empty:  # no own η: no η reached the target on validation
                    continue
                stats = pd.DataFrame([{k: v[k] for k in ("mean", "ci_low", "ci_high", "n")}
                                      for v in s[key]], dtype=float)
                look = {**style.line(pair), "linestyle": "-" if which == "own η" else ":"}
                ax.errorbar(s["depth"], stats["mean"].to_numpy(), yerr=plots.errors(stats),
                            marker=style.marker(pair), ms=4, capsize=2, lw=width, **look)
                if key != "steps":
                    continue
                for d, r, n in zip(s["depth"], stats.itertuples(), s["seeds"], strict=True):
                    if np.isfinite(r.mean) and r.n < n:  # a mean over only some seeds
                        ax.plot(d, r.mean, ls="none", marker=style.marker(pair), ms=6,
                                mfc="white", mec=look["color"], mew=1.3, zorder=3)
                        ax.annotate(f"{int(r.n)}/{n} reached", (d, r.mean), xytext=(5, 3),
                                    textcoords="offset points", fontsize=7, color="0.2")
                        partial = True
                    elif not np.isfinite(r.mean) and which == "shared η":
                        missing.append((d, pair, f"{int(r.n)}/{n}\nreached"))
        ax.set_xticks(sorted(df["depth"].unique()))
        ax.set_xlabel("hidden sigmoid layers")
        ax.set_ylabel(ylabel)
    axes[1].set_yscale("log")
    plots.log_ticks(axes[1])
    plots.crosses(axes[1], missing)
    extra = [Line2D([], [], color="0.3", lw=2.0, label="each loss's own η (validation)"),
             Line2D([], [], color="0.3", lw=1.0, ls=":", label=f"shared η = {shared:g}"),
             *([plots.HOLLOW] if partial else []), *([plots.CROSS] if missing else [])]
    plots.finish(fig, df["pair"], extra)
    doc.figure(fig, "depth", f"depth: final test accuracy and updates to {target} against the "
               "number of hidden layers at the shared η and at each loss's own η (chosen on "
               "validation), mean and 95 % interval over seeds (updates: geometric mean over "
               "the seeds that reached it; a hollow point: over only some of its seeds; a cross "
               "at the top: at the shared η no seed reached it).")


def _gradients(doc: Document, exp: Experiment, table: pd.DataFrame, shared: float) -> None:
    """Per-layer gradient norms at the first logged step, against the layer, per depth; and
    over training for the deepest network."""
    runs = table[np.isclose(table["lr"], shared)][["run", "depth"]].drop_duplicates()
    curves = seeds.done(exp.curves).merge(runs, on="run")
    depths = sorted(runs["depth"].unique())
    first = curves.loc[curves["step"] > 0, "step"].min()
    fig, axes = plt.subplots(1, len(depths), figsize=(2.9 * len(depths) + 0.8,
                                                       3.2 + plots.LEGEND_INCHES),
                             sharey=True, squeeze=False)
    for ax, d in zip(axes[0], depths, strict=True):
        at = curves[(curves["depth"] == d) & (curves["step"] == first)]
        layers = [f"layer{i}" for i in range(1, d + 1)] + ["output"]
        for pair in style.order(at["pair"]):
            norms = at[at["pair"] == pair][[grad_norms.column(n) for n in layers]]
            gm = np.exp(np.log(norms).mean())  # geometric mean over seeds
            ax.plot(range(1, len(layers) + 1), gm.to_numpy(), marker=style.marker(pair),
                    ms=4, lw=1.5, **style.line(pair))
        ax.set_xticks(range(1, len(layers) + 1), [n.replace("layer", "") for n in layers])
        ax.set_title(f"{d} hidden layer{'s' if d > 1 else ''}", fontsize=8.5)
        ax.set_xlabel("layer (input → output)")
        ax.set_yscale("log")
    plots.log_ticks(axes[0, 0])
    axes[0, 0].set_ylabel(f"‖∂L/∂W‖ at step {first:g}")
    plots.finish(fig, curves["pair"])
    doc.figure(fig, "depth_gradient_by_layer", f"depth: the L2 norm of each layer's weight "
               f"gradient at the first logged step ({first:g}) at η = {shared:g}, geometric mean "
               "over seeds: how much of the output's signal reaches each layer.")
    deepest = curves[curves["depth"] == depths[-1]]
    logged = [c for c in grad_norms.weight_columns(deepest) if deepest[c].notna().any()]
    panels = plots.rows_of([Panel(grad_norms.title(c), deepest,
                                  Metric(c, "‖∂L/∂W‖", log=True)) for c in logged], 3)
    doc.figure(plots.panels_figure(panels, "step", "mini-batch updates", first),
               "depth_gradient_deepest", f"depth: each layer's weight-gradient norm over "
               f"training in the {depths[-1]}-hidden-layer network at η = {shared:g} "
               "(geometric mean over seeds with 95 % band; log scales).")


def _answer(table: pd.DataFrame, target: str, shared: float) -> str:
    """Whether squared error's lag behind cross-entropy grows with depth, at the shared η and
    at each loss's own η (:func:`.compare.versus`; :func:`.gap.grows`: only cross-entropy
    reaching the target is the widest gap, depths where neither does are left out), at each
    loss's own η only where every depth's optimum was bracketed; then the ratios per depth in
    a few words (the intervals are in the table)."""
    parts, gaps, edges = {"shared": [], "own": []}, {"shared": [], "own": []}, []
    for d, at in table.groupby("depth"):
        for v in compare.versus(at, target, shared):
            parts["shared"].append(f"{d}: {v['shared'][0]}")
            parts["own"].append(f"{d}: {v['own'][0]}" if v["chosen"] is not None else
                                f"{d}: no own η")
            for which in gaps:
                if v[which] is not None and not np.isnan(v[which][1]):
                    gaps[which].append(v[which][1])
            edges += [f"{r['pair']}'s η = {r['lr']:g} at {d} layer{'s' if d > 1 else ''}"
                      for r in v["chosen"] or () if tuning.edge(r)]
    own = (_trend(gaps["own"], "at each loss's own η, chosen on validation,") if not edges else
           f"at each loss's own η the optimum was not bracketed ({', '.join(edges)}: the "
           "grid's edge), so no trend is named there")
    return (f"{_trend(gaps['shared'], f'At the shared η = {shared:g}')}; {own}. Squared "
            f"error's updates to {target} over cross-entropy's, by number of hidden layers, "
            f"at the shared η: {'; '.join(parts['shared'])}; at each loss's own η: "
            f"{'; '.join(parts['own'])}.")


def _trend(gaps: list[float], where: str) -> str:
    """``At η = 0.5 the gap grows with depth`` (or does not), or that too few depths have one
    to tell."""
    if len(gaps) < 2:
        return f"{where} too few depths have a gap (a loss reaching the target) to tell a trend"
    return f"{where} the gap {'grows' if gap.grows(gaps) else 'does not grow'} with depth"
