"""Figures: grids of curves (mean over seeds with a 95 % band), bars, parameter sweeps.

Every pair is drawn in its :mod:`.style`; every figure has a legend of its pairs on top. Curves
and axis limits come from seeds whose run finished without diverging: the caller passes only
those, and names the others in a panel's title and in the caption. A quantity that is not on
the others' scale (a sigmoid head's BCE, a sum over its K units; the squared error of the
rescaled loss's model, whose outputs aim at M) is drawn against its own axis on the right, so
that it does not flatten the others. Panels wrap into rows (:func:`rows_of`): no figure is
wider than 1800 px. A mean over only some of a run's seeds never looks like one over all
of them: its bar is pale, its point hollow, and it says how many.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from . import aggregate, style, titles
from .tables import value

LEGEND_INCHES = 0.35
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")  # 0.02, 100: not 2×10⁻²


@dataclass(frozen=True)
class Metric:
    """One logged quantity as a panel shows it. ``own_axis(pair)``: the pairs drawn against a
    second axis on the right (labelled ``own_label``); ``bounds``: where its band is clipped;
    ``reference``: a logged column whose values (one per head, e.g. the gradient ratio's at a
    uniform output) are drawn as grey dotted lines, named ``reference_label`` in the legend."""

    column: str
    label: str
    log: bool = False
    bounds: tuple[float, float] = (-np.inf, np.inf)
    own_axis: Callable[[str], bool] = lambda pair: False
    own_label: str = ""
    alone_label: str = ""  # the label when every pair of a panel is own_axis (drawn on the left)
    reference: str = ""
    reference_label: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    data: pd.DataFrame  # the curves of the seeds to draw, with "pair" and the x column
    metric: Metric
    note: str = ""  # e.g. which pairs diverged here
    target: float = np.nan  # a level to mark (the target accuracy), and where each mean meets it


MAX_COLUMNS = 5  # panels in a row: 5 of 2.8 inches at 100 dpi keep a figure under 1500 px


def rows_of(panels: list, ncols: int = MAX_COLUMNS) -> list[list]:
    """``panels`` wrapped into rows of at most ``ncols``, as even as can be (7: 4 and 3)."""
    if not panels:
        return []
    nrows = -(-len(panels) // ncols)
    size = -(-len(panels) // nrows)
    return [panels[i:i + size] for i in range(0, len(panels), size)]


def wrap(text: str, width: int = 38) -> str:
    """``text`` in lines of at most ``width`` characters, broken between words only (never
    inside a word, nor at its hyphen: "cross-entropy" stays whole)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False,
                                   break_on_hyphens=False)) if text else ""


def draw_bands(ax, df: pd.DataFrame, x: str, metric: Metric, pairs: list[str]) -> pd.DataFrame:
    """One line per pair: the mean over seeds and its 95 % t band (for a log axis: the
    geometric mean and the band of the logs). Returns what it drew: pair, ``x``, mean."""
    stats = aggregate.bands(df, ["pair", x], metric.column, log=metric.log)
    for pair in pairs:
        s = stats[stats["pair"] == pair]
        if s.empty:
            continue
        look = style.line(pair)
        ax.plot(s[x], s["mean"], lw=1.5, **look)
        low, high = (np.clip(s[k], *metric.bounds) for k in ("ci_low", "ci_high"))
        ax.fill_between(s[x], low, high, color=look["color"], label=look["label"], alpha=0.18,
                        lw=0)
    if metric.log:
        ax.set_yscale("log")
    return stats.loc[stats["pair"].isin(pairs), ["pair", x, "mean"]]


TARGET = {"color": style.NEUTRAL[0], "lw": 0.9, "ls": "--"}  # the target level's look


