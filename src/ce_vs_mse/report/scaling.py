"""Squared error at η against a log-loss at η/K: which learning rates match, the per-seed
ratios of their steps to target in words, and the mechanism factor the runs measured
(SCIENCE.md, "Two effects, not one"). Used by the lr_scaling, classes and cited depth and
neuron sections.

At a uniform output, squared error's gradient at z is its log-loss's times u = 1/K (softmax)
or ¼ (sigmoid units): every run logs u as ``grad_ratio_uniform``. So squared error at η is
predicted to train like the log-loss at u·η (its *effective* η), and squared error at η/u
like the log-loss at η. What that prediction leaves out shows in ``train/grad_ratio``, the
factor measured at the model's own outputs: near or above u, a step-size effect (above it
when a softmax concentrates on a few classes); far below u, saturation.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import aggregate, plots, seeds, style
from .document import number
from .tables import cell, value

FACTOR, LOW = "train/grad_ratio", "train/grad_ratio_q10"  # mean, 10th percentile
UNIFORM = "grad_ratio_uniform"
SHARED_LR = 0.5  # the shared η compared at, where the grid has it and η/u (depth, classes too)
SATURATED = 0.1  # saturation: a 10th percentile below this share of its uniform value u
THIN, THICK = 1.0, 2.2  # line widths: a 10th percentile (or squared error at its own η), a mean


def uniform(rows: pd.DataFrame) -> float:
    """The uniform-output ratio u of these runs (1/K, ¼; NaN for a linear head or runs that
    did not log it): the median of their final ``grad_ratio_uniform``."""
    column = f"final {UNIFORM}"
    return float(rows[column].median()) if column in rows else np.nan


def effective_lr(pair: str, lr: float, u: float) -> float:
    """The log-loss η that ``pair`` at ``lr`` is predicted to train like: u·η for squared error
    through a softmax or sigmoid head, η itself for a log-loss (or a head without u)."""
    return lr * u if style.loss(pair) == aggregate.SQUARED and np.isfinite(u) else lr


def matched(grid, u: float, near: float = SHARED_LR) -> float | None:
    """The η of ``grid`` nearest ``near`` (on a log scale) whose η/u is in the grid as well:
    the log-loss at η against squared error at η/u. None when no η of the grid has one."""
    grid = np.sort(np.asarray(list(grid), dtype=float))
    if not np.isfinite(u) or not len(grid):
        return None
    both = [lr for lr in grid if np.isclose(grid, lr / u, rtol=1e-6).any()]
    return float(min(both, key=lambda lr: abs(np.log(lr / near)))) if both else None


def run_at(table: pd.DataFrame, pair: str, lr: float) -> str | None:
    """The run of ``pair`` at ``lr`` in ``table`` (one setting's runs), or None."""
    at = table[(table["pair"] == pair) & np.isclose(table["lr"], lr)]
    return at["run"].iloc[0] if len(at) else None


def compare(table: pd.DataFrame, slow: str | None, fast: str | None) -> dict:
    """Steps to target of run ``slow`` over run ``fast``, per seed (:func:`.seeds.ratio`:
    geometric mean and log interval, ``n`` seeds where both reached it), with ``seeds`` (the
    seeds both runs have) and ``reached``: (seeds of ``slow``, of ``fast``, that reached it)."""
    if slow is None or fast is None:
        return {"n": 0, "mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "seeds": 0,
                "reached": (0, 0), "missing": True}
    out = seeds.ratio(table, slow, fast)
    both = set(table.loc[table["run"] == slow, "seed"]) & set(table.loc[table["run"] == fast,
                                                                        "seed"])
    reached = tuple(int(seeds.done(table[table["run"] == r])["steps_to_target"].notna().sum())
                    for r in (slow, fast))
    return {**out, "seeds": len(both), "reached": reached, "missing": False}


def needs(what: str, r: dict, who: str = "squared error", fast: str = "cross-entropy") -> str:
    """``at η = 0.5 squared error needs ×5.9 [5.1, 6.9] the updates (4 of 5 seeds)``, or
    ``at η = 0.5: no seed where both reached it (squared error 0/5, cross-entropy 4/5)``;
    ``who`` names the slower run (``it`` in a second clause)."""
    if r["missing"]:
        return f"{what}: not in the grid"
    if not r["n"]:
        total, (a, b) = r["seeds"], r["reached"]
        return (f"{what}: no seed where both reached it (squared error {a}/{total}, {fast} "
                f"{b}/{total})")
    notes = ratio_notes(r)
    return f"{what} {who} needs ×{cell(r)} the updates" + (f" ({notes})" if notes else "")


def short(r: dict) -> str:
    """A table cell: :func:`ratio_text`, or why there is no ratio."""
    if r["missing"]:
        return "not in the grid"
    return ratio_text(r) or "no seed where both reached it"


def ratio_text(r: dict) -> str:
    """``×5.9 [5.1, 6.9]`` (a ratio of :func:`compare`), with :func:`ratio_notes`; "" when no
    seed pairs up."""
    if not r["n"]:
        return ""
    notes = ratio_notes(r)
    return f"×{cell(r)}" + (f" ({notes})" if notes else "")


def ratio_notes(r: dict) -> str:
    """How many seeds a ratio stands on when not all, and "no difference detected at n = 5"
    when its interval holds 1 (overlapping 1 is not equivalence); no interval from fewer
    than :data:`.aggregate.MIN_SEEDS`."""
    n, total = r["n"], r["seeds"]
    if n < aggregate.MIN_SEEDS:
        return f"{n} of {total} seeds both reached it: no interval"
    notes = [] if n == total else [f"{n} of {total} seeds"]
    if r["ci_low"] <= 1 <= r["ci_high"]:
        notes.append(f"no difference detected at n = {n}")
    return "; ".join(notes)


def listing(rows: list[dict], key: str) -> tuple[str, str]:
    """Ratios of :func:`compare` along ``key`` (e.g. K): the cells ``×3.4 [1.0, 11] (K = 2),
    ×4.3 (K = 5, 2 of 3 seeds both reached it: no interval)``, and a note, said once, of
    where the intervals hold 1 ("no difference detected"), or ""."""
    cells, holds = [], []
    for r in rows:
        where = f"{key} = {value(r[key])}"
        if r["missing"] or not r["n"]:
            cells.append(f"— ({where}: " + ("not in the grid" if r["missing"] else
                                            "no seed where both reached it") + ")")
            continue
        few = r["n"] < aggregate.MIN_SEEDS
        note = (f", {r['n']} of {r['seeds']} seeds both reached it"
                + (": no interval" if few else "") if r["n"] < r["seeds"] else "")
        cells.append(f"×{cell(r)} ({where}{note})")
        if not few and r["ci_low"] <= 1 <= r["ci_high"]:
            holds.append((value(r[key]), r["n"]))
    note = ""
    if holds:
        ns = sorted({n for _, n in holds})
        note = (f"the interval holds 1 at {key} = {', '.join(k for k, _ in holds)}: no "
                f"difference detected at n = {', '.join(map(str, ns))}")
    return ", ".join(cells), note


def setting(at: pd.DataFrame, curves: pd.DataFrame, name: str) -> dict | None:
    """One setting's runs (``at``: one head, every η): squared error over the log-loss at the
    shared η (:func:`matched`) and with its η scaled by 1/u, and what the factor squared
    error trained with at η/u shows; None without both losses or a matched η."""
    pairs = style.order(at["pair"])
    logs = [p for p in pairs if style.family(p) == "cross-entropy"]
    squares = [p for p in pairs if style.loss(p) == aggregate.SQUARED]
    u = uniform(at)
    lr0 = matched(at["lr"].unique(), u)
    if not logs or not squares or lr0 is None:
        return None
    ce, sq = logs[0], squares[0]
    runs = {"ce": run_at(at, ce, lr0), "sq": run_at(at, sq, lr0),
            "scaled": run_at(at, sq, lr0 / u)}
    return {"setting": name, "u": u, "lr": lr0, "pair": sq, "log_pair": ce, "runs": runs,
            "table": at, "shared": compare(at, runs["sq"], runs["ce"]),
            "scaled": compare(at, runs["scaled"], runs["ce"]),
            "factor": factor(at, curves, runs["scaled"])}


def clause(f: dict) -> str:
    """A :func:`setting` in words: ``<setting>: at a shared η = 0.5 squared error needs ×a
    the updates; with its η scaled by 10 (to 5) it needs ×b; what is left is <factor>``;
    where a ratio has no seed to stand on, where each loss reached the target instead."""
    lr0, u = f["lr"], f["u"]
    text = (f"{f['setting']}: " + needs(f"at a shared η = {value(lr0)}", f["shared"]) + "; "
            + needs(f"with its η scaled by {value(1 / u)} (to {value(lr0 / u)})", f["scaled"],
                    who="it"))
    shows = factor_text(*f["factor"], plots.fraction(u))
    if f["shared"]["n"] and f["scaled"]["n"]:
        return f"{text}; what is left is {shows}"
    at, pairs = f["table"], (f["log_pair"], f["pair"])
    if not (aggregate.by_run(at[at["pair"].isin(pairs)], "steps_to_target")["n"] > 0).any():
        return (f"{text}; neither loss reached it at any η, so no lag is left to explain; at "
                f"the output, {shows}")
    return (f"{text}; over the grid, {reach(at, pairs[0])}, {reach(at, pairs[1])}; what is "
            f"left is {shows}")


def reach(at: pd.DataFrame, pair: str) -> str:
    """``cross-entropy reached it in every seed at η = 2, 5, 10`` or ``squared error in at
    most 2/5 seeds at any η``: where ``pair`` reached the target over one setting's grid."""
    who = "cross-entropy" if style.family(pair) == "cross-entropy" else "squared error"
    rows = at[at["pair"] == pair]
    if rows.empty:
        return f"{who} not run"
    total = rows.groupby("lr").size()
    reached = (seeds.done(rows)["steps_to_target"].notna().groupby(rows["lr"]).sum()
               .reindex(total.index, fill_value=0))
    full = total.index[reached == total]
    if len(full):
        return f"{who} reached it in every seed at η = {', '.join(value(v) for v in full)}"
    best = (reached / total).idxmax()
    if not reached[best]:
        return f"{who} reached it at no η"
    return f"{who} in at most {int(reached[best])}/{int(total[best])} seeds at any η"


FACTOR_CAPTION = ("the factor squared error trains with at η / u, its gradient at z over "
                  "cross-entropy's at the model's outputs on training examples (mean over "
                  "examples, with its 95 % band over seeds; and their 10th percentile, thin), "
                  "against its value u at a uniform output (dotted: 1/K softmax, 1/4 sigmoid); "
                  "dot: where it reached the target. Near u the lag is a step size that η / u "
                  "undoes; far below u, saturation. After the target the ratio falls "
                  "everywhere, as examples are fit confidently.")


def factor_panels(found: list[dict], curves: pd.DataFrame) -> list:
    """:func:`mechanism_figure` panels of :func:`setting` results: squared error at η/u, its
    mean factor and 10th percentile."""
    panels = []
    for f in found:
        run = f["runs"]["scaled"]
        title = f"{f['setting']}: squared error at η = {value(f['lr'] / f['u'])}"
        traces = [trace(f["table"], curves, run, f["pair"], c) for c in (FACTOR, LOW)] \
            if run else []
        panels.append((title, traces, f["u"]))
    return panels


def _time_mean(step: np.ndarray, value: np.ndarray) -> float:
    """The mean of ``value`` over the updates between the first and the last ``step``
    (trapezoids between evaluations, which are log-spaced); the value itself at one step."""
    if len(step) == 0:
        return np.nan
    if len(step) == 1 or step[-1] == step[0]:
        return float(value[0])
    return float(np.sum((value[1:] + value[:-1]) / 2 * np.diff(step)) / (step[-1] - step[0]))


def factor_share(table: pd.DataFrame, curves: pd.DataFrame, run: str | None,
                 column: str = FACTOR) -> dict:
    """The factor squared error trained with, over its uniform value u: per seed of ``run``
    (done), ``column`` (the mean over training examples, or ``train/grad_ratio_q10``) over u,
    averaged over its updates until test accuracy reached the target (all of them if it never
    did); 1 is the step-size prediction. Geometric mean and log interval over seeds
    (:func:`.aggregate.mean_ci`)."""
    values = []
    logged = run is not None and {column, UNIFORM} <= set(curves.columns)
    rows = seeds.done(table[table["run"] == run]) if logged else table.iloc[:0]
    for _, r in rows.iterrows():
        c = curves[(curves["run"] == run) & (curves["seed"] == r["seed"])]
        c = c.dropna(subset=[column, UNIFORM]).sort_values("step")
        if pd.notna(r["steps_to_target"]):
            c = c[c["step"] <= r["steps_to_target"]]
        values.append(_time_mean(c["step"].to_numpy(float),
                                 (c[column] / c[UNIFORM]).to_numpy(float)))
    return aggregate.mean_ci(values, log=True)


def factor(table: pd.DataFrame, curves: pd.DataFrame, run: str | None) -> tuple[float, float]:
    """(mean, 10th percentile) of the factor ``run`` trained with over u, each averaged until
    the target (:func:`factor_share`, geometric mean over seeds)."""
    return tuple(factor_share(table, curves, run, c)["mean"] for c in (FACTOR, LOW))


def saturated(q10: float) -> bool:
    """Whether the 10 % most saturated training examples passed back under
    :data:`SATURATED` of their uniform share: saturation, not a step size."""
    return bool(np.isfinite(q10) and q10 < SATURATED)


def factor_text(mean: float, q10: float, u: str) -> str:
    """What a :func:`factor` shows, in words, ``u`` its uniform value as text (``1/10``)."""
    if not np.isfinite(mean):
        return "not measured (no factor logged)"
    what = "saturation" if saturated(q10) else "a step-size effect, not saturation"
    return (f"{what}: squared error's measured factor averaged {number(mean)}× its uniform "
            f"value {u} until the target ({number(q10)}× on the 10 % most saturated training "
            "examples)")


@dataclass(frozen=True)
class Trace:
    """One run's factor in a :func:`mechanism_figure` panel: ``curves`` of its done seeds,
    the ``column`` drawn (with a band or not) at ``width``, and a dot at ``target``, the
    geometric mean of its steps to target (NaN: no seed reached it)."""

    curves: pd.DataFrame
    pair: str
    column: str = FACTOR
    width: float = THICK
    band: bool = True
    target: float = np.nan


def trace(table: pd.DataFrame, curves: pd.DataFrame, run: str, pair: str,
          column: str = FACTOR, x: str = "step") -> Trace:
    """A :class:`Trace` of ``run`` against ``x`` (step or epoch): its mean factor (thick,
    with a band and a dot at the target) or its 10th percentile (thin, without)."""
    reached = "steps_to_target" if x == "step" else "epochs_to_target"
    steps = aggregate.mean_ci(seeds.done(table[table["run"] == run])[reached],
                              log=True)["mean"]
    mean = column == FACTOR
    return Trace(seeds.done(curves[curves["run"] == run]), pair, column,
                 THICK if mean else THIN, mean, steps if mean else np.nan)


def mechanism_figure(panels: list[tuple[str, list[Trace], float]], ncols: int,
                     x: str = "step", xlabel: str = "mini-batch updates",
                     mean_label: str = "mean over training examples"):
    """The measured factor against ``x``, one panel per (title, traces, u), u a grey dotted
    line: geometric mean over seeds (with its 95 % band where the trace has one), log y;
    steps on :func:`.plots.steps_axis`; panels wrap into rows of ``ncols``."""
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True,
                             figsize=(3.6 * ncols + 0.8, 2.7 * nrows + 0.9))
    pairs, drawn, columns = set(), [], set()
    for ax, (title, traces, u) in zip(axes.flat, panels, strict=False):
        for t in traces:
            drawn.append(_trace(ax, t, x))
            pairs.add(t.pair)
            columns.add(t.column)
        drawn.append(plots.reference_lines(ax, [u]))
        ax.set_title(plots.wrap(title, 44), fontsize=8.5)
    for ax in axes.flat[len(panels):]:
        ax.remove()
    for ax in axes[:, 0]:
        ax.set_ylabel("‖∂ℓ_sq/∂z‖ / ‖∂ℓ_ce/∂z‖")
    for ax in axes.flat[max(len(panels) - ncols, 0):len(panels)]:
        ax.set_xlabel(xlabel)
        ax.xaxis.set_tick_params(labelbottom=True)
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylim(*plots.log_limits(pd.concat(drawn)))
    plots.log_ticks(axes[0, 0])
    if x == "step":
        first = min((t.curves.loc[t.curves["step"] > 0, "step"].min() for _, traces, _ in panels
                     for t in traces), default=1)
        plots.steps_axis(axes[0, 0], first if np.isfinite(first) else 1)
    extra = [Line2D([], [], color="0.3", lw=THICK, label=mean_label)]
    if LOW in columns:
        extra.append(Line2D([], [], color="0.3", lw=THIN, label="10th percentile"))
    extra += [Line2D([], [], color="0.3", lw=0, marker="o", ms=5,
                     label="reached the target (geometric mean)"),
              Line2D([], [], **plots.REFERENCE, label="u: its value at a uniform output")]
    plots.finish(fig, pairs, extra)
    return fig


def _trace(ax, t: Trace, x: str) -> pd.Series:
    """Draw one trace; return the means drawn (for the axis limits)."""
    if t.column not in t.curves:  # runs trained before the factor was logged
        return pd.Series(dtype=float)
    stats = aggregate.bands(t.curves.dropna(subset=[t.column]), [x], t.column, log=True)
    look = style.line(t.pair)
    ax.plot(stats[x], stats["mean"], lw=t.width, **look)
    if t.band:
        ax.fill_between(stats[x], stats["ci_low"], stats["ci_high"], color=look["color"],
                        alpha=0.15, lw=0)
    if np.isfinite(t.target) and len(stats):
        at = np.interp(t.target, stats[x], stats["mean"])
        ax.plot([t.target], [at], marker="o", ms=5, color=look["color"], lw=0)
    return stats["mean"]
