"""Figures: grids of curves (mean over seeds with a 95 % band), bars, parameter sweeps.

Every pair is drawn in its :mod:`.style`; every figure has a legend of its pairs on top. Curves
and axis limits come from seeds whose run finished without diverging: the caller passes only
those, and names the others in a panel's title and in the caption. A quantity that is not on
the others' scale (the rescaled loss's squared error, whose targets are M rather than 1) is
drawn against its own axis on the right, so that it does not flatten the others.
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
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from . import aggregate, style
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
    reference: str = ""
    reference_label: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    data: pd.DataFrame  # the curves of the seeds to draw, with "pair" and the x column
    metric: Metric
    note: str = ""  # e.g. which pairs diverged here


def wrap(text: str, width: int = 38) -> str:
    """``text`` in lines of at most ``width`` characters, broken between words only (never
    inside a word, nor at its hyphen: "cross-entropy" stays whole)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False,
                                   break_on_hyphens=False)) if text else ""


def draw_bands(ax, df: pd.DataFrame, x: str, metric: Metric, pairs: list[str]) -> pd.Series:
    """One line per pair: the mean over seeds and its 95 % t band (for a log axis: the
    geometric mean and the band of the logs). Returns the means drawn."""
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
    return stats.loc[stats["pair"].isin(pairs), "mean"]


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
    """Mini-batch updates on a log scale from ``first`` on (linear below it, so step 0 shows),
    ticks at 0 and at the powers of ten within the axis (a tick beyond it costs as much to
    make as one drawn)."""
    ax.set_xscale("symlog", linthresh=first, linscale=0.4)
    ax.autoscale_view(scaley=False)  # the margin beyond the last step: 5 % of this scale
    ax.set_xlim(left=0)
    last = math.floor(math.log10(max(ax.get_xlim()[1], first)))
    ax.xaxis.set_major_locator(FixedLocator([0, *(10 ** k for k in range(
        math.ceil(math.log10(first)), last + 1))]))
    ax.xaxis.set_major_formatter(PLAIN)