def target_line(ax, drawn: pd.DataFrame, x: str, target: float) -> None:
    """A dashed line at ``target`` and, on each pair's mean curve (``drawn``, from
    :func:`draw_bands`), a marker at the first ``x`` where it reaches the target."""
    ax.axhline(target, **TARGET)
    for pair, s in drawn.groupby("pair"):
        at = s.sort_values(x)
        at = at[at["mean"] >= target]
        if len(at):
            ax.plot(at[x].iloc[0], target, ls="none", marker=style.marker(pair), ms=6,
                    mfc=style.colour(pair), mec="white", mew=0.8, zorder=5)


def fraction(v: float) -> str:
    """``1/10`` for 0.1, ``1/4`` for 0.25: a reference value as the formula gives it."""
    return f"1/{round(1 / v)}" if v > 0 and abs(1 / v - round(1 / v)) < 1e-6 else f"{v:.3g}"


REFERENCE = {"color": style.NEUTRAL[1], "lw": 1, "ls": ":"}  # a reference line's look


def reference_lines(ax, values) -> pd.Series:
    """Grey dotted horizontal lines at ``values`` (NaN left out), each labelled at the panel's
    right edge; returns the values drawn, for the axis limits."""
    drawn = pd.Series(sorted(set(pd.Series(values, dtype=float).dropna())), dtype=float)
    for v in drawn:
        ax.axhline(v, **REFERENCE)
        ax.annotate(fraction(v), (0.99, v), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=7, color=style.NEUTRAL[1])
    return drawn


def log_ticks(ax) -> None:
    """Label a log y axis (its limits set) 0.02, 0.05, 0.1 (not 2×10⁻²), or only at powers of
    ten when it spans more than three decades."""
    low, high = ax.get_ylim()
    subs = (1.0,) if high / low > 1e3 else (1.0, 2.0, 5.0)
    ax.yaxis.set_major_locator(LogLocator(subs=subs))
    ax.yaxis.set_major_formatter(PLAIN)
    ax.yaxis.set_minor_formatter(NullFormatter())


def steps_axis(ax, first: float) -> None:
    """Mini-batch updates on a log scale from ``first`` on (linear below it, so step 0 shows
    at the left edge), ticks at the powers of ten within the axis (a tick beyond it costs as
    much to make as one drawn; one at 0 would crowd the one at ``first``)."""
    ax.set_xscale("symlog", linthresh=first, linscale=0.4)
    ax.autoscale_view(scaley=False)  # the margin beyond the last step: 5 % of this scale
    ax.set_xlim(left=0)
    last = math.floor(math.log10(max(ax.get_xlim()[1], first)))
    ax.xaxis.set_major_locator(FixedLocator([*(10 ** k for k in range(
        math.ceil(math.log10(first)), last + 1))]))
    ax.xaxis.set_major_formatter(PLAIN)


def panels_figure(panels: list[list[Panel]], x: str, xlabel: str, first_step: float | None):
    """A grid with one row per inner list, each row sharing its y axis (and every row of the
    same metric its limits: a block of facets under another); an ``x`` of steps gets
    :func:`steps_axis`. Axis limits span the mean curves (a band over two seeds can be far
    wider than any seed, and one seed can spike: both are cut at the axis), so nothing
    off-scale squeezes the rest."""
    ncols = max(len(row) for row in panels)
    width = 3.5 if ncols <= 4 else 2.8
    fig, axes = plt.subplots(len(panels), ncols, squeeze=False, sharex=True, sharey="row",
                             figsize=(width * ncols + 0.8, 2.7 * len(panels) + LEGEND_INCHES))
    for ax in axes.flat:  # until every band is drawn: see below
        ax.set_autoscale_on(False)
    pairs: set[str] = set()
    twins: set[int] = set()  # columns with a labelled axis on the right
    references: set[str] = set()  # the legend's names of the reference lines drawn
    targets = False
    scales: dict[str, list] = {}  # metric column: (axes, means) of each row that draws it
    for i, row in enumerate(panels):
        for j in range(len(row), ncols):
            axes[i, j].remove()
        means = []  # every mean drawn against this row's (shared) left axis
        rights = []  # (axis, means) of each right-hand axis of the row: they share limits too
        shown = ""  # the y label last written along the row
        for j, panel in enumerate(row):
            ax, m = axes[i, j], panel.metric
            data = panel.data.dropna(subset=[m.column])
            own = sorted(p for p in data["pair"].unique() if m.own_axis(p))
            main = [p for p in style.order(data["pair"].unique()) if p not in own]
            alone = bool(own) and not main  # every pair on its own scale: drawn on the left
            if alone:
                main, own = own, []
            drawn = draw_bands(ax, data[data["pair"].isin(main)], x, m, main)
            means.append(drawn["mean"])
            if np.isfinite(panel.target):
                target_line(ax, drawn, x, panel.target)
                targets = True
            if m.reference and m.reference in data:
                means.append(reference_lines(ax, data[m.reference]))
                references.add(m.reference_label)
            if own:
                right = ax.twinx()
                right.grid(False)
                theirs = data[data["pair"].isin(own)]
                rights.append((right, draw_bands(right, theirs, x, m, own)["mean"]))
                right.set_ylabel(wrap(m.own_label, 34), fontsize=8)
                twins.add(j)
            if data.empty:
                ax.text(0.5, 0.5, "no seed to draw", ha="center", va="center",
                        transform=ax.transAxes, color="0.4")
            pairs.update(data["pair"].unique())
            ax.set_title("\n".join(t for t in (wrap(panel.title, 44), wrap(panel.note, 44)) if t),
                         fontsize=8.5)
            label = wrap(m.alone_label or m.own_label, 34) if alone else m.label
            if label != shown:  # a label only where it changes along the row
                ax.set_ylabel(label)
                shown = label
            if i == len(panels) - 1 or len(panels[i + 1]) <= j:
                ax.set_xlabel(xlabel)
                ax.xaxis.set_tick_params(labelbottom=True)
        scales.setdefault(row[0].metric.column, []).append(([axes[i, 0]], pd.concat(means)))
        if rights:
            scales.setdefault("right " + row[0].metric.column, []).append(
                ([a for a, _ in rights], pd.concat([v for _, v in rights])))
    for column, drawn in scales.items():  # rows of one metric (in blocks of facets) share it
        metric = next(p.metric for row in panels for p in row
                      if p.metric.column == column.removeprefix("right "))
        shared = _limits(pd.concat([v for _, v in drawn]), metric)
        for ax in (ax for row_axes, _ in drawn for ax in row_axes):
            ax.set_ylim(*shared)
            if metric.log:
                log_ticks(ax)
    # x limits from all the data at once: left on, adding each band (a collection) would
    # autoscale every panel that shares the x axis again, a fifth of the grid's cost; the
    # y limits are the rows' own (above)
    for ax in fig.axes:
        ax.autoscale(axis="x")
    if x == "step" and first_step:
        steps_axis(axes[0, 0], first_step)  # and so every panel: they share the x axis
    extra = [Line2D([], [], **REFERENCE, label=name) for name in sorted(references) if name]
    if targets:
        extra += [Line2D([], [], **TARGET, label="target accuracy"),
                  Line2D([], [], ls="none", marker="o", ms=6, mfc=style.NEUTRAL[1], mec="white",
                         label="where a mean curve first reaches it")]
    _place(fig, axes, panels, legend(fig, pairs, extra), twins)
    return fig


# A panel grid's margins in inches, as tight_layout finds them for these grids: measuring
# every tick label of every panel costs as much as drawing the PNG.
LEFT, RIGHT, BOTTOM, GAP, TITLE_LINE = 0.85, 0.27, 0.59, 0.3, 0.16
RIGHT_AXIS = 0.62  # a twin axis's tick labels and its label (two lines), right of its panel