def panels_figure(panels: list[list[Panel]], x: str, xlabel: str, first_step: float | None):
    """A grid with one row per inner list, each row sharing its y axis; an ``x`` of steps gets
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
    for i, row in enumerate(panels):
        for j in range(len(row), ncols):
            axes[i, j].remove()
        means = []  # every mean drawn against this row's (shared) left axis
        for j, panel in enumerate(row):
            ax, m = axes[i, j], panel.metric
            data = panel.data.dropna(subset=[m.column])
            own = sorted(p for p in data["pair"].unique() if m.own_axis(p))
            main = [p for p in style.order(data["pair"].unique()) if p not in own]
            means.append(draw_bands(ax, data[data["pair"].isin(main)], x, m, main))
            if m.reference and m.reference in data:
                means.append(reference_lines(ax, data[m.reference]))
                references.add(m.reference_label)
            if own:
                right = ax.twinx()
                right.grid(False)
                theirs = data[data["pair"].isin(own)]
                right.set_ylim(*_limits(draw_bands(right, theirs, x, m, own), m))
                if m.log:
                    log_ticks(right)
                right.set_ylabel(m.own_label, fontsize=8)
                twins.add(j)
            if data.empty:
                ax.text(0.5, 0.5, "no seed to draw", ha="center", va="center",
                        transform=ax.transAxes, color="0.4")
            pairs.update(data["pair"].unique())
            ax.set_title("\n".join(t for t in (wrap(panel.title), wrap(panel.note, 44)) if t),
                         fontsize=8.5)
            if j == 0 or m.label != row[j - 1].metric.label:
                ax.set_ylabel(m.label)
            if i == len(panels) - 1 or len(panels[i + 1]) <= j:
                ax.set_xlabel(xlabel)
                ax.xaxis.set_tick_params(labelbottom=True)
        axes[i, 0].set_ylim(*_limits(pd.concat(means), row[0].metric))  # the row's, shared
        if row[0].metric.log:
            log_ticks(axes[i, 0])
    # x limits from all the data at once: left on, adding each band (a collection) would
    # autoscale every panel that shares the x axis again, a fifth of the grid's cost; the
    # y limits are the rows' own (above)
    for ax in fig.axes:
        ax.autoscale(axis="x")
    if x == "step" and first_step:
        steps_axis(axes[0, 0], first_step)  # and so every panel: they share the x axis
    extra = [Line2D([], [], **REFERENCE, label=name) for name in sorted(references) if name]
    _place(fig, axes, panels, legend(fig, pairs, extra), twins)
    return fig


# A panel grid's margins in inches, as tight_layout finds them for these grids: measuring
# every tick label of every panel costs as much as drawing the PNG.
LEFT, RIGHT, BOTTOM, GAP, TITLE_LINE = 0.85, 0.27, 0.59, 0.3, 0.16
RIGHT_AXIS = 0.48  # a twin axis's tick labels and label, to the right of its panel


def _place(fig, axes, panels: list[list[Panel]], top: float, twins: set[int]) -> None:
    """Lay out the grid of :func:`panels_figure` under a legend ``top`` inches high."""
    width, height = fig.get_size_inches()
    nrows, ncols = axes.shape
    titles = [max(len(axes[i, j].get_title().splitlines()) for j in range(len(row)))
              for i, row in enumerate(panels)]
    inner_xlabel = any(len(panels[i + 1]) < len(row) for i, row in enumerate(panels[:-1]))
    inner_ylabel = any(axes[i, j].get_ylabel() for i, row in enumerate(panels)
                       for j in range(1, len(row)))
    left, bottom = LEFT, BOTTOM
    right = RIGHT + (RIGHT_AXIS if ncols - 1 in twins else 0)
    top += 0.18 + TITLE_LINE * titles[0]
    wspace = GAP + 0.1 * inner_ylabel + RIGHT_AXIS * bool(twins - {ncols - 1})
    hspace = GAP + TITLE_LINE * max(titles[1:], default=0) + (BOTTOM - 0.1) * inner_xlabel
    panel_w = (width - left - right - wspace * (ncols - 1)) / ncols
    panel_h = (height - top - bottom - hspace * (nrows - 1)) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace / panel_w, hspace=hspace / panel_h)


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


def bars(rows: pd.DataFrame, labels: list[str], xlabel: str):
    """One horizontal bar per run (``rows`` from :func:`aggregate.by_run`): the mean and its
    interval in the pair's look; a run with no mean says why (not reached, diverged)."""
    rows = rows.iloc[style.ranks(rows["pair"])]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2 + LEGEND_INCHES))
    y = np.arange(len(rows))[::-1]
    top = np.nanmax(rows["ci_high"].fillna(rows["mean"])) if rows["mean"].notna().any() else 1
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        if pd.notna(r["mean"]):
            err = None
            if pd.notna(r["ci_low"]):
                err = [[r["mean"] - max(r["ci_low"], 0)], [r["ci_high"] - r["mean"]]]
            drawn = ax.barh(yi, r["mean"], xerr=err, ecolor="0.2", capsize=2,
                            **style.bar(r["pair"]))
            drawn.patches[0].set_label(style.TAG + r["pair"])
        else:
            why = ", ".join(f"{s} {int(r[s])}/{int(r['seeds'])}" for s in ("diverged", "failed")
                            if r.get(s, 0))
            ax.text(0.01 * top, yi, why or f"not reached ({int(r['n'])}/{int(r['seeds'])})",
                    va="center", fontsize=8, color="0.3")
    names = [" · ".join([r["pair"], *(f"{c}={value(r[c])}" for c in labels)])
             + (f" ({int(r['n'])}/{int(r['seeds'])})" if 0 < r["n"] < r["seeds"] else "")
             for _, r in rows.iterrows()]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    finish(fig, rows["pair"], bars=True)
    return fig


def sweep(panels: list[tuple[pd.DataFrame, str, str]], column: str, xlabel: str):
    """Each pair's mean (and 95 % interval) against the swept ``column``, one panel per
    (rows from :func:`aggregate.by_run`, y label, what an averaged seed did, e.g. "reached");
    a missing point is named in the panel's title."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4 + LEGEND_INCHES),
                             squeeze=False)
    pairs: set[str] = set()
    for ax, (df, ylabel, averaged) in zip(axes[0], panels, strict=True):
        missing = []
        for pair in style.order(df["pair"]):
            s = df[df["pair"] == pair].sort_values(column)
            ax.errorbar(s[column], s["mean"], yerr=errors(s), marker=style.marker(pair),
                        ms=4, capsize=2, lw=1.5, **style.line(pair))
            pairs.add(pair)
            for _, r in s[s["mean"].isna()].iterrows():  # no seed to average: say so
                why = [f"{k} {int(r[k])}" for k in ("diverged", "failed") if r[k]]
                counts = why or [f"{averaged} {int(r['n'])}".strip()]
                missing.append(f"{pair} at {value(r[column])}: "
                               + ", ".join(f"{c}/{int(r['seeds'])}" for c in counts))
        if missing:
            ax.set_title(wrap("no point: " + "; ".join(missing), 60), fontsize=8)
        ax.set_xscale("log")
        ax.set_xticks(sorted(df[column].unique()), [value(v) for v in sorted(df[column].unique())])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    finish(fig, pairs)
    return fig