def _place(fig, axes, panels: list[list[Panel]], top: float, twins: set[int]) -> None:
    """Lay out the grid of :func:`panels_figure` under a legend ``top`` inches high: panels
    :data:`PANEL_HEIGHT` high, each row's gap above as tall as its own titles need (a block's
    first row has titles, the rows under it none), the figure as tall as that makes it."""
    width = fig.get_figwidth()
    nrows, ncols = axes.shape
    titles = [max(len(axes[i, j].get_title().splitlines()) for j in range(len(row)))
              for i, row in enumerate(panels)]
    inner_xlabel = [i < nrows - 1 and len(panels[i + 1]) < len(row)
                    for i, row in enumerate(panels)]
    inner_ylabel = any(axes[i, j].get_ylabel() for i, row in enumerate(panels)
                       for j in range(1, len(row)))
    right = RIGHT + (RIGHT_AXIS if ncols - 1 in twins else 0)
    wspace = GAP + 0.1 * inner_ylabel + RIGHT_AXIS * bool(twins - {ncols - 1})
    panel_w = (width - LEFT - right - wspace * (ncols - 1)) / ncols
    above = [top + 0.18 + TITLE_LINE * titles[0],
             *(GAP + TITLE_LINE * titles[i] + (BOTTOM - 0.1) * inner_xlabel[i - 1]
               for i in range(1, nrows))]
    height = sum(above) + nrows * PANEL_HEIGHT + BOTTOM
    fig.set_size_inches(width, height)
    y = height
    for i in range(nrows):
        y -= above[i] + PANEL_HEIGHT
        for j in range(len(panels[i])):
            axes[i, j].set_position([(LEFT + j * (panel_w + wspace)) / width, y / height,
                                     panel_w / width, PANEL_HEIGHT / height])


PANEL_HEIGHT = 2.08  # inches: a panel of a grid


def _limits(values: pd.Series, metric: Metric) -> tuple[float, float]:
    """Y limits that hold every finite value with a 5 % margin (on a log axis, 5 % of the
    decades), within the metric's bounds; a share starts at 0 and shows at least 0 to 0.05."""
    v = values[np.isfinite(values) & ((values > 0) if metric.log else True)]
    if v.empty:
        return (0.1, 10) if metric.log else (0, 1)
    lo, hi = float(v.min()), float(v.max())
    if metric.log:
        pad = (hi / lo) ** 0.05 if hi > lo else 2.0
        return lo / pad, hi * pad
    pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1)
    lo, hi = max(lo - pad, metric.bounds[0]), min(hi + pad, metric.bounds[1])
    if metric.bounds[0] == 0:  # a share
        lo, hi = 0, max(hi, 0.05)
    return lo, hi


def log_limits(values: pd.Series) -> tuple[float, float]:
    """Log-axis limits that hold every positive finite value, 5 % of the decades beyond."""
    return _limits(values, Metric("", "", log=True))


def legend(fig, pairs, extra=(), bars: bool = False) -> float:
    """A legend of ``pairs`` (and ``extra`` handles) across the top, in as many rows as the
    figure's width needs; returns the height it takes, in inches."""
    handles = [*style.handles(pairs, bars), *extra]
    if not handles:
        return 0.0
    ncol = min(len(handles), max(2, int(fig.get_figwidth() / 2.2)))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=ncol,
               frameon=False)
    return 0.1 + 0.25 * -(-len(handles) // ncol)


def finish(fig, pairs, extra=(), bars: bool = False) -> None:
    """:func:`legend`, then lay the figure out under it."""
    top = legend(fig, pairs, extra, bars)
    fig.tight_layout(rect=(0, 0, 1, 1 - top / fig.get_figheight()))


def errors(stats: pd.DataFrame):
    """``yerr`` (or ``xerr``) from each row's mean to the ends of its 95 % interval
    (columns mean, ci_low, ci_high), 0 where it has none (one seed, or no mean)."""
    return np.nan_to_num(np.vstack([stats["mean"] - stats["ci_low"],
                                    stats["ci_high"] - stats["mean"]]))


PARTIAL_ALPHA = 0.35  # a bar or point that stands on fewer seeds than ran: paler


def bars(rows: pd.DataFrame, labels: list[str], xlabel: str):
    """One horizontal bar per run (``rows`` from :func:`aggregate.by_run`): the mean and its
    interval in the pair's look. A mean over only some of the run's seeds (the others did not
    reach it, or diverged) is pale and says how many at its end; a run with no mean gets a
    cross and says why (not reached, diverged). An interval far beyond the longest bar is cut
    at the axis with an arrow and its end written there."""
    rows = rows.iloc[style.ranks(rows["pair"])]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2 + LEGEND_INCHES))
    y = np.arange(len(rows))[::-1]
    longest = np.nanmax(rows["mean"]) if rows["mean"].notna().any() else 1.0
    ends = rows["ci_high"][rows["ci_high"] <= CLIP * longest]
    right = 1.12 * max(longest, ends.max() if len(ends) else 0)
    ax.set_xlim(0, right)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    partial = False
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        n, total = int(r["n"]), int(r["seeds"])
        lost = ", ".join(f"{s} {int(r[s])}/{total}" for s in ("diverged", "failed")
                         if r.get(s, 0))
        if pd.isna(r["mean"]):
            ax.plot(0.015 * right, yi, marker="x", ms=7, mew=1.5, color=style.colour(r["pair"]))
            ax.text(0.04 * right, yi, lost or f"not reached by any of {total} seeds",
                    va="center", fontsize=8, color="0.2")
            continue
        look = style.bar(r["pair"])
        if n < total:
            look["alpha"] = PARTIAL_ALPHA
            partial = True
        drawn = ax.barh(yi, r["mean"], **look)
        drawn.patches[0].set_label(style.TAG + r["pair"])
        end = r["mean"]
        if pd.notna(r["ci_low"]):
            high = min(r["ci_high"], right)
            ax.errorbar(r["mean"], yi, xerr=[[r["mean"] - max(r["ci_low"], 0)],
                                              [high - r["mean"]]],
                        ecolor="0.2", capsize=2 if high == r["ci_high"] else 0, lw=1)
            end = high
            if r["ci_high"] > right:
                ax.annotate(f"to {r['ci_high']:.0f}", (right, yi), xytext=(-3, 4),
                            textcoords="offset points", ha="right", va="bottom", fontsize=7,
                            color="0.2", arrowprops=None)
                ax.plot(right, yi, marker=">", ms=5, color="0.2", clip_on=False)
        if n < total:
            ax.text(end + 0.01 * right, yi, f"{n}/{total} reached" + (f", {lost}" if lost else ""),
                    va="center", fontsize=7.5, color="0.2")
    names = [" · ".join([r["pair"], *([titles.words(r, labels)] if labels else [])])
             for _, r in rows.iterrows()]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    extra = [Patch(facecolor=style.NEUTRAL[1], alpha=PARTIAL_ALPHA,
                   label="pale: a mean over only the seeds that reached it")] if partial else []
    finish(fig, rows["pair"], extra, bars=True)
    return fig


CLIP = 3.0  # an interval reaching past this many times the longest bar is cut at the axis


def sweep(panels: list[tuple[pd.DataFrame, str, str]], column: str, xlabel: str):
    """Each pair's mean (and 95 % interval) against the swept ``column``, one panel per
    (rows from :func:`aggregate.by_run`, y label, what an averaged seed did, e.g. "reached").
    A point over only some of its seeds is hollow, joined by a pale line and says how many;
    a point with no seed to average is a cross at the top of the panel that says why."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4 + LEGEND_INCHES),
                             squeeze=False)
    pairs: set[str] = set()
    partial = False
    for ax, (df, ylabel, averaged) in zip(axes[0], panels, strict=True):
        missing = []
        for pair in style.order(df["pair"]):
            s = df[df["pair"] == pair].sort_values(column)
            look = style.line(pair)
            full = (s["n"] == s["seeds"]).to_numpy()
            xs, ms = s[column].to_numpy(), s["mean"].to_numpy()
            for k in range(len(s) - 1):  # each segment: pale if it ends at a partial point
                ax.plot(xs[k:k + 2], ms[k:k + 2], lw=1.5, color=look["color"],
                        ls=look["linestyle"], alpha=1 if full[k] and full[k + 1] else
                        PARTIAL_ALPHA)
            ax.errorbar(xs, ms, yerr=errors(s), ls="none", capsize=2, color=look["color"],
                        label=look["label"])
            ax.plot(xs[full], ms[full], ls="none", marker=style.marker(pair), ms=4,
                    color=look["color"])
            ax.plot(xs[~full], ms[~full], ls="none", marker=style.marker(pair), ms=6,
                    mfc="white", mec=look["color"], mew=1.3)
            pairs.add(pair)
            last = df[column].max()
            for _, r in s[~full & s["mean"].notna().to_numpy()].iterrows():
                partial = True  # written to the point's right; at the last x, to its left
                ax.annotate(_counts(r, averaged), (r[column], r["mean"]),
                            xytext=(-7, 4) if r[column] == last else (6, 3),
                            ha="right" if r[column] == last else "left",
                            textcoords="offset points", fontsize=7.5, color="0.2")
            missing += [(r[column], pair, _counts(r, averaged))
                        for _, r in s[s["mean"].isna()].iterrows()]
        ax.set_xscale("log")
        ax.set_xticks(sorted(df[column].unique()), [value(v) for v in sorted(df[column].unique())])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        crosses(ax, missing)
    extra = [HOLLOW] if partial else []
    extra += [CROSS] if any(df["mean"].isna().any() for df, _, _ in panels) else []
    finish(fig, pairs, extra)
    return fig


HOLLOW = Line2D([], [], ls="none", marker="o", ms=6, mfc="white", mec=style.NEUTRAL[1],
                label="hollow: a mean over only some seeds")
CROSS = Line2D([], [], ls="none", marker="x", ms=7, mew=1.5, color=style.NEUTRAL[1],
               label="no seed to average (its seeds counted below it)")


ROW = 0.17  # of a panel's height: a pair's row of crosses and the counts under them


def crosses(ax, missing: list[tuple[float, str, str]]) -> None:
    """For each (x, pair, what its seeds did) of a point with no mean, a cross in the pair's
    colour at the top of the panel, inside the axes, the counts beneath it (a row per pair)."""
    if not missing:
        return
    low, high = ax.get_ylim()
    rows = style.order({pair for _, pair, _ in missing})
    if ax.get_yscale() == "log":
        ax.set_ylim(low, high * (high / low) ** (0.1 + ROW * len(rows)))
    else:
        ax.set_ylim(low, high + (0.1 + ROW * len(rows)) * (high - low))
    top = ax.get_xaxis_transform()
    for at, pair, why in missing:
        height = 0.95 - ROW * rows.index(pair)
        ax.plot(at, height, marker="x", ms=7, mew=1.5, color=style.colour(pair), transform=top)
        ax.annotate(why, (at, height), xycoords=top, xytext=(0, -6), textcoords="offset points",
                    ha="center", va="top", fontsize=7, color="0.2")


def _counts(r, averaged: str) -> str:
    """``1/5 reached``, ``diverged 5/5``: what a point's seeds did (for a point with no mean,
    in two short lines: ``0/5`` over ``reached``, or how many diverged)."""
    why = [f"{k} {int(r[k])}/{int(r['seeds'])}" for k in ("diverged", "failed") if r[k]]
    if pd.isna(r["mean"]):
        return "\n".join(why) or f"{int(r['n'])}/{int(r['seeds'])}\n{averaged}".strip()
    return ", ".join([f"{int(r['n'])}/{int(r['seeds'])} {averaged}".strip(), *why])
